"""Settings for the FCA big room app, driven by environment variables.

Safe local defaults (SQLite, Celery tasks run in-process, console email, DEBUG off unless
asked). Production differs only by environment variables: FCA_ENVIRONMENT=production turns
on the secure settings and refuses to start without SECRET_KEY and ALLOWED_HOSTS.
Every variable is listed in the README.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import plotly
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


ENVIRONMENT = env_str("FCA_ENVIRONMENT", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"FCA_ENVIRONMENT must be development or production, not {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if PRODUCTION:
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set, at least 50 characters, in production")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
else:
    SECRET_KEY = SECRET_KEY or "django-insecure-local-development-key-not-for-production-use"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
# Earlier keys, while a new SECRET_KEY rolls out: sessions, reset links and sealed
# two-factor keys made under them still work. Separated by spaces (a key may hold commas).
SECRET_KEY_FALLBACKS = env_str("FCA_SECRET_KEY_FALLBACKS").split()
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "fca",
    "bigrooms",
    "pathways",
    "measures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files (SVGs among them) carry the policy and frame denial.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fca.middleware.NoStoreForSignedIn",
    "fca.middleware.SessionLimits",
    # Last, as django-axes asks: it turns a locked-out sign-in into its response.
    "axes.middleware.AxesMiddleware",
]

# Form fields are drawn with Django's own Jinja2 copies of its widget templates: the same
# markup, several times quicker than its template language (a session form draws some 35
# fields, which took most of its time).
FORM_RENDERER = "django.forms.renderers.Jinja2"

ROOT_URLCONF = "fca.urls"
WSGI_APPLICATION = "fca.wsgi.application"

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
                "fca.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the runserver and in-process tasks) share the file: wait, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "fca.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day, in seconds


def env_sso_providers() -> dict[str, dict]:
    """Single sign-on providers (OpenID Connect), one per key named in FCA_SSO_PROVIDERS,
    each from its own FCA_SSO_<KEY>_* variables. Every value is checked here, so a typo
    stops the app starting rather than breaking sign-in for a whole trust later."""
    providers = {}
    for raw_key in env_list("FCA_SSO_PROVIDERS"):
        key = raw_key.lower()
        if not re.fullmatch(r"[a-z][a-z0-9]{0,29}", key):
            raise ImproperlyConfigured(
                f"FCA_SSO_PROVIDERS: {raw_key!r} is not a provider key: use letters and "
                "digits only, starting with a letter (such as nhsmail or rf4)"
            )
        if key in providers:
            raise ImproperlyConfigured(f"FCA_SSO_PROVIDERS names {raw_key!r} twice")
        prefix = f"FCA_SSO_{key.upper()}_"
        values = {}
        for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "LABEL", "ORGANISATIONS"):
            values[name] = env_str(prefix + name)
            if not values[name]:
                raise ImproperlyConfigured(f"{prefix}{name} must be set (FCA_SSO_PROVIDERS)")
        issuer = urlsplit(values["ISSUER"])
        loopback = issuer.hostname in {"127.0.0.1", "localhost", "::1"}
        if (
            issuer.scheme not in {"https", "http"}
            or not issuer.hostname
            or issuer.query
            or issuer.fragment
            or (issuer.scheme == "http" and (PRODUCTION or not loopback))
        ):
            raise ImproperlyConfigured(
                f"{prefix}ISSUER must be the provider's https:// issuer address, with no "
                f"query, not {values['ISSUER']!r}"
            )
        organisations = [code.upper() for code in env_list(prefix + "ORGANISATIONS")]
        if organisations != ["*"] and not all(
            re.fullmatch(r"[A-Z0-9]{3,10}", code) for code in organisations
        ):
            raise ImproperlyConfigured(
                f"{prefix}ORGANISATIONS must be ODS codes separated by commas (such as "
                f"RXN,RYS), or * for every organisation, not {values['ORGANISATIONS']!r}"
            )
        domains = [domain.lower() for domain in env_list(prefix + "EMAIL_DOMAINS")]
        for domain in domains:
            if not re.fullmatch(r"([a-z0-9-]+\.)+[a-z]{2,}", domain):
                raise ImproperlyConfigured(
                    f"{prefix}EMAIL_DOMAINS: {domain!r} is not an email domain (such as "
                    "nhs.net, with no @)"
                )
        providers[key] = {
            "issuer": values["ISSUER"],
            "client_id": values["CLIENT_ID"],
            "client_secret": values["CLIENT_SECRET"],
            "label": values["LABEL"],
            "organisations": organisations,
            "email_domains": domains,
            # The provider itself asks for a second factor at every sign-in (Entra ID with
            # a conditional access policy, say): then the app does not ask again.
            "enforces_mfa": env_bool(prefix + "ENFORCES_MFA", False),
        }
    return providers


# Single sign-on with OpenID Connect: see the README's "Single sign-on" section.
FCA_SSO_PROVIDERS = env_sso_providers()

# Sign-in throttling: by the pair of account and address, never the address alone, since a
# whole hospital can share one public IP. Stored in the database: sign-in never needs Redis.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "fca.throttling.sign_in_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
# Read by our own function (no django-ipware): see fca/throttling.py client_ip.
AXES_CLIENT_IP_CALLABLE = "fca.throttling.client_ip"
# How long sign-in records (each sign-in's address and browser, failed attempts) are kept.
FCA_SIGN_IN_RECORDS_DAYS = env_int("FCA_SIGN_IN_RECORDS_DAYS", 90)
# How long audit events are kept, in months; 0 keeps them for the life of the service.
FCA_AUDIT_KEEP_MONTHS = env_int("FCA_AUDIT_KEEP_MONTHS", 0)

# Two-factor sign-in (fca/twofactor.py) for QI leads and academy admins signing in locally;
# on by default everywhere, so the demo and the tests go the way production does.
FCA_REQUIRE_TWO_FACTOR = env_bool("FCA_REQUIRE_TWO_FACTOR", True)
# Sessions end after this long idle, or this long in all (fca/middleware.py SessionLimits);
# "shared computer" at sign-in shortens both, and the cookie ends with the browser.
FCA_SESSION_IDLE_MINUTES = env_int("FCA_SESSION_IDLE_MINUTES", 30)
FCA_SESSION_MAX_HOURS = env_int("FCA_SESSION_MAX_HOURS", 12)
FCA_SHARED_SESSION_IDLE_MINUTES = env_int("FCA_SHARED_SESSION_IDLE_MINUTES", 10)
FCA_SHARED_SESSION_MAX_HOURS = env_int("FCA_SHARED_SESSION_MAX_HOURS", 2)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("css", BASE_DIR / "build" / "css"),
    ("nhsuk", BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
    ("plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# The NHS.UK package ships source maps and templates we never serve; skip post-processing
# errors for maps that point at files not in the package.
WHITENOISE_MANIFEST_STRICT = False
# Outside production, serve straight from the packages and look files up per request (no
# scan at start-up, no collectstatic needed for `make run` or the tests).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Uploaded photos: kept out of the static files and served only through views that check
# who may see them (there is no public MEDIA_URL route).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
FCA_MAX_PHOTO_BYTES = env_int("FCA_MAX_PHOTO_BYTES", 10 * 1024 * 1024)
# Episode files stream to disk as they arrive; larger ones are refused.
FCA_MAX_EPISODE_FILE_MB = env_int("FCA_MAX_EPISODE_FILE_MB", 200)

# Caching stays in process: nothing on the save path may depend on Redis. Most of what is
# kept is rendered fragments keyed by their content (fca/fragments.py): a few KB each, a
# dashboard row or a measure's summary, so room for a large trust's thousands of them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": env_int("FCA_CACHE_MAX_ENTRIES", 20_000)},
    }
}

EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# The address people reach the app at, for links in emails sent by the worker.
FCA_SITE_URL = env_str("FCA_SITE_URL", "http://127.0.0.1:8000")
# The worker draws board packs' charts with this Chromium (the system's, never a download).
FCA_BROWSER_PATH = env_str("FCA_BROWSER_PATH", "/usr/bin/chromium")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FCA big rooms <no-reply@localhost>")

# Celery. With no broker, tasks run in-process (the embedded default for `make run`).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Recomputes are idempotent: redeliver a task cut off by a lost connection rather than drop it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens after a save has committed: fail fast when Redis is away and let the
# sweep catch up, rather than hold the person's request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# max_retries 0: one refused connection fails the publish at once; otherwise kombu retries
# it for the whole connection timeout, 2 s added to every save while Redis is away. (The
# worker and beat reconnect by their own retry settings.)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 0,
}
CELERY_TIMEZONE = TIME_ZONE
# Deployments (or test runs) sharing one Redis each keep to their own queue.
CELERY_TASK_DEFAULT_QUEUE = env_str("FCA_CELERY_QUEUE", "celery")
STALE_SWEEP_SECONDS = env_int("FCA_STALE_SWEEP_SECONDS", 300)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-charts": {
        "task": "measures.tasks.sweep_stale_charts",
        "schedule": STALE_SWEEP_SECONDS,
    },
    "delete-old-uploads": {"task": "measures.tasks.delete_old_uploads", "schedule": 3600},
    "delete-unconfirmed-enrolments": {
        "task": "fca.tasks.delete_unconfirmed_enrolments",
        "schedule": 3600,
    },
    # The API's per-minute request counts, once their minute has gone.
    "delete-old-rate-windows": {"task": "fca.tasks.delete_old_rate_windows", "schedule": 600},
    # Expired sessions, old sign-in records and (when a period is set) old audit events.
    "housekeeping": {"task": "fca.tasks.tidy", "schedule": crontab(hour=3, minute=30)},
    "episode-retention": {
        "task": "pathways.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=15),
    },
    "sweep-episode-uploads": {
        "task": "pathways.tasks.sweep_episode_uploads",
        "schedule": STALE_SWEEP_SECONDS,
    },
    "remind-missed-sessions": {
        "task": "bigrooms.tasks.remind_missed_sessions",
        "schedule": crontab(hour=7, minute=30),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fca.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "fca.tokens.PeopleOnly",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["fca.throttling.ApiRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "fca.api_schema.AutoSchema",
}

# API requests a minute for each token (or signed-in person), reads and writes apart;
# counted in the database so the limit holds across every gunicorn process.
FCA_API_READS_PER_MINUTE = env_int("FCA_API_READS_PER_MINUTE", 600)
FCA_API_WRITES_PER_MINUTE = env_int("FCA_API_WRITES_PER_MINUTE", 120)

# The OpenAPI schema (/api/schema/) and its docs (/api/docs/), for signed-in people only;
# Swagger UI comes from the sidecar package's static files, never a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "FCA big rooms API",
    "DESCRIPTION": "For data systems: send measures' data points and pathways' episodes, "
    "log big room sessions and actions, and read what the pages show. Authenticate with "
    "`Authorization: Bearer fca_…` (a personal token, or a room's or pathway's feed token).",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ActionStatus": "bigrooms.models.Action.Status",
        "RoomStatus": "bigrooms.models.BigRoom.Status",
        "PDSAStatus": "bigrooms.models.PDSA.Status",
        "EpisodeUploadStatus": "pathways.models.EpisodeUpload.Status",
        "BoardPackStatus": "bigrooms.models.BoardPack.Status",
        "PackageStatus": "bigrooms.models.ChangePackage.Status",
        "AuditOutcome": "fca.models.AuditEvent.Outcome",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fca.api_schema.ids_are_positive",
    ],
}

# Content security policy: no inline script anywhere. Plotly writes inline styles as it
# draws, so styles allow them; scripts never do.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "fca.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = FCA_SESSION_MAX_HOURS * 60 * 60
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # The reverse proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    # Joining the HSTS preload list binds the domain and its subdomains to HTTPS for good:
    # that is the deploying organisation's decision (SECURE_HSTS_PRELOAD), not a default.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Data entry limits: a paste of this many rows is still one request.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FCA_MAX_PASTE_ROWS = env_int("FCA_MAX_PASTE_ROWS", 20000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
