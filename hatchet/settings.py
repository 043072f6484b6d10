"""Settings, read once from the environment with embedded defaults.

No DATABASE_URL/REDIS_URL: SQLite, the in-memory channel layer, eager Celery and
the in-process ticker. With them: PostgreSQL, Redis channels and Celery workers.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HATCHET_DATA_DIR", BASE_DIR / ".hatchet"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-dev-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "hatchet",
    "workflows",
    "workers",
    "playground",
]

MIDDLEWARE = [
    "hatchet.edge.RefuseUnstorableURLs",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hatchet.urls"
ASGI_APPLICATION = "hatchet.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # A pooled connection is checked as it is handed out: after a database restart
        # or pg_terminate_backend the pool holds dead connections, and a request given
        # one would fail.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        # ASGI runs each request in a fresh thread, and Django's connections are per
        # thread: without a pool every request would open a new connection.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["pool"] = {
            "min_size": int(os.environ.get("HATCHET_DB_POOL_MIN", 2)),
            "max_size": int(os.environ.get("HATCHET_DB_POOL_MAX", 20)),
            "timeout": 10,
        }
        # Parameters bound by the server, not quoted into the text by the client: the
        # hot path's statements are then prepared once per connection and not parsed
        # and planned on every execution.
        options["server_side_binding"] = True
        # "off" behind a pooler in transaction mode, whose connections change under us.
        threshold = os.environ.get("HATCHET_DB_PREPARE_THRESHOLD", "2")
        options["prepare_threshold"] = None if threshold == "off" else int(threshold)
else:
    # The embedded database lives in the data directory, which a fresh checkout lacks.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend, with a process's writers taking turns on one lock.
            "ENGINE": "hatchet.sqlite",
            "NAME": os.environ.get("HATCHET_SQLITE_PATH", str(DATA_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
                # busy timeout instead of failing to upgrade a read lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
                ),
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    # Channels' default capacity (100 messages a channel) drops a slow viewer's stream
    # chunks during a burst; the dashboard refills gaps, but need not have to.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000},
        }
    }

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker that lost Redis tries again forever: Celery's default gives up after 100
# tries (about 45 minutes of an outage) and the worker exits.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# The dashboard's build (npm run build in frontend/).
HATCHET_FRONTEND_DIR = Path(os.environ.get("HATCHET_FRONTEND_DIR", BASE_DIR / "frontend" / "dist"))
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "build" / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hatchet.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["hatchet.auth.IsTenantMember"],
    "DEFAULT_SCHEMA_CLASS": "hatchet.schema.HatchetAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "hatchet.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "hatchet.api.json_error_handler",
    "DEFAULT_PARSER_CLASSES": ["hatchet.edge.JSONBodyParser"],
    "DEFAULT_METADATA_CLASS": "hatchet.edge.ResourceMetadata",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hatchet API",
    "DESCRIPTION": "Workflows, runs, events, workers and the prompt playground.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH takes what its serializer requires (ours are no partial updates).
    "COMPONENT_SPLIT_PATCH": False,
    # The docs page works offline: its assets are served from the sidecar package.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Largest request body or websocket message accepted, in bytes.
HATCHET_MAX_MESSAGE_BYTES = int(os.environ.get("HATCHET_MAX_MESSAGE_BYTES", 4 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = HATCHET_MAX_MESSAGE_BYTES
# Seconds between worker heartbeats, and of silence after which a worker is dead (keep
# it above the SDK's longest reconnect backoff, 5 s, so a restart costs no worker).
HATCHET_HEARTBEAT_INTERVAL = env_float("HATCHET_HEARTBEAT_INTERVAL", 4.0)
HATCHET_WORKER_TIMEOUT = env_float("HATCHET_WORKER_TIMEOUT", 15.0)
# Seconds a worker whose socket closed without a drain has to reconnect before what it
# held goes back to the queue (the SDK's first reconnect comes within 0.1 s).
HATCHET_RECONNECT_GRACE = env_float("HATCHET_RECONNECT_GRACE", 0.75)
# Seconds an assignment may wait for its step.started before it is queued again.
HATCHET_ASSIGN_START_TIMEOUT = env_float("HATCHET_ASSIGN_START_TIMEOUT", 15.0)
# Times a step run may be queued again because its worker vanished (a poison step
# that kills every worker must end).
HATCHET_MAX_REQUEUES = int(os.environ.get("HATCHET_MAX_REQUEUES", 5))
# Seconds between passes of the periodic engine work (timeouts, dead workers).
HATCHET_TICK_INTERVAL = env_float("HATCHET_TICK_INTERVAL", 1.0)
# Most events one push may carry (POST /api/v1/events with {"events": [...]}).
HATCHET_MAX_EVENTS_PER_BATCH = int(os.environ.get("HATCHET_MAX_EVENTS_PER_BATCH", 1000))
# The in-process ticker runs in the server unless Celery beat drives the engine.
HATCHET_IN_PROCESS_TICKER = env_bool("HATCHET_IN_PROCESS_TICKER", not REDIS_URL)
# Threads per server process for the database work of worker sockets and dispatch.
HATCHET_DB_THREADS = int(os.environ.get("HATCHET_DB_THREADS", 4))
# Seconds a dispatcher waits for a wake-up before looking at the queue anyway.
HATCHET_DISPATCH_POLL_INTERVAL = env_float("HATCHET_DISPATCH_POLL_INTERVAL", 1.0)
# Where the dashboard and API are reached from outside; pull requests link back to it.
HATCHET_PUBLIC_URL = os.environ.get("HATCHET_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/")
# GitHub, for pull requests from the playground: the API base (GitHub Enterprise:
# https://host/api/v3), the token used when a tenant's connection stores none, and the
# key that encrypts stored tokens and webhook secrets (derived from SECRET_KEY unless set).
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
HATCHET_ENCRYPTION_KEY = os.environ.get("HATCHET_ENCRYPTION_KEY", "") or SECRET_KEY
# Attempts at a pull request when GitHub fails transiently (5xx, rate limits), and the
# longest wait between two, in seconds.
HATCHET_GITHUB_MAX_ATTEMPTS = int(os.environ.get("HATCHET_GITHUB_MAX_ATTEMPTS", 5))
HATCHET_GITHUB_MAX_RETRY_DELAY = env_float("HATCHET_GITHUB_MAX_RETRY_DELAY", 300.0)
# Seconds between two writes to GitHub, as GitHub asks of integrations.
HATCHET_GITHUB_WRITE_INTERVAL = env_float("HATCHET_GITHUB_WRITE_INTERVAL", 1.0)
# Seconds between looks at open pull requests (merged? closed?), beside the webhook.
HATCHET_GITHUB_REFRESH_INTERVAL = env_float("HATCHET_GITHUB_REFRESH_INTERVAL", 300.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HATCHET_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Celery beat drives the periodic engine work in production: crons and schedules due,
# deadlines passed and dead workers. A tick not taken up within a few intervals
# expires rather than piling up behind a stopped worker (the next one does its work).
CELERY_BEAT_SCHEDULE = {
    "fire-triggers": {
        "task": "hatchet.fire_triggers",
        "schedule": HATCHET_TICK_INTERVAL,
        "options": {"expires": max(5 * HATCHET_TICK_INTERVAL, 2.0)},
    },
    "engine-tick": {
        "task": "hatchet.engine_tick",
        "schedule": HATCHET_TICK_INTERVAL,
        "options": {"expires": max(5 * HATCHET_TICK_INTERVAL, 2.0)},
    },
    # The fallback to GitHub's webhook for the state of opened pull requests.
    "refresh-pull-requests": {
        "task": "playground.refresh_pull_requests",
        "schedule": HATCHET_GITHUB_REFRESH_INTERVAL,
        "options": {"expires": HATCHET_GITHUB_REFRESH_INTERVAL},
    },
}
