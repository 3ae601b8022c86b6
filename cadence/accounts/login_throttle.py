"""Brute-force protection for every sign-in door: the API token, the web pages, the admin and
the browsable API's login.

The rule: ``CADENCE_LOGIN_FAILURES_PER_ACCOUNT`` failed sign-ins for one username, or
``CADENCE_LOGIN_FAILURES_PER_ADDRESS`` from one client address, within
``CADENCE_LOGIN_COOLDOWN_SECONDS`` refuse every further attempt for that username or address
(the right password included) for ``CADENCE_LOGIN_COOLDOWN_SECONDS``. Nothing is locked for
good: once the cool-down has passed the next attempt is checked as usual. Attempts refused
during a cool-down do not count, so hammering a locked account does not keep it locked.

Failures are counted from Django's ``user_login_failed`` signal, which ``authenticate()`` sends
for every door; the refusal is :class:`cadence.accounts.backends.LoginThrottleBackend`, which
``authenticate()`` asks first. The doors ask :func:`login_throttle_wait` themselves only to say
why (a form error, a 429).

The counts live in Django's configured cache (``CACHES["default"]``), so the throttle holds
across processes and servers exactly as far as that cache is shared: a file cache on one host
(the embedded default), Redis or Memcached (``CACHE_URL``) for several. A per-process memory
cache would give each worker its own count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest

_PREFIX = "cadence:login"


def client_address(request: HttpRequest | None) -> str:
    """The address a request came from. Behind ``CADENCE_TRUSTED_PROXIES`` reverse proxies it is
    the one the outermost of them saw, read from X-Forwarded-For; with none (the default), the
    socket's peer, since a client can write any X-Forwarded-For it likes."""
    if request is None:
        return ""
    meta = request.META
    proxies = settings.CADENCE_TRUSTED_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return meta.get("REMOTE_ADDR", "") or ""


def _scopes(*, username: str | None, address: str | None) -> list[tuple[str, int]]:
    """(cache key stem, failure limit) for each thing a sign-in attempt is counted against."""
    scopes = []
    if isinstance(username, str) and username.strip():
        # Case-folded: a username that differs only in case is the same account to an attacker
        # on a database whose collation ignores case, and costs a real user nothing.
        account = _stem("account", username.strip().casefold())
        scopes.append((account, settings.CADENCE_LOGIN_FAILURES_PER_ACCOUNT))
    if address:
        scopes.append((_stem("address", address), settings.CADENCE_LOGIN_FAILURES_PER_ADDRESS))
    return scopes


def _stem(kind: str, value: str) -> str:
    # Hashed: a username may hold characters some cache backends refuse in a key.
    return f"{_PREFIX}:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def login_throttle_wait(*, username: str | None, address: str | None) -> int:
    """Seconds until a sign-in for ``username`` from ``address`` may be tried again; 0 if now."""
    now = time.time()
    wait = 0.0
    for stem, _limit in _scopes(username=username, address=address):
        until = cache.get(f"{stem}:locked")
        if until is not None:
            wait = max(wait, until - now)
    return math.ceil(wait) if wait > 0 else 0


def login_failure_record(*, username: str | None, address: str | None) -> None:
    """Count one failed sign-in against the username and the address; the one that reaches its
    limit is refused for the cool-down, and starts afresh after it."""
    cooldown = settings.CADENCE_LOGIN_COOLDOWN_SECONDS
    for stem, limit in _scopes(username=username, address=address):
        locked_key, count_key = f"{stem}:locked", f"{stem}:failures"
        if cache.get(locked_key) is not None:
            continue  # refused while cooling down: not a new guess
        # The window starts at the first failure: the key expires with it.
        cache.add(count_key, 0, timeout=cooldown)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=cooldown)
            count = 1
        if count >= limit:
            cache.set(locked_key, time.time() + cooldown, timeout=cooldown)
            cache.delete(count_key)


def login_throttled_message(wait: int) -> str:
    """What a sign-in page says while refusing: it names neither the account nor the address,
    so it tells nobody whether a username exists."""
    minutes = max(1, math.ceil(wait / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


def record_failed_login(sender, credentials: dict, request=None, **kwargs) -> None:
    """Receiver of ``user_login_failed`` (connected in ``AccountsConfig.ready``): every door
    goes through ``authenticate()``, which sends it once per failed attempt."""
    username = credentials.get(get_user_model().USERNAME_FIELD)
    login_failure_record(username=username, address=client_address(request))
