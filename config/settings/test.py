"""Settings for the test suite: SQLite in memory, or the PostgreSQL of CADENCE_TEST_DATABASE_URL."""

import environ

from .base import *  # noqa: F403
from .base import DATABASES

_url = environ.Env().str("CADENCE_TEST_DATABASE_URL", default="")
if _url:
    DATABASES["default"] = environ.Env.db_url_config(_url)
else:
    DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}

# One process: the sign-in throttle's counts in memory, emptied before each test (conftest).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client and the browser tests' live server speak plain HTTP, even where the environment
# running the suite has a SECRET_KEY (which turns the HTTPS protections on in base).
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
CELERY_TASK_ALWAYS_EAGER = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
# A mail server that does not answer is reported after this long: the API fuzzer may name any
# host, and no test waits on a real timeout longer than this.
CADENCE_MAILBOX_TIMEOUT = 2
