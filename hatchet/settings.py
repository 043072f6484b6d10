"""Settings, read once from the environment with embedded defaults.

No DATABASE_URL/REDIS_URL: SQLite, the in-memory channel layer, eager Celery and
the in-process ticker. With them: PostgreSQL, Redis channels and Celery workers.
"""

import ipaddress
import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("HATCHET_DATA_DIR", BASE_DIR / ".hatchet"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_networks(name: str) -> list[str]:
    """Comma-separated IP networks; a value that is not one stops the start."""
    networks = [network.strip() for network in os.environ.get(name, "").split(",")]
    for network in filter(None, networks):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(f"{name}: {error}") from None
    return [network for network in networks if network]


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
# Public, so it signs nothing in production: a server, engine or Celery process with
# DEBUG off refuses to start on it (hatchet/deployment.py); `manage.py dev` gives its
# processes a key of their own.
HATCHET_DEV_SECRET_KEY = "insecure-dev-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "") or HATCHET_DEV_SECRET_KEY
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# HTTPS, switched on in production (docs/security.md, "Production checklist").
# Cookies sent over HTTPS only:
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("HATCHET_SECURE_COOKIES", False)
# Browsers told to come back over HTTPS only, for this long (seconds):
SECURE_HSTS_SECONDS = int(os.environ.get("HATCHET_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HATCHET_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("HATCHET_HSTS_PRELOAD", False)
# Plain HTTP redirected to HTTPS, except the health checks a load balancer makes over
# plain HTTP:
SECURE_SSL_REDIRECT = env_bool("HATCHET_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Behind a proxy that terminates TLS: its X-Forwarded-Proto, -Host and -For are
# believed. Only then, as any client can send them.
HATCHET_TRUST_PROXY_HEADERS = env_bool("HATCHET_TRUST_PROXY_HEADERS", False)
if HATCHET_TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

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
    "alerts",
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
        # Django's backend, settling a commit that a broken connection leaves in doubt.
        DATABASES["default"]["ENGINE"] = "hatchet.postgresql"
        # A pooled connection is checked as it is handed out (hatchet/postgresql's pool,
        # with check_pooled_connection instead of CONN_HEALTH_CHECKS' round trip each
        # time): after a database restart or pg_terminate_backend the pool holds dead
        # connections, and a request given one would fail.
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
# Remote control (`celery inspect`, `celery control`), like gossip and mingle (off with
# the worker's --without-gossip --without-mingle), subscribes to Redis pub/sub; a Redis
# restart with a task in flight made kombu's reconnection fail there and the worker
# exit (the fault suite saw it on every Celery worker). Without them it reconnects.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# A worker that lost Redis tries again forever: Celery's default gives up after 100
# tries (about 45 minutes of an outage) and the worker exits.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# Password checks are throttled wherever they happen (hatchet/throttling.py).
AUTHENTICATION_BACKENDS = ["hatchet.throttling.ThrottledModelBackend"]
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
    # A member's roles and a token's (which add the worker scope) are two enums.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "hatchet.models.Role",
        "TokenRoleEnum": "hatchet.models.TokenRole",
        "OverviewWindowEnum": "workflows.engine.overview.WINDOWS",
        "AlertKindEnum": "alerts.models.AlertKind",
        "AlertEventKindEnum": "alerts.models.AlertEventKind",
        "AlertRuleStateEnum": "alerts.models.AlertState",
        "AlertDeliveryStatusEnum": "alerts.models.DeliveryStatus",
    },
}

# The cache holds the throttles' counters: in Redis, shared by every server process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hatchet",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Failed sign-ins allowed per username and client address, sign-in attempts per client
# address, and event pushes (requests) per API token or user: N/s, N/min or N/hour, or
# "off". Over them the answer is 429 with Retry-After.
HATCHET_SIGN_IN_RATE = os.environ.get("HATCHET_SIGN_IN_RATE", "5/min")
HATCHET_SIGN_IN_ADDRESS_RATE = os.environ.get("HATCHET_SIGN_IN_ADDRESS_RATE", "30/min")
HATCHET_EVENT_PUSH_RATE = os.environ.get("HATCHET_EVENT_PUSH_RATE", "1000/s")

# Days an invitation to a tenant may be accepted.
HATCHET_INVITATION_DAYS = env_float("HATCHET_INVITATION_DAYS", 7.0)

# Largest request body or websocket message accepted, in bytes.
HATCHET_MAX_MESSAGE_BYTES = int(os.environ.get("HATCHET_MAX_MESSAGE_BYTES", 4 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = HATCHET_MAX_MESSAGE_BYTES
# The bearer token Prometheus scrapes /metrics with; unset, /metrics answers 503.
HATCHET_METRICS_TOKEN = os.environ.get("HATCHET_METRICS_TOKEN", "")
# Seconds between worker heartbeats, and of silence after which a worker is dead (keep
# it above the SDK's longest reconnect backoff, 5 s, so a restart costs no worker).
HATCHET_HEARTBEAT_INTERVAL = env_float("HATCHET_HEARTBEAT_INTERVAL", 4.0)
HATCHET_WORKER_TIMEOUT = env_float("HATCHET_WORKER_TIMEOUT", 15.0)
# Seconds a worker whose socket closed without a drain has to reconnect before what it
# held goes back to the queue (the SDK's first reconnect comes within 0.1 s).
HATCHET_RECONNECT_GRACE = env_float("HATCHET_RECONNECT_GRACE", 0.75)
# Seconds between an open socket's own reads of its caller (token, membership, role): a
# revocation is announced to the sockets at once through the channel layer, and this
# catches one whose announcement was lost (Redis was down).
HATCHET_CALLER_RECHECK_INTERVAL = env_float("HATCHET_CALLER_RECHECK_INTERVAL", 30.0)
# Seconds between the re-reads of the runs a live page watches (with Redis): an update
# published while Redis was down is lost, and a page gets what it missed at the next.
HATCHET_LIVE_REREAD_INTERVAL = env_float("HATCHET_LIVE_REREAD_INTERVAL", 15.0)
# Seconds an assignment may wait for its step.started before it is queued again.
HATCHET_ASSIGN_START_TIMEOUT = env_float("HATCHET_ASSIGN_START_TIMEOUT", 15.0)
# What one level of priority is worth in waiting: a queued step of priority p goes ahead
# of those of lower priority q that became claimable less than (p - q) x this long
# before it, and behind those that waited longer, so that no priority starves.
HATCHET_PRIORITY_AGING = env_float("HATCHET_PRIORITY_AGING", 60.0)
# How long a step that prefers worker labels (or a soft-sticky run's worker) waits for
# the best-matching worker before one that matches less well may take it; a worker
# with none of what it prefers waits all of it (workflows/engine/affinity.py).
HATCHET_PREFERENCE_WAIT = env_float("HATCHET_PREFERENCE_WAIT", 2.0)
# How long an idempotency key of a run trigger or an event push answers with what its
# first call made (seconds); after it, the key makes a new one.
HATCHET_IDEMPOTENCY_WINDOW = env_float("HATCHET_IDEMPOTENCY_WINDOW", 86400.0)
# History retention (workflows/engine/retention.py): finished workflow runs and events
# older than this many days are deleted, unless the tenant sets its own period; 0 keeps
# them forever (the default, so that an upgrade deletes nothing nobody asked for).
HATCHET_RETENTION_DAYS = int(os.environ.get("HATCHET_RETENTION_DAYS", 0))
# A directory that each batch is written to as JSONL (and fsync'd) before it is deleted;
# empty: deleted without an archive.
HATCHET_RETENTION_ARCHIVE_DIR = os.environ.get("HATCHET_RETENTION_ARCHIVE_DIR", "")
# Seconds between passes; runs per batch (one short transaction each); batches per
# tenant in a pass, so that one pass never runs long.
HATCHET_RETENTION_INTERVAL = env_float("HATCHET_RETENTION_INTERVAL", 600.0)
HATCHET_RETENTION_BATCH_SIZE = int(os.environ.get("HATCHET_RETENTION_BATCH_SIZE", 500))
HATCHET_RETENTION_MAX_BATCHES = int(os.environ.get("HATCHET_RETENTION_MAX_BATCHES", 20))
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
# https://host/api/v3) and the token used when a tenant's connection stores none.
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
# The repositories (owner/name fnmatch patterns, comma-separated, e.g. "acme/*") that a
# connection without a token of its own may reach with GITHUB_TOKEN. None by default:
# the server's token acts for whoever saves a connection, so it serves only the
# repositories the operator names.
HATCHET_GITHUB_TOKEN_REPOSITORIES = [
    pattern.strip()
    for pattern in os.environ.get("HATCHET_GITHUB_TOKEN_REPOSITORIES", "").split(",")
    if pattern.strip()
]
# The keys that encrypt stored GitHub tokens and webhook secrets: the first encrypts,
# every one decrypts (a rotation lists the new key first, then the old ones, until
# `manage.py rotate_encryption_key` has re-encrypted everything). HATCHET_ENCRYPTION_KEY
# names a single key. None set: no secret can be stored.
if os.environ.get("HATCHET_ENCRYPTION_KEYS") and os.environ.get("HATCHET_ENCRYPTION_KEY"):
    raise ImproperlyConfigured(
        "Set HATCHET_ENCRYPTION_KEYS (during a rotation) or HATCHET_ENCRYPTION_KEY, not both."
    )
HATCHET_ENCRYPTION_KEYS = [
    key.strip()
    for key in (
        os.environ.get("HATCHET_ENCRYPTION_KEYS") or os.environ.get("HATCHET_ENCRYPTION_KEY", "")
    ).split(",")
    if key.strip()
]
# Attempts at a pull request when GitHub fails transiently (5xx, rate limits), and the
# longest wait between two, in seconds.
HATCHET_GITHUB_MAX_ATTEMPTS = int(os.environ.get("HATCHET_GITHUB_MAX_ATTEMPTS", 5))
HATCHET_GITHUB_MAX_RETRY_DELAY = env_float("HATCHET_GITHUB_MAX_RETRY_DELAY", 300.0)
# Most runs a playground comparison starts (rows x columns x repeats), and most rows a dataset
# version holds.
HATCHET_MAX_COMPARISON_CELLS = int(os.environ.get("HATCHET_MAX_COMPARISON_CELLS", 200))
HATCHET_MAX_DATASET_ROWS = int(os.environ.get("HATCHET_MAX_DATASET_ROWS", 10_000))
# Seconds between two writes to GitHub, as GitHub asks of integrations.
HATCHET_GITHUB_WRITE_INTERVAL = env_float("HATCHET_GITHUB_WRITE_INTERVAL", 1.0)
# Seconds between looks at open pull requests (merged? closed?), beside the webhook.
HATCHET_GITHUB_REFRESH_INTERVAL = env_float("HATCHET_GITHUB_REFRESH_INTERVAL", 300.0)

# The OpenAI-compatible Chat Completions API that LLM judges call (playground
# evaluators). No key: an offline deterministic judge scores instead, so everything
# runs without a network. The judge's own client retries a 429 or 5xx this many times,
# honouring Retry-After, and gives up on one call after the timeout, in seconds.
OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "") or None
HATCHET_JUDGE_MODEL = os.environ.get("HATCHET_JUDGE_MODEL", "gpt-4o-mini")
HATCHET_JUDGE_MAX_RETRIES = int(os.environ.get("HATCHET_JUDGE_MAX_RETRIES", 3))
HATCHET_JUDGE_TIMEOUT = env_float("HATCHET_JUDGE_TIMEOUT", 60.0)
# Seconds that trying a code evaluator (POST playground/evaluators/{id}/try) waits for
# its run on a worker before it answers `pending` with the run's id.
HATCHET_CODE_EVALUATOR_TRY_WAIT = env_float("HATCHET_CODE_EVALUATOR_TRY_WAIT", 10.0)
# USD per million prompt and completion tokens, by model: what a cell's and a judge's
# cost is reckoned with. HATCHET_MODEL_PRICES (JSON, the same shape) adds models or
# replaces these defaults one model at a time. A dated model name
# ("gpt-4o-mini-2024-07-18") takes the price of the longest name it starts with.
HATCHET_DEFAULT_MODEL_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o": {"prompt": 2.50, "completion": 10.00},
    "gpt-4o-mini": {"prompt": 0.15, "completion": 0.60},
    "gpt-4.1": {"prompt": 2.00, "completion": 8.00},
    "gpt-4.1-mini": {"prompt": 0.40, "completion": 1.60},
    "gpt-4.1-nano": {"prompt": 0.10, "completion": 0.40},
    "gpt-5": {"prompt": 1.25, "completion": 10.00},
    "gpt-5-mini": {"prompt": 0.25, "completion": 2.00},
    "gpt-5-nano": {"prompt": 0.05, "completion": 0.40},
    "o3": {"prompt": 2.00, "completion": 8.00},
    "o4-mini": {"prompt": 1.10, "completion": 4.40},
    "gpt-3.5-turbo": {"prompt": 0.50, "completion": 1.50},
    "claude-sonnet-4": {"prompt": 3.00, "completion": 15.00},
    "claude-haiku-4": {"prompt": 1.00, "completion": 5.00},
}


def model_prices(text: str) -> dict[str, dict[str, float]]:
    """The operator's prices laid over the defaults; a malformed table stops the start,
    as a cost silently reckoned at zero would mislead."""
    try:
        overrides = json.loads(text) if text.strip() else {}
        prices = {
            str(model): {"prompt": float(price["prompt"]), "completion": float(price["completion"])}
            for model, price in overrides.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ImproperlyConfigured(
            'HATCHET_MODEL_PRICES must be JSON like {"model": {"prompt": 0.15, '
            f'"completion": 0.6}}}} (USD per million tokens): {error}'
        ) from None
    return {**HATCHET_DEFAULT_MODEL_PRICES, **prices}


HATCHET_MODEL_PRICES = model_prices(os.environ.get("HATCHET_MODEL_PRICES", ""))

# "json": one JSON object per line with the ids of what each record is about
# (hatchet/logs.py), for a log pipeline; "plain" for people.
HATCHET_LOG_FORMAT = os.environ.get("HATCHET_LOG_FORMAT", "plain")
if HATCHET_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"HATCHET_LOG_FORMAT must be 'plain' or 'json', not {HATCHET_LOG_FORMAT!r}."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "hatchet.logs.JSONFormatter"},
    },
    "filters": {"context": {"()": "hatchet.logs.ContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": HATCHET_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HATCHET_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# Seconds between two evaluations of an alert rule (by one node of many); seconds a
# webhook or the mail server has to take an alert; tries of each delivery.
HATCHET_ALERT_EVALUATION_INTERVAL = env_float("HATCHET_ALERT_EVALUATION_INTERVAL", 10.0)
HATCHET_ALERT_TIMEOUT = env_float("HATCHET_ALERT_TIMEOUT", 5.0)
HATCHET_ALERT_DELIVERY_ATTEMPTS = int(os.environ.get("HATCHET_ALERT_DELIVERY_ATTEMPTS", 3))
# Webhooks go to public addresses only, and to these networks (comma-separated, e.g.
# "10.0.0.0/8,127.0.0.1/32"): a tenant's admin must not reach what only the server can.
HATCHET_ALERT_ALLOWED_NETWORKS = env_networks("HATCHET_ALERT_ALLOWED_NETWORKS")

# Alerts by email go through Django's SMTP backend to this server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hatchet@localhost")

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
    "prune-history": {
        "task": "hatchet.prune_history",
        "schedule": HATCHET_RETENTION_INTERVAL,
        "options": {"expires": HATCHET_RETENTION_INTERVAL},
    },
    # The fallback to GitHub's webhook for the state of opened pull requests.
    "refresh-pull-requests": {
        "task": "playground.refresh_pull_requests",
        "schedule": HATCHET_GITHUB_REFRESH_INTERVAL,
        "options": {"expires": HATCHET_GITHUB_REFRESH_INTERVAL},
    },
}
