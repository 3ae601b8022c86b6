"""The settings page's mailbox section: connect (against real servers), what a failure shows,
status, test and disconnect."""

import secrets

import pytest

from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.tests import conftest as mail_servers
from cadence.mailboxes.tests.test_services import fields, stored_mailbox

pytestmark = pytest.mark.django_db

# The real IMAP and SMTP servers' fixtures, from the mailboxes app's tests.
dovecot_server = mail_servers.dovecot_server
dovecot = mail_servers.dovecot
smtp_auth_server = mail_servers.smtp_auth_server


def test_a_mailbox_is_connected_from_the_settings_page(rep, web_client, dovecot, smtp_auth_server):
    name, password = f"rep-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    dovecot.add_user(name, password)
    smtp_auth_server.add_user(name, password)
    client = web_client(rep)
    assert 'name="imap_host"' in client.get("/settings/").content.decode()
    data = {
        "email_address": f"{name}@example.com",
        "username": name,
        "password": password,
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_security": "none",
        "smtp_host": smtp_auth_server.host,
        "smtp_port": smtp_auth_server.port,
        "smtp_security": "none",
    }
    response = client.post("/settings/mailbox/", data, follow=True)
    page = response.content.decode()
    assert "Your mailbox is connected." in page
    assert f"{name}@example.com" in page and "Connected" in page
    assert password not in page
    assert Mailbox.objects.get().user == rep


def test_a_failed_connection_is_shown_beside_its_field(rep, web_client):
    response = web_client(rep).post("/settings/mailbox/", fields(password="Tr0ub4dor-secret"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_imap_host_error"' in page and "refused the connection" in page
    # The other fields are kept for a second try; the password is not sent back.
    assert 'value="127.0.0.1"' in page and "Tr0ub4dor-secret" not in page
    assert not Mailbox.objects.exists()


def test_a_broken_mailbox_shows_why_and_is_disconnected(rep, manager, web_client):
    mailbox = stored_mailbox(rep)
    client = web_client(rep)
    response = client.post(f"/settings/mailbox/{mailbox.pk}/test/", follow=True)
    page = response.content.decode()
    assert "Your mailbox cannot be reached" in page and "Broken" in page
    assert (
        web_client(manager).post(f"/settings/mailbox/{mailbox.pk}/disconnect/").status_code == 404
    )
    response = client.post(f"/settings/mailbox/{mailbox.pk}/disconnect/", follow=True)
    assert "disconnected, and its password or tokens erased" in response.content.decode()
    assert not Mailbox.objects.exists()
