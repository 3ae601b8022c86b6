"""Connecting a Google or Microsoft 365 mailbox from the settings page: the Connect buttons, the
trip to the provider (a local authorization server) and back to the callback, and what the page
says when the sign-in fails. Dovecot and the SMTP server check the tokens for real."""

import urllib.parse

import pytest
import requests
from django.test import Client

from cadence.mailboxes import oauth
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.tests import conftest as mail_servers
from cadence.mailboxes.tests.oauth_server import CLIENT_ID, CLIENT_SECRET
from cadence.mailboxes.tests.servers import free_port

pytestmark = pytest.mark.django_db

# The real servers' fixtures, from the mailboxes app's tests.
oauth_server_module = mail_servers.oauth_server_module
oauth_server = mail_servers.oauth_server
dovecot_oauth_server = mail_servers.dovecot_oauth_server
dovecot_oauth = mail_servers.dovecot_oauth
smtp_oauth_server = mail_servers.smtp_oauth_server

START = "/settings/mailbox/oauth/{}/start/"
CALLBACK = "/settings/mailbox/oauth/{}/callback/"


@pytest.fixture
def google(settings, oauth_server, dovecot_oauth, smtp_oauth_server):
    """Google set up (Microsoft not), pointed at the local servers."""
    settings.CADENCE_GOOGLE_CLIENT_ID = CLIENT_ID
    settings.CADENCE_GOOGLE_CLIENT_SECRET = CLIENT_SECRET
    settings.CADENCE_MICROSOFT_CLIENT_ID = settings.CADENCE_MICROSOFT_CLIENT_SECRET = ""
    settings.CADENCE_OAUTH_OVERRIDES = {
        "google": oauth_server.overrides(
            imap_host=dovecot_oauth.host,
            imap_port=dovecot_oauth.port,
            imap_security="none",
            smtp_host=smtp_oauth_server.host,
            smtp_port=smtp_oauth_server.port,
            smtp_security="none",
        )
    }
    oauth_server.consent_as("rep.one@example.com")
    return oauth_server


def to_provider(client) -> str:
    """Press Connect Google; return where the browser is sent."""
    response = client.post(START.format("google"))
    assert response.status_code == 302
    return response["Location"]


def back_from_provider(url: str) -> str:
    """The provider's answer to the browser: a redirect to the callback. Returns its path and
    query, to request from the test client."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urllib.parse.urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == "http://localhost:8000"
    return f"{location.path}?{location.query}"


def page_text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_connect_buttons_show_only_for_configured_providers(rep, web_client, settings):
    settings.CADENCE_GOOGLE_CLIENT_ID = settings.CADENCE_MICROSOFT_CLIENT_ID = ""
    page = page_text(web_client(rep).get("/settings/"))
    assert "Connect Google" not in page and "Connect Microsoft 365" not in page
    assert "use an app password" in page

    settings.CADENCE_GOOGLE_CLIENT_ID, settings.CADENCE_GOOGLE_CLIENT_SECRET = "id", "secret"
    response = web_client(rep).get("/settings/")
    page = page_text(response)
    assert "Connect Google" in page and "Connect Microsoft 365" not in page
    assert f'action="{START.format("google")}"' in page
    # The browser may follow the button's redirect to Google.
    assert "form-action 'self' https://accounts.google.com" in response["Content-Security-Policy"]


def test_a_google_mailbox_is_connected_through_the_page(rep, web_client, google):
    client = web_client(rep)
    authorize = urllib.parse.urlsplit(to_provider(client))
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{google.url}/authorize"
    query = dict(urllib.parse.parse_qsl(authorize.query))
    assert query["redirect_uri"] == "http://localhost:8000" + CALLBACK.format("google")
    assert query["code_challenge_method"] == "S256" and query["state"]

    callback = back_from_provider(authorize.geturl())
    page = page_text(client.get(callback, follow=True))
    assert "Your mailbox rep.one@example.com is connected." in page
    assert "Google" in page and "Connect Google" not in page
    mailbox = Mailbox.objects.get()
    assert (mailbox.user, mailbox.provider, mailbox.status) == (rep, "google", "connected")

    # The same callback again (a reload, or someone replaying it) connects nothing more.
    Mailbox.objects.all().delete()
    page = page_text(client.get(callback, follow=True))
    assert "could not be matched to one you started here" in page
    assert not Mailbox.objects.exists()


def test_a_callback_with_a_wrong_state_is_refused(rep, web_client, google):
    client = web_client(rep)
    callback = back_from_provider(to_provider(client))
    path, query = callback.split("?")
    params = dict(urllib.parse.parse_qsl(query))
    params["state"] = params["state"][:-2] + "xx"
    page = page_text(client.get(path, params, follow=True))
    assert "could not be matched to one you started here" in page
    # Nor does another user's browser finish this user's sign-in.
    page = page_text(web_client(rep).get(callback, follow=True))
    assert "could not be matched" in page
    assert not Mailbox.objects.exists()


def test_declined_consent_is_said_on_the_page(rep, web_client, google):
    client = web_client(rep)
    google.deny_next()
    page = page_text(client.get(back_from_provider(to_provider(client)), follow=True))
    assert "Your mailbox is not connected: Access was not granted at Google." in page
    assert not Mailbox.objects.exists()


def test_a_wrong_pkce_verifier_is_refused_by_the_token_endpoint(rep, web_client, google):
    client = web_client(rep)
    callback = back_from_provider(to_provider(client))
    session = client.session
    pending = session[oauth.PENDING_KEY]
    for entry in pending.values():
        entry["verifier"] = "x" * 64
    session[oauth.PENDING_KEY] = pending
    session.save()
    page = page_text(client.get(callback, follow=True))
    assert "Google refused the grant: PKCE verification failed." in page
    assert not Mailbox.objects.exists()


def test_an_unreachable_token_endpoint_is_a_message_not_an_error(rep, web_client, google, settings):
    client = web_client(rep)
    callback = back_from_provider(to_provider(client))
    overrides = settings.CADENCE_OAUTH_OVERRIDES["google"]
    settings.CADENCE_OAUTH_OVERRIDES = {
        "google": {**overrides, "token_url": f"http://127.0.0.1:{free_port()}/token"}
    }
    page = page_text(client.get(callback, follow=True))
    assert "token endpoint could not be reached" in page
    assert not Mailbox.objects.exists()


def test_a_mailbox_the_servers_refuse_is_not_stored(rep, web_client, google):
    client = web_client(rep)
    # The token is rep.one's, but the ID token names another mailbox: the servers refuse it.
    google.id_token_claims = {"email": "someone.else@example.com"}
    callback = back_from_provider(to_provider(client))
    client_page = page_text(client.get(callback, follow=True))
    assert "Your mailbox is not connected: The IMAP server refused the access token." in client_page
    assert not Mailbox.objects.exists()


def test_the_flow_starts_only_from_a_posted_form(rep, web_client, google):
    assert web_client(rep).get(START.format("google")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    assert strict.post(START.format("google")).status_code == 403
    page = page_text(web_client(rep).post(START.format("microsoft"), follow=True))
    assert "Connecting &#x27;microsoft&#x27; mailboxes is not set up on this server." in page
    page = page_text(web_client(rep).get(CALLBACK.format("nowhere"), follow=True))
    assert "not set up on this server" in page
