"""Tally settings. Everything comes from the environment (see .env.example);
the defaults serve local development on a machine with PostgreSQL and Redis
on their usual ports. With DEBUG off, secrets have no defaults."""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

from config.logs import logging_config
from config.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only-key-change-me-0123456789")
else:
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# Proxies whose X-Forwarded-For we believe; anyone else cannot pick their own client IP.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, no CDN
    "drf_standardized_errors",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "django_celery_results",
    "django_prometheus",
    "accounts",
    "merchants",
    "ledger",
    "budgets",
    "realtime",
    "workers",
]

MIDDLEWARE = [
    # First: the request id is bound before anything logs, and the duration covers the whole chain.
    "config.middleware.RequestLogMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.ApiErrorShapeMiddleware",
    # Before SecurityMiddleware: X-Forwarded-Proto counts only from TRUSTED_PROXIES.
    "config.middleware.TrustedForwardedProtoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.CSPMiddleware",  # django-csp's, the settings' policy built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, auth and messages skip the bearer-token API (API_PATH_PREFIX): see config/middleware.py.
    "config.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.BrowserAuthenticationMiddleware",
    "config.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last: see config/middleware.py (one thread hop per request under ASGI, not ~20).
    "config.middleware.SyncChainMiddleware",
]

API_PATH_PREFIX = "/api/v1/"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@localhost:5432/tally")}
# Django's psycopg pool instead of persistent connections: CONN_MAX_AGE
# connections leak under ASGI, where each request may run on a new thread.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
if env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=1),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }
    # With CONN_HEALTH_CHECKS on, Django hands the pool psycopg's
    # check_connection, so a PostgreSQL restart costs a reconnect, not errors.

REDIS_URL = env("REDIS_URL", default="redis://localhost:6379/0")

CACHES = {
    "default": {
        # Django's RedisCache, reusing one redis-py client per pool (config/cache.py).
        "BACKEND": "config.cache.TallyRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tally",
    }
}

# Pub/sub layer: lowest latency, no per-group expiry, and it resubscribes by
# itself after a Redis restart; every event is persisted, so what pub/sub
# drops comes back through resume (bench/websocket.py measures both).
CHANNEL_LAYER_BACKEND = env("CHANNEL_LAYER_BACKEND", default="realtime.layers.ReconnectingPubSubChannelLayer")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": CHANNEL_LAYER_BACKEND,
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": env("CHANNEL_LAYER_PREFIX", default="tally:channels"),
            "capacity": 1000,
            "expiry": 60,
        },
    }
}

# WebSocket: no client message for this long closes the socket; the size cap on one client frame.
WS_HEARTBEAT_SECONDS = env.float("WS_HEARTBEAT_SECONDS", default=60)
WS_MAX_MESSAGE_BYTES = env.int("WS_MAX_MESSAGE_BYTES", default=16 * 1024)
WS_TICKET_SECONDS = env.int("WS_TICKET_SECONDS", default=30)
# Notifications older than this are deleted by the daily realtime.cleanup_old_notifications task.
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=90)

# Outbound webhooks (realtime/webhooks). Private, loopback and metadata addresses are
# refused unless allowed (tests and local receivers only); plain http only when allowed.
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=False)
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=5)
# Deliveries per task (an event's to all its endpoints) and HTTP requests in flight per worker process.
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=25)
WEBHOOK_SEND_CONCURRENCY = env.int("WEBHOOK_SEND_CONCURRENCY", default=16)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=8 * 60 * 60)
# An endpoint is disabled (and its owner notified) after this many failed attempts in a
# row spanning at least this many hours.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int("WEBHOOK_DELIVERY_RETENTION_DAYS", default=30)

# Tamper-evident ledger: where nightly Merkle roots are anchored (ledger/anchoring/backends.py).
LEDGER_ANCHOR_BACKEND = env("LEDGER_ANCHOR_BACKEND", default="local")
LEDGER_ANCHOR_BACKENDS = {"local": "ledger.anchoring.backends.LocalAnchorBackend"}

# Portfolio valuations: the class the hourly ledger.refresh_portfolio_valuations asks for
# prices (a dotted path to a ledger.pricing.PriceSource). The default quotes nothing, so
# prices come from POST portfolio/holdings/{id}/valuation only. StaticPriceSource reads
# PORTFOLIO_STATIC_PRICES (JSON: {"stock:AAPL": "190.12"}), for tests and demos.
PORTFOLIO_PRICE_SOURCE = env("PORTFOLIO_PRICE_SOURCE", default="ledger.portfolio.prices.ManualPriceSource")
PORTFOLIO_STATIC_PRICES = env.json("PORTFOLIO_STATIC_PRICES", default={})

# Exchange rates: the class the daily ledger.refresh_exchange_rates asks for the latest
# ECB-style rates (a dotted path to a ledger.currency.sources.RateSource). The default
# reads the ECB's daily XML at EXCHANGE_RATE_ECB_URL; StaticRateSource reads
# EXCHANGE_RATE_STATIC (JSON: {"2026-10-30": {"USD": "1.1172"}}), for tests and demos.
# The history from 1999 is loaded offline by `manage.py load_rates` (make run does it).
EXCHANGE_RATE_SOURCE = env("EXCHANGE_RATE_SOURCE", default="ledger.currency.sources.EcbDailySource")
EXCHANGE_RATE_ECB_URL = env(
    "EXCHANGE_RATE_ECB_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)
EXCHANGE_RATE_STATIC = env.json("EXCHANGE_RATE_STATIC", default={})

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Attachments (receipts) go through Django's default storage: the file system under
# MEDIA_ROOT, or any S3-compatible store with ATTACHMENT_STORAGE=s3 (django-storages
# and boto3, configured by the AWS_* variables boto3 reads).
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "media/"
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_PER_TRANSACTION = env.int("ATTACHMENT_MAX_PER_TRANSACTION", default=20)
ATTACHMENT_STORAGE = env("ATTACHMENT_STORAGE", default="filesystem")
# Uploads above this size are spooled to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files browsers ask for at the site root (/favicon.ico from the admin, the API docs, the live page).
WHITENOISE_ROOT = BASE_DIR / "config" / "root"
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env("AWS_STORAGE_BUCKET_NAME", default=""),
                "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env("AWS_S3_REGION_NAME", default=None),
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
        if ATTACHMENT_STORAGE == "s3"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The web front end whose /verify-email and /reset-password pages the e-mail links
# open. Unset, the e-mails carry the API call to make instead of a link.
FRONTEND_URL = env("FRONTEND_URL", default="").rstrip("/")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Tally <no-reply@tally.local>")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's JSONRenderer through orjson (config/renderers.py).
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.TallyAutoSchema",
    # `format` is a query parameter of the views that declare it (reports, export), never DRF's
    # hidden renderer switch (which answered ?format=csv on any other request with a 404).
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.exceptions.TallyExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "config.exceptions.TallyExceptionFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

LOGIN_THROTTLE = {
    "MAX_FAILURES": env.int("LOGIN_MAX_FAILURES", default=5),
    "WINDOW_SECONDS": env.int("LOGIN_WINDOW_SECONDS", default=15 * 60),
}
# Per account, from any address: this many wrong passwords within the window lock
# the address for LOCK_SECONDS (API and admin login alike); the owner is mailed.
ACCOUNT_LOCKOUT = {
    "MAX_FAILURES": env.int("ACCOUNT_LOCKOUT_MAX_FAILURES", default=10),
    "WINDOW_SECONDS": env.int("ACCOUNT_LOCKOUT_WINDOW_SECONDS", default=60 * 60),
    "LOCK_SECONDS": env.int("ACCOUNT_LOCKOUT_SECONDS", default=15 * 60),
}
# Reset mails: per client IP and per address, within the window.
PASSWORD_RESET_THROTTLE = {
    "PER_IP": env.int("PASSWORD_RESET_PER_IP", default=5),
    "PER_ADDRESS": env.int("PASSWORD_RESET_PER_ADDRESS", default=3),
    "WINDOW_SECONDS": env.int("PASSWORD_RESET_WINDOW_SECONDS", default=60 * 60),
}

# /metrics wants `Authorization: Bearer <METRICS_TOKEN>`; with DEBUG off and no
# token it answers 403 to everyone.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

SPECTACULAR_SETTINGS = {
    "TITLE": "Tally API",
    "DESCRIPTION": (
        "Personal-finance backend. Amounts are decimal strings with two places: "
        "a positive amount is money out (spending), a negative one money in "
        "(income, refunds). Every error has one shape: "
        '{"type": ..., "errors": [{"code", "detail", "attr"}]}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One tag per area (config.openapi.TallyAutoSchema.get_tags), in this order.
    "TAGS": [
        {"name": "auth", "description": "Register, log in, refresh, sessions, password and e-mail."},
        {"name": "accounts", "description": "Bank accounts, balances and reconciliation."},
        {"name": "transactions", "description": "Transactions, splits, tags, attachments, bulk edit, export."},
        {"name": "transfers", "description": "Transfers between own accounts and their suggestions."},
        {"name": "imports", "description": "Statement imports (preview, commit) and import profiles."},
        {"name": "rules", "description": "Categorisation rules: test, preview, apply, suggestions."},
        {"name": "budgets", "description": "Budgets, their status, renewal, history and comparison."},
        {"name": "reports", "description": "Spending, cash flow, trends and net worth."},
        {"name": "merchants", "description": "Merchant directory and categories."},
        {"name": "recurrences", "description": "Recurring payments found in the ledger."},
        {"name": "portfolio", "description": "Holdings and their valuation."},
        {"name": "ledger", "description": "Nightly anchoring batches (staff)."},
        {"name": "currency", "description": "Currencies and exchange rates."},
        {"name": "realtime", "description": "Notifications and WebSocket tickets."},
        {"name": "webhooks", "description": "Webhook endpoints and deliveries."},
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CategoryEnum": "merchants.categories.Category",
        "BudgetStatusEnum": "budgets.selectors.STATUSES",
        "AccountKindEnum": "ledger.models.books.Account.Kind",
        "TransactionKindEnum": "ledger.models.transactions.Transaction.Kind",
        "ImportStatusEnum": "ledger.models.imports.Import.Status",
        "ImportJobStatusEnum": "ledger.imports.serializers.JOB_STATUSES",
        "ImportRowFateEnum": "ledger.models.imports.ImportRow.Fate",
        "ImportFormatEnum": "ledger.models.imports.ImportProfile.Format",
        "ImportSignEnum": "ledger.models.imports.ImportProfile.Sign",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "config.openapi.add_reason_phrases",
    ],
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# Rows an import commit writes per transaction (and per progress event).
LEDGER_IMPORT_COMMIT_BATCH = env.int("LEDGER_IMPORT_COMMIT_BATCH", default=5000)
CELERY_RESULT_BACKEND = "django-db"
CELERY_CACHE_BACKEND = "django-cache"
CELERY_RESULT_EXTENDED = True
# Results are deleted by the "Old task result cleanup" schedule (workers.cleanup_task_results);
# with an expiry set, beat would also install celery.backend_cleanup, the same job twice.
CELERY_RESULT_EXPIRES = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# A task whose worker died without acking (SIGKILL, lost machine) goes back to
# its queue once it has been unacked this long; any live worker sweeps for
# such tasks every CELERY_UNACKED_RESTORE_INTERVAL seconds. Keep the timeout
# above CELERY_TASK_TIME_LIMIT and the longest retry countdown.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,  # the interval alone paces the sweep
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Admin bootstrap for `make run` (optional): creates the first staff user.
BOOTSTRAP_ADMIN_EMAIL = env("BOOTSTRAP_ADMIN_EMAIL", default="")
BOOTSTRAP_ADMIN_PASSWORD = env("BOOTSTRAP_ADMIN_PASSWORD", default="")

SENTRY_DSN = env("SENTRY_DSN", default="")

# Structured logs (config/logs.py): readable lines by default, one JSON object a
# line with LOG_FORMAT=json (what a log shipper wants; the container image sets it).
LOG_FORMAT = env("LOG_FORMAT", default="console")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env("LOG_LEVEL", default="INFO"))

# Sentry, opt-in (config/sentry.py): nothing is sent unless SENTRY_DSN is set.
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_RELEASE = env("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
SENTRY_SEND_DEFAULT_PII = env.bool("SENTRY_SEND_DEFAULT_PII", default=False)
init_sentry(
    SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    release=SENTRY_RELEASE or None,
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    send_default_pii=SENTRY_SEND_DEFAULT_PII,
)

# Content-Security-Policy (django-csp) on every response: the live page's inline
# script and style carry the request's nonce; the admin has none; the API docs
# widen it in config/urls.py. 'self' covers assets served by whitenoise
# (drf-spectacular-sidecar's included) and same-origin WebSockets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# X-Forwarded-Proto is believed only from TRUSTED_PROXIES (config.middleware drops
# it from anyone else), so a plain-HTTP client cannot claim https and get HSTS.
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The health probes run over plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

SILENCED_SYSTEM_CHECKS = [
    # email is unique through a Lower(email) constraint (case-insensitive),
    # which the auth check does not recognise.
    "auth.W004",
]
