"""Mailbox services without a mail server: what is refused before any login, what an
unreachable server reads like, who may act on a mailbox, and the secrets' rotation."""

import socket

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.core.secrets import secret_decrypt, secret_encrypt
from cadence.mailboxes import services
from cadence.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fields(**overrides) -> dict:
    port = closed_port()
    return {
        "email_address": "rep@example.com",
        "username": "rep@example.com",
        "password": "app password",
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        **overrides,
    }


def stored_mailbox(user, **overrides) -> Mailbox:
    data = fields(**overrides)
    password = data.pop("password")
    return Mailbox.objects.create(
        user=user, provider="imap_smtp", secret_encrypted=secret_encrypt(password), **data
    )


def test_a_refused_connection_is_named_and_nothing_is_stored(rep):
    with pytest.raises(CadenceError, match="refused the connection") as refused:
        services.mailbox_connect(actor=rep, **fields())
    assert refused.value.field == "imap_host"
    assert "IMAP server at 127.0.0.1" in refused.value.message
    assert not Mailbox.objects.exists()


def test_an_unknown_host_is_named(rep, settings):
    settings.CADENCE_MAILBOX_TIMEOUT = 3
    with pytest.raises(CadenceError, match=r"cannot be found|cannot be reached|did not answer"):
        services.mailbox_connect(actor=rep, **fields(imap_host="imap.no-such-host.invalid"))
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"password": ""}, "password", "password or app password"),
        ({"provider": "google"}, "provider", "Connect buttons"),
    ],
)
def test_what_is_refused_before_any_login(rep, change, field, text):
    with pytest.raises(CadenceError) as refused:
        services.mailbox_connect(actor=rep, **fields(**change))
    assert refused.value.field == field
    assert text in refused.value.message


def test_a_malformed_address_is_refused_on_its_field(rep):
    with pytest.raises(ValidationError) as refused:
        services.mailbox_connect(actor=rep, **fields(email_address="not an address"))
    assert "email_address" in refused.value.message_dict


def test_one_mailbox_per_user_for_now(rep):
    stored_mailbox(rep)
    with pytest.raises(CadenceError, match="disconnect it first"):
        services.mailbox_connect(actor=rep, **fields())
    assert Mailbox.objects.count() == 1


def test_only_the_owner_tests_or_disconnects_their_mailbox(rep, manager, admin_user):
    mailbox = stored_mailbox(rep)
    for actor in (manager, admin_user):
        with pytest.raises(PermissionDeniedError, match="owner"):
            services.mailbox_test(mailbox=mailbox, actor=actor)
        with pytest.raises(PermissionDeniedError, match="owner"):
            services.mailbox_disconnect(mailbox=mailbox, actor=actor)
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()


def test_a_failed_test_marks_the_mailbox_broken_with_the_reason(rep):
    mailbox = stored_mailbox(rep)
    with pytest.raises(CadenceError, match="refused the connection"):
        services.mailbox_test(mailbox=mailbox, actor=rep)
    mailbox.refresh_from_db()
    assert mailbox.status == "broken"
    assert "refused the connection" in mailbox.last_error


def test_disconnecting_erases_the_secret(rep):
    mailbox = stored_mailbox(rep)
    services.mailbox_disconnect(mailbox=mailbox, actor=rep)
    assert not Mailbox.objects.exists()


def test_rotate_secrets_re_encrypts_with_the_first_key(rep, teammate, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CADENCE_SECRET_KEYS = [old]
    first = stored_mailbox(rep, password="first")
    second = stored_mailbox(teammate, password="second")
    settings.CADENCE_SECRET_KEYS = [new, old]
    call_command("rotate_secrets")
    assert "2 mailbox secret(s) re-encrypted" in capsys.readouterr().out
    settings.CADENCE_SECRET_KEYS = [new]
    for mailbox, password in ((first, "first"), (second, "second")):
        mailbox.refresh_from_db()
        assert secret_decrypt(mailbox.secret_encrypted) == password
