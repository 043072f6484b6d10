"""The Django project's own app: tenants, members, tokens and auth."""

from django.apps import AppConfig


class HatchetConfig(AppConfig):
    name = "hatchet"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hatchet import (
            celery,  # noqa: F401  (binds shared tasks to our app)
            deployment,  # noqa: F401  (registers its checks)
        )
        from hatchet.caller_events import announce_deletions
        from hatchet.metrics import TASK_OUTCOME_COLLECTOR, register_collector
        from hatchet.tracing import configure_tracing

        announce_deletions()
        register_collector(TASK_OUTCOME_COLLECTOR)
        configure_tracing()
