"""The ASGI entry point: HTTP through Django, websockets through Channels."""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hatchet.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from hatchet.auth import CallerMiddlewareStack  # noqa: E402
from hatchet.concurrency import remember_main_loop  # noqa: E402
from hatchet.routing import websocket_urlpatterns  # noqa: E402
from workers.dispatch import dispatcher  # noqa: E402
from workflows.ticker import start_in_process_ticker  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": CallerMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    # Daphne has no lifespan events: the background loops start with the first
    # connection, which `manage.py dev` and load balancers' health checks provide.
    remember_main_loop()
    dispatcher.start()
    start_in_process_ticker()
    return await router(scope, receive, send)
