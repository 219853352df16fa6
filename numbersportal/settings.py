"""Settings for Numbers Portal, read from the environment (see .env.example).

With no environment at all the portal runs in development mode against SQLite,
an in-process cache and the sandbox on 127.0.0.1:8001. Production mode
(DJANGO_PRODUCTION=true) refuses to start without real secrets and services.
"""

import os
import tempfile
import warnings
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)

DEV_SECRET_KEY = "django-insecure-development-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "inventory.admin_site.PortalAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the portal itself
    "inventory",
]
# The API simulator serves the demo, the tests and development; never production.
if not PRODUCTION:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "inventory.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Above whitenoise, so static files carry the policy and X-Frame-Options too (whitenoise
    # answers them itself and never passes them down the rest of the chain).
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the input: a NUL byte or an oversized query string is a 400.
    "inventory.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: what a signed-in user is shown is never stored by a cache.
    "inventory.middleware.PrivateResponsesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "numbersportal.urls"
WSGI_APPLICATION = "numbersportal.wsgi.application"

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
                "inventory.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Connections are kept between requests (and checked before reuse): opening one, and on
# SQLite setting its journal mode, would otherwise cost every request a few milliseconds.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue
    # (up to `timeout` seconds) instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: concurrency and browser tests need real separate connections.
    # One per test run, so two runs on one machine never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"numbers-portal-test-{os.getpid()}.sqlite3")
    }
else:
    # One test database per test run, so concurrent runs never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared OAuth token, quota view, search results) ---------------------------------

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://numbers-portal")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Redis being down costs speed, never a 500 (inventory/cache_backend.py), and no call
    # waits more than a moment for an unreachable Redis.
    CACHES["default"]["BACKEND"] = "inventory.cache_backend.ResilientRedisCache"
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 1.0,
        **CACHES["default"].get("OPTIONS", {}),
    }

# --- Authentication and sessions ------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "inventory.auth_backend.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database, so a Redis outage or restart logs nobody out. Expired ones
# are removed by `manage.py clearsessions` (see the README's production section).
SESSION_ENGINE = "inventory.sessions"
# Inactivity expiry: every request pushes the expiry forward by SESSION_IDLE_MINUTES (the
# row is rewritten at most once a minute for that; see inventory/sessions.py).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Login throttling, counted per username and per address separately: a username is locked
# after AXES_FAILURE_LIMIT failures from anywhere (guessing from many addresses), and an
# address after as many failures for any usernames (trying many usernames from one place).
# A successful login clears both counts.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The lockout counts a username under its first 150 characters: no user's is longer, and
# its table holds 255 (a longer one was a 500 on PostgreSQL).
AXES_USERNAME_CALLABLE = "inventory.signals.lockout_username"
# The client's address for the lockout and the audit trail: behind DJANGO_PROXY_COUNT
# proxies it is the address the outermost of them saw (inventory/middleware.py).
AXES_CLIENT_IP_CALLABLE = "inventory.middleware.client_ip"
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)

# Failed logins in the audit trail: within each window, the first failure of each username
# and of each address is an entry of its own (and so is a lockout), at most this many in
# all; the rest are counted, and one summary entry per window gives the counts.
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_ITEMISED_PER_WINDOW = 20

# --- Request limits -------------------------------------------------------------------------

# No form of the portal needs more than a few kilobytes; a bigger body is refused (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# Longer query strings are refused (400), as gunicorn refuses request lines over 4 KiB.
MAX_QUERY_STRING_LENGTH = 4096

# --- Security headers -----------------------------------------------------------------------

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Production serves collectstatic's compressed, hashed output; development serves static/.
if env.bool("DJANGO_STATIC_MANIFEST", default=PRODUCTION):
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # Development serves from the finders; whitenoise need not warn that STATIC_ROOT is empty.
    warnings.filterwarnings("ignore", message="No directory at")

# --- The Phone Numbers API ------------------------------------------------------------------

SANDBOX_PORT = env.int("SANDBOX_PORT", default=8001)
_sandbox_root = f"http://127.0.0.1:{SANDBOX_PORT}"
NUMBERS_API = {
    "BASE_URL": env(
        "NUMBERS_API_BASE_URL", default=f"{_sandbox_root}/communication/nexmo/phone-numbers"
    ),
    "TOKEN_URL": env(
        "NUMBERS_API_TOKEN_URL",
        default=f"{_sandbox_root}/oauth/client_credential/accesstoken?grant_type=client_credentials",
    ),
    "CLIENT_ID": env("NUMBERS_API_CLIENT_ID", default="numbers-portal-demo"),
    "CLIENT_SECRET": env("NUMBERS_API_CLIENT_SECRET", default="sandbox-secret-change-me"),
    # (connect, read) timeouts for one HTTP call, and the budget for a call and its retries.
    "CONNECT_TIMEOUT": env.float("NUMBERS_API_CONNECT_TIMEOUT", default=3.05),
    "READ_TIMEOUT": env.float("NUMBERS_API_READ_TIMEOUT", default=10.0),
    "DEADLINE": env.float("NUMBERS_API_DEADLINE", default=20.0),
}
# The sandbox is the API when the base URL points at this machine: demo users are allowed.
SANDBOX_MODE = urlsplit(NUMBERS_API["BASE_URL"]).hostname in {"127.0.0.1", "localhost", "::1"}

# An operation whose answer was lost is settled as "did not happen" only when the account
# still does not show its effect this long after it ended (the provider may be slow).
SETTLE_GRACE = timedelta(seconds=env.int("SETTLE_GRACE_SECONDS", default=60))
# An operation still pending this long after it started was cut short (longer than its
# call, read-back and lookups can take); workers and syncs mark it unknown and settle it.
PENDING_STALE_AFTER = timedelta(seconds=env.int("PENDING_STALE_SECONDS", default=120))

# --- Background tasks -----------------------------------------------------------------------

# Django's task framework (the django-tasks backport) with its database backend: the queue
# lives in the portal's database, so it needs no other service; `manage.py run_worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A worker renews its lease this often; one silent for TASK_WORKER_LEASE_SECONDS is dead,
# and its unfinished task goes back to the queue.
TASK_WORKER_HEARTBEAT_SECONDS = env.float("TASK_WORKER_HEARTBEAT_SECONDS", default=5)
TASK_WORKER_LEASE_SECONDS = env.int("TASK_WORKER_LEASE_SECONDS", default=30)

# A repeated catalogue search within this many seconds is answered from the cache.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=60)
# The inventory warns when the last successful sync is older than this.
SYNC_STALE_AFTER = timedelta(minutes=env.int("SYNC_STALE_MINUTES", default=60))
# A sync or a batch renews its lease after every page or item (each at most a couple of API
# deadlines apart); one whose process died frees it after this many seconds.
LEASE_SECONDS = env.int("LEASE_SECONDS", default=max(45, int(2 * NUMBERS_API["DEADLINE"]) + 5))

# --- Approvals and notifications ------------------------------------------------------------

# Purchases above this amount (set-up plus the first month, in euros) need a second person's
# approval until a superuser sets the rules on the approval rules page. Empty: no limit.
_approval_above = env("PURCHASE_APPROVAL_ABOVE", default="").strip()
try:
    PURCHASE_APPROVAL_ABOVE = Decimal(_approval_above) if _approval_above else None
except InvalidOperation as bad:
    raise ImproperlyConfigured(
        f"PURCHASE_APPROVAL_ABOVE must be an amount in euros such as 250 or 99.50, "
        f"not {_approval_above!r}"
    ) from bad
# A purchase request nobody decided on expires after this long (and cannot be approved).
PURCHASE_REQUEST_EXPIRY = timedelta(hours=env.int("PURCHASE_REQUEST_EXPIRY_HOURS", default=72))
# The portal's own address, for the links in notifications.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Tell people when syncs have failed, or an operation's outcome has stayed unknown, for
# longer than this.
NOTIFY_SYNC_FAILING_AFTER = timedelta(minutes=env.int("NOTIFY_SYNC_FAILING_MINUTES", default=60))
NOTIFY_UNKNOWN_AFTER = timedelta(minutes=env.int("NOTIFY_UNKNOWN_MINUTES", default=30))
# A notification that could not be delivered is tried again after each of these waits
# (seconds), then recorded as failed.
NOTIFICATION_RETRY_SECONDS = [
    int(wait) for wait in env.list("NOTIFICATION_RETRY_SECONDS", default=["30", "120", "600"])
]

# Email: SMTP when EMAIL_HOST is set; otherwise printed on the console in development and
# not sent at all in production (the notification settings page then says so).
EMAIL_HOST = env("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Numbers Portal <numbers-portal@localhost>")
EMAIL_ENABLED = bool(EMAIL_HOST) or not PRODUCTION
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# --- The JSON API for scripts (/api/v1/, inventory/api/) ----------------------------------

# Requests per personal access token (a signed-in browser: per user), counted in the cache:
# without Redis nothing is counted and nothing refused. "300/minute", "20/second", ...
API_RATE_LIMIT = env("API_RATE_LIMIT", default="300/minute")
# How long an Idempotency-Key and the answer it got are kept (at least a day, as Stripe does).
API_IDEMPOTENCY_HOURS = max(env.int("API_IDEMPOTENCY_HOURS", default=24), 24)
# Longest life of a personal access token, in days (the profile page offers up to a year).
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=3650)

REST_FRAMEWORK = {
    # A token in `Authorization: Bearer …` first; else the browser's session, with CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inventory.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["inventory.api.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["inventory.api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "inventory.api.negotiation.JsonAnswers",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "inventory.api.problems.exception_handler",
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS is not offered
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Numbers Portal API",
    "DESCRIPTION": (
        "The portal's safety for scripts: one open operation per number, idempotent POSTs "
        "(Idempotency-Key), prices checked before anything is bought, bulk purchases that "
        "are reviewed, then confirmed, and an audit trail of who did what. Errors are "
        "application/problem+json (RFC 9457). Authenticate with a personal access token "
        "from your profile page: Authorization: Bearer <token>."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inventory.api.schema.with_common_answers",
    ],
}

# --- The audit trail -----------------------------------------------------------------------

# Keys the trail's hashes, outcome seals and checkpoints (HMAC-SHA256). Kept outside the
# database, so someone who can write to it cannot forge an entry that verifies. The trail
# verifies only under the key it was written with: keep it for as long as the trail. Unset
# or empty in development: a fixed development key.
DEV_AUDIT_KEY = "development-only-audit-key-never-use-in-production"
AUDIT_KEY = env("AUDIT_KEY", default="") or DEV_AUDIT_KEY

# --- Logging --------------------------------------------------------------------------------

# One line per request (inventory.requests) and per API call (inventory.api), each with the
# request id and user. JSON lines carry the details as fields (method, path, status,
# duration_ms; api_method, api_path for API calls); plain lines are for people reading a
# terminal. No line ever holds a token or secret: the client logs only method, path, status.
LOG_FORMAT = env("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "inventory.middleware.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(request_id)s %(user)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # ISO 8601 in UTC, whatever DJANGO_TIME_ZONE says: lines from many hosts sort.
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Their debug lines would print full URLs and token responses: never below INFO.
        "urllib3": {"level": "WARNING"},
        "authlib": {"level": "WARNING"},
    },
}

# --- Production mode ------------------------------------------------------------------------

if PRODUCTION:
    _problems = []
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        _problems.append("DJANGO_SECRET_KEY must be set to a random value of 50+ characters")
    if AUDIT_KEY == DEV_AUDIT_KEY or len(AUDIT_KEY) < 32:
        _problems.append(
            "AUDIT_KEY must be set to a random value of 32+ characters, kept outside the "
            "database (it keys the audit trail's hashes)"
        )
    if not env("DJANGO_ALLOWED_HOSTS", default=""):
        _problems.append("DJANGO_ALLOWED_HOSTS must name the host(s) the portal answers on")
    if not env("NUMBERS_API_CLIENT_ID", default="") or not env(
        "NUMBERS_API_CLIENT_SECRET", default=""
    ):
        _problems.append("NUMBERS_API_CLIENT_ID and NUMBERS_API_CLIENT_SECRET must be set")
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _problems.append("DATABASE_URL must point at PostgreSQL")
    if not CACHES["default"]["BACKEND"].endswith("RedisCache"):
        _problems.append("CACHE_URL must point at Redis, so all workers share one token")
    if DEBUG:
        _problems.append("DJANGO_DEBUG must be off")
    if _problems:
        raise ImproperlyConfigured("Production mode refuses to start: " + "; ".join(_problems))

    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only sent over HTTPS, to this exact host, for the whole site.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
