"""Settings for every deployment, read from environment variables.

With no variables set, Cadence runs on its embedded default: an SQLite file and a filesystem
message broker under ``var/``, so a fresh clone needs no server to start.
"""

import os
import secrets
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CADENCE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _embedded_secret_key() -> str:
    """Generate the secret key on first run and keep it, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "anymail",
    "django_htmx",
    "csp",
    "cadence.core",
    "cadence.accounts",
    "cadence.crm",
    "cadence.activities",
    "cadence.strategies",
    "cadence.plans",
    "cadence.mailboxes",
    "cadence.messaging",
    "cadence.notifications",
    "cadence.suggestions",
    "cadence.analytics",
    "cadence.ops",
    "cadence.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cadence.web.middleware.user_time_zone",
    "csp.middleware.CSPMiddleware",
]

# Content Security Policy: the web app's pages run no inline script or style and load nothing
# from other origins (front-end libraries are vendored under cadence/web/static/). The API's
# Swagger page and the admin bring their own inline scripts and are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "cadence.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cadence.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the timeout rides out short locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

# The throttle of failed sign-ins keeps its counts here, so it holds across processes exactly as
# far as this cache is shared: the embedded default's file cache serves every process on one
# host; with several hosts, point CACHE_URL at Redis (redis://host:6379/1) or Memcached.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    # Django's default of 300 entries would let a flood of usernames cull the cool-downs.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 10_000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# The throttle's gate comes first: during a cool-down it refuses before any password is checked.
AUTHENTICATION_BACKENDS = [
    "cadence.accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-ins (any door: API token, pages, admin, browsable API) for one username, or from
# one client address, within the cool-down that refuse further attempts for the cool-down.
CADENCE_LOGIN_FAILURES_PER_ACCOUNT = env.int("CADENCE_LOGIN_FAILURES_PER_ACCOUNT", default=5)
CADENCE_LOGIN_FAILURES_PER_ADDRESS = env.int("CADENCE_LOGIN_FAILURES_PER_ADDRESS", default=30)
CADENCE_LOGIN_COOLDOWN_SECONDS = env.int("CADENCE_LOGIN_COOLDOWN_SECONDS", default=15 * 60)
# Reverse proxies in front of Cadence that append to X-Forwarded-For. With 0 the client address
# is the socket's peer; behind a proxy, set it, or every sign-in shares the proxy's address.
CADENCE_TRUSTED_PROXIES = env.int("CADENCE_TRUSTED_PROXIES", default=0)
# API tokens stop working this many days after they were issued (0: never).
CADENCE_API_TOKEN_DAYS = env.int("CADENCE_API_TOKEN_DAYS", default=90)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: its password_changed hook revokes the user's API token on every new
    # password, however it is set. Keep it in any settings that replace this list.
    {"NAME": "cadence.accounts.passwords.RevokeApiTokenOnPasswordChange"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders when collectstatic has not run, so the
# embedded default and the test server work without a build step.
WHITENOISE_USE_FINDERS = True

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# HTTPS. The embedded default (no SECRET_KEY in the environment, as with `make run`, which keeps a
# generated one under var/) and DEBUG are development on http://127.0.0.1, where a secure cookie
# would never come back and a redirect to HTTPS would find no server. Anything else is a
# deployment, served over HTTPS only: plain HTTP is redirected, browsers are told to keep to
# HTTPS for a year (HSTS), and cookies travel over it alone. Each can still be set on its own.
DEVELOPMENT = DEBUG or not env.str("SECRET_KEY", default="")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEVELOPMENT)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEVELOPMENT else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEVELOPMENT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEVELOPMENT)
# Behind a reverse proxy that ends TLS, every request arrives as plain HTTP (and the redirect
# above would loop) unless Django is told which header the proxy sets to "https", e.g.
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto. Opt-in, because the header is believed: the proxy
# must set or strip it on every request, or any client could claim HTTPS.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what turns an anonymous request into a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cadence.accounts.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with a nesting limit: a deeply nested body was a RecursionError, a 500.
    "DEFAULT_PARSER_CLASSES": [
        "cadence.core.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "cadence.core.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "cadence.core.api.filters.NullsLastOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cadence.core.api.exceptions.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cadence API",
    "DESCRIPTION": (
        "Contact strategies, lead contact plans, activities and reminders. Field names follow "
        "the Cadence technical specification (strategy_id, step_number, delay_days, ...)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlanStatusEnum": "cadence.plans.choices.PlanStatus",
        "ActivityTypeEnum": "cadence.activities.choices.ActivityType",
        "ReminderStatusEnum": "cadence.activities.choices.ReminderStatus",
        "RoleEnum": "cadence.accounts.choices.Role",
        "MailSecurityEnum": "cadence.mailboxes.choices.Security",
    },
}

# Email. Three ways out, by the environment:
# - EMAIL_URL names an SMTP server (smtp://user:password@host:25, smtp+tls://...:587 for
#   STARTTLS, smtp+ssl://...:465);
# - CADENCE_EMAIL_PROVIDER names a django-anymail provider (amazon_ses, mailgun, postmark,
#   brevo, mailjet, ...), configured by ANYMAIL_* variables (ANYMAIL_POSTMARK_SERVER_TOKEN=...,
#   ANYMAIL_WEBHOOK_SECRET=user:password for the inbound and tracking webhooks);
# - neither: every message is captured as an .eml file under var/mail, listed in the app, so the
#   embedded default needs no mail server and what would have been sent can still be read.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
# Webhooks are refused until a secret is configured: a random one no provider can know.
ANYMAIL.setdefault("WEBHOOK_SECRET", secrets.token_urlsafe(32))
_provider = env.str("CADENCE_EMAIL_PROVIDER", default="")
CADENCE_MAIL_CAPTURE_DIR = VAR_DIR / "mail"
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
elif _provider:
    EMAIL_BACKEND = f"anymail.backends.{_provider}.EmailBackend"
else:
    EMAIL_BACKEND = "cadence.messaging.backends.CaptureBackend"
    CADENCE_MAIL_CAPTURE_DIR.mkdir(exist_ok=True)
# A mail server that stops answering must not hold up the scheduler pass for long.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cadence <cadence@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# On, every due reminder is also emailed to its user; off, only reminders whose channels include
# "email" are (the in-app notification follows the channels either way).
CADENCE_REMINDER_EMAIL = env.bool("CADENCE_REMINDER_EMAIL", default=True)
# Where links in emails and calendar entries point: the address users open Cadence at.
CADENCE_SITE_URL = env.str("CADENCE_SITE_URL", default="http://localhost:8000")

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # A pass left queued longer than two intervals is stale: a later one does its work.
    "scheduler-pass": {
        "task": "ops.scheduler_pass",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    # The reps' mailboxes: one sync task per mailbox, so that they spread over the workers.
    "sync-mailboxes": {
        "task": "messaging.sync_mailboxes",
        "schedule": float(env.int("CADENCE_MAILBOX_SYNC_SECONDS", default=60)),
        "options": {"expires": 60},
    },
    # Sending is its own task so a slow mail server never delays reminders.
    "send-outbox": {
        "task": "messaging.send_outbox",
        "schedule": 15.0,
        "options": {"expires": 30},
    },
    # The history analysis reads every activity: once a night, at a quiet hour, is enough for
    # findings that need months of history to move.
    "analyze-history": {
        "task": "suggestions.analyze_history",
        "schedule": crontab(hour=env.int("CADENCE_ANALYSIS_HOUR", default=3), minute=17),
        "options": {"expires": 6 * 3600},
    },
    # The report rollups: touched days every few minutes (a report counts newer results live
    # meanwhile, so this only bounds how much it has to), everything once a night.
    "refresh-analytics": {
        "task": "analytics.refresh_rollups",
        "schedule": 60.0 * env.int("CADENCE_ANALYTICS_REFRESH_MINUTES", default=10),
        "options": {"expires": 300},
    },
    "rebuild-analytics": {
        "task": "analytics.refresh_rollups",
        "schedule": crontab(hour=env.int("CADENCE_ANALYTICS_REBUILD_HOUR", default=2), minute=47),
        "kwargs": {"rebuild": True},
        "options": {"expires": 6 * 3600},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Automated email safeguards (each also settable per sender where it says so).
# Printed in every automated email's footer unless the sender has their own.
CADENCE_POSTAL_ADDRESS = env.str("CADENCE_POSTAL_ADDRESS", default="")
# Per sending user (per sender settable): a day in the sender's time zone, an hour.
CADENCE_SEND_DAILY_LIMIT = env.int("CADENCE_SEND_DAILY_LIMIT", default=200)
CADENCE_SEND_HOURLY_LIMIT = env.int("CADENCE_SEND_HOURLY_LIMIT", default=50)
# A new mailbox sends RAMP_START a day on its first day, RAMP_STEP more each day after.
CADENCE_SEND_RAMP_START = env.int("CADENCE_SEND_RAMP_START", default=20)
CADENCE_SEND_RAMP_STEP = env.int("CADENCE_SEND_RAMP_STEP", default=10)
# Across all senders: per recipient domain an hour; touches per company a week (Monday-based,
# UTC), counting automated sends and outbound activities logged by hand.
CADENCE_DOMAIN_HOURLY_LIMIT = env.int("CADENCE_DOMAIN_HOURLY_LIMIT", default=30)
CADENCE_COMPANY_WEEKLY_TOUCHES = env.int("CADENCE_COMPANY_WEEKLY_TOUCHES", default=10)
# Bounces and complaints in 24 hours that pause a sender's automation: at least this many, and
# at least this share of what the sender sent in those 24 hours.
CADENCE_BOUNCE_PAUSE_COUNT = env.int("CADENCE_BOUNCE_PAUSE_COUNT", default=5)
CADENCE_BOUNCE_PAUSE_RATE = env.float("CADENCE_BOUNCE_PAUSE_RATE", default=0.05)
# A message claimed by a worker that has not finished after this many seconds is reclaimed:
# queued again if it never reached the mail server, marked uncertain if it may have.
CADENCE_OUTBOX_CLAIM_TIMEOUT = env.int("CADENCE_OUTBOX_CLAIM_TIMEOUT", default=300)

# Minutes before a step is due that its reminder is made.
CADENCE_REMINDER_LEAD_MINUTES = env.int("CADENCE_REMINDER_LEAD_MINUTES", default=15)

# Analytics: the activity outcomes that make a plan count as converted, and how long after its
# due time a step still counts as done on time (a request's grace_hours overrides it).
CADENCE_CONVERSION_OUTCOMES = env.list(
    "CADENCE_CONVERSION_OUTCOMES", default=["Replied", "Meeting Booked"]
)
CADENCE_ADHERENCE_GRACE_HOURS = env.int("CADENCE_ADHERENCE_GRACE_HOURS", default=24)

# Mailboxes. Secrets stored in the database are encrypted with these Fernet keys: the first
# encrypts, all decrypt (cadence/core/secrets.py; `manage.py rotate_secrets` re-encrypts with the
# first). Unset, one key is derived from SECRET_KEY.
CADENCE_SECRET_KEYS = env.list("CADENCE_SECRET_KEYS", default=[])
# How long a connection to a mail server may take before it counts as unreachable.
CADENCE_MAILBOX_TIMEOUT = env.int("CADENCE_MAILBOX_TIMEOUT", default=15)
# How often the connected mailboxes are read (the beat's sync_mailboxes, and the command).
CADENCE_MAILBOX_SYNC_SECONDS = env.int("CADENCE_MAILBOX_SYNC_SECONDS", default=60)
# Folders read like the inbox besides it (comma-separated), where mail filters file replies; a
# mailbox that has no such folder is read without it.
CADENCE_MAILBOX_FOLDERS = env.list("CADENCE_MAILBOX_FOLDERS", default=[])
# Google and Microsoft 365 mailboxes connect with OAuth 2.0 (cadence/mailboxes/oauth.py); a
# provider's Connect button shows only when its client ID and secret are set. The redirect URL to
# register is CADENCE_SITE_URL + /settings/mailbox/oauth/<google|microsoft>/callback/ (README).
CADENCE_GOOGLE_CLIENT_ID = env.str("CADENCE_GOOGLE_CLIENT_ID", default="")
CADENCE_GOOGLE_CLIENT_SECRET = env.str("CADENCE_GOOGLE_CLIENT_SECRET", default="")
CADENCE_MICROSOFT_CLIENT_ID = env.str("CADENCE_MICROSOFT_CLIENT_ID", default="")
CADENCE_MICROSOFT_CLIENT_SECRET = env.str("CADENCE_MICROSOFT_CLIENT_SECRET", default="")
# "common" lets any organisation's users (and personal accounts) sign in; a tenant ID or domain
# keeps it to one organisation.
CADENCE_MICROSOFT_TENANT = env.str("CADENCE_MICROSOFT_TENANT", default="common")
# Per provider, values that replace the documented endpoints and mail servers (authorize_url,
# token_url, imap_host, imap_port, imap_security, smtp_host, ...): the tests point them at
# their local servers.
CADENCE_OAUTH_OVERRIDES: dict[str, dict] = {}
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
