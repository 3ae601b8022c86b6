"""Secrets at rest: encrypted with the first key, read with any, refused when no key fits."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from cadence.core.secrets import (
    SecretUnreadable,
    secret_decrypt,
    secret_encrypt,
    secret_rotate,
)

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_secret_is_stored_encrypted_and_read_back(settings):
    settings.CADENCE_SECRET_KEYS = [OLD]
    stored = secret_encrypt("hunter2 app password")
    assert "hunter2" not in stored
    assert secret_decrypt(stored) == "hunter2 app password"
    # Each encryption is fresh (a random IV): equal secrets do not look equal at rest.
    assert secret_encrypt("hunter2 app password") != stored
    assert secret_encrypt("") == "" and secret_decrypt("") == ""


def test_keys_rotate_first_encrypts_all_decrypt(settings):
    settings.CADENCE_SECRET_KEYS = [OLD]
    stored = secret_encrypt("s3cret")
    settings.CADENCE_SECRET_KEYS = [NEW, OLD]
    assert secret_decrypt(stored) == "s3cret"
    rotated = secret_rotate(stored)
    settings.CADENCE_SECRET_KEYS = [NEW]
    assert secret_decrypt(rotated) == "s3cret"
    with pytest.raises(SecretUnreadable, match="CADENCE_SECRET_KEYS"):
        secret_decrypt(stored)


def test_an_altered_secret_is_refused_not_misread(settings):
    settings.CADENCE_SECRET_KEYS = [OLD]
    stored = secret_encrypt("s3cret")
    altered = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(SecretUnreadable):
        secret_decrypt(altered)


def test_without_keys_one_is_derived_from_the_secret_key(settings):
    settings.CADENCE_SECRET_KEYS = []
    stored = secret_encrypt("dev password")
    assert secret_decrypt(stored) == "dev password"
    settings.SECRET_KEY = "another secret key for another installation"
    with pytest.raises(SecretUnreadable):
        secret_decrypt(stored)


def test_a_key_that_is_not_a_fernet_key_is_a_configuration_error(settings):
    settings.CADENCE_SECRET_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        secret_encrypt("x")
