"""Connecting a mailbox against real servers: Dovecot for IMAP and an SMTP submission server
with AUTH. Cadence logs in to both before storing anything, and says what failed."""

import secrets

import pytest

from cadence.core.secrets import secret_decrypt
from cadence.core.tests.api_helpers import API
from cadence.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db

MAILBOXES = f"{API}/mailboxes/"


@pytest.fixture
def account(dovecot, smtp_auth_server):
    """One user known to both servers, with the same password, as a real mailbox is."""
    name, password = f"rep-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    dovecot.add_user(name, password)
    smtp_auth_server.add_user(name, password)
    return name, password


def body(dovecot, smtp, name, secret, **change) -> dict:
    return {
        "provider": "imap_smtp",
        "email_address": f"{name}@example.com",
        "username": name,
        "password": secret,
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        **change,
    }


def test_a_mailbox_connects_and_its_password_is_stored_encrypted(
    client_for, rep, dovecot, smtp_auth_server, account
):
    name, password = account
    response = client_for(rep).post(
        MAILBOXES, body(dovecot, smtp_auth_server, name, password), format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "connected" and data["last_error"] == ""
    assert {"mailbox_id", "last_sync_at", "last_error", "status"} <= set(data)
    assert password not in response.content.decode() and "password" not in data
    mailbox = Mailbox.objects.get()
    assert (mailbox.user, mailbox.username, mailbox.sent_folder) == (rep, name, "Sent")
    assert password not in mailbox.secret_encrypted
    assert secret_decrypt(mailbox.secret_encrypted) == password

    tested = client_for(rep).post(f"{MAILBOXES}{mailbox.pk}/test/")
    assert tested.status_code == 200, tested.content
    assert tested.json()["status"] == "connected"


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"password": "wrong"}, "password", "IMAP server refused the username or password"),
        ({"username": "nobody-here"}, "password", "IMAP server refused the username or password"),
        ({"imap_security": "ssl"}, "imap_host", "TLS with the IMAP server"),
        ({"imap_security": "starttls"}, "imap_host", "IMAP"),
    ],
)
def test_a_failed_imap_login_says_what_failed(
    client_for, rep, dovecot, smtp_auth_server, account, change, field, text
):
    name, password = account
    data = body(dovecot, smtp_auth_server, name, password, **change)
    response = client_for(rep).post(MAILBOXES, data, format="json")
    assert response.status_code == 400, response.content
    assert text in response.json()[field][0]
    assert not Mailbox.objects.exists()


def test_a_wrong_smtp_password_is_told_apart_from_imap(
    client_for, rep, dovecot, smtp_auth_server, account
):
    name, password = account
    data = body(dovecot, smtp_auth_server, name, password)
    # The SMTP server knows this user with another password only.
    smtp_auth_server.add_user(name, "not the mailbox password")
    response = client_for(rep).post(MAILBOXES, data, format="json")
    assert response.status_code == 400
    assert "SMTP server refused the username or password" in response.json()["password"][0]


def test_a_changed_password_breaks_the_mailbox_on_test(
    client_for, rep, dovecot, smtp_auth_server, account
):
    name, password = account
    client = client_for(rep)
    assert (
        client.post(
            MAILBOXES, body(dovecot, smtp_auth_server, name, password), format="json"
        ).status_code
        == 201
    )
    mailbox = Mailbox.objects.get()
    smtp_auth_server.add_user(name, "changed by the rep at their provider")
    response = client.post(f"{MAILBOXES}{mailbox.pk}/test/")
    assert response.status_code == 400
    mailbox.refresh_from_db()
    assert mailbox.status == "broken"
    assert "SMTP server refused" in mailbox.last_error
    shown = client.get(f"{MAILBOXES}{mailbox.pk}/").json()
    assert (shown["status"], shown["last_error"]) == ("broken", mailbox.last_error)
