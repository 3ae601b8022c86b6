"""Secrets kept in the database (mailbox passwords, OAuth tokens), encrypted at rest.

The keys come from the environment, ``CADENCE_SECRET_KEYS``: a comma-separated list of Fernet
keys (``manage.py generate_secret_key`` prints a new one). The first key encrypts; every key
decrypts, so a new key is put first, ``manage.py rotate_secrets`` re-encrypts what is stored
with it, and the old key is then removed. Without the setting (``make run``, the tests) one key
is derived from ``SECRET_KEY``, so that a development database stays readable across restarts;
production sets its own keys.

Fernet (AES-128-CBC with an HMAC-SHA256, from the ``cryptography`` library) authenticates what
it decrypts: a token altered in the database, or encrypted with a key no longer listed, is
refused rather than read as garbage.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret that no configured key decrypts."""


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"cadence secrets\0" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CADENCE_SECRET_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from exc


def _keys() -> MultiFernet:
    keys = tuple(key for key in getattr(settings, "CADENCE_SECRET_KEYS", ()) if key.strip())
    return _fernet(keys or (_derived_key().decode(),))


def secret_encrypt(plain: str) -> str:
    """``plain`` encrypted with the first key, as text to store; empty stays empty."""
    if not plain:
        return ""
    return _keys().encrypt(plain.encode()).decode()


def secret_decrypt(stored: str) -> str:
    """The plain text of a stored secret; ``SecretUnreadable`` if no key decrypts it."""
    if not stored:
        return ""
    try:
        return _keys().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the keys in CADENCE_SECRET_KEYS."
        ) from exc


def secret_rotate(stored: str) -> str:
    """A stored secret re-encrypted with the first key (``rotate_secrets``)."""
    if not stored:
        return ""
    try:
        return _keys().rotate(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the keys in CADENCE_SECRET_KEYS."
        ) from exc
