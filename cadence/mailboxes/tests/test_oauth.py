"""Google and Microsoft 365 mailboxes over OAuth 2.0, against real parts: a local authorization
server (``oauth_server.py``), Dovecot checking XOAUTH2 tokens through its ``oauth2`` passdb,
and an SMTP submission server checking them against the same introspection endpoint."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import time
import urllib.parse

import pytest
import requests
from django.core import signing

from cadence.core.errors import CadenceError
from cadence.core.secrets import secret_decrypt
from cadence.core.tests.api_helpers import API
from cadence.mailboxes import oauth
from cadence.mailboxes.connection import (
    Endpoint,
    MailboxError,
    imap_check,
    smtp_check,
    smtp_session,
)
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.services import (
    MailboxTokenError,
    mailbox_access_token,
    mailbox_connect_oauth,
    mailbox_endpoints,
    mailbox_test,
)
from cadence.mailboxes.tests.oauth_server import CLIENT_ID, CLIENT_SECRET
from cadence.mailboxes.tests.servers import free_port

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://localhost:8000/settings/mailbox/oauth/google/callback/"


@pytest.fixture
def configured(settings, oauth_server, dovecot_oauth, smtp_oauth_server):
    """Both providers set up, their endpoints and mail servers the local test servers."""
    servers = {
        "imap_host": dovecot_oauth.host,
        "imap_port": dovecot_oauth.port,
        "imap_security": "none",
        "smtp_host": smtp_oauth_server.host,
        "smtp_port": smtp_oauth_server.port,
        "smtp_security": "none",
    }
    for name in ("GOOGLE", "MICROSOFT"):
        setattr(settings, f"CADENCE_{name}_CLIENT_ID", CLIENT_ID)
        setattr(settings, f"CADENCE_{name}_CLIENT_SECRET", CLIENT_SECRET)
    settings.CADENCE_OAUTH_OVERRIDES = {
        "google": oauth_server.overrides(**servers),
        "microsoft": oauth_server.overrides(**servers),
    }
    return oauth_server


def new_address() -> str:
    return f"rep-{secrets.token_hex(4)}@example.com"


def consent(url: str) -> dict[str, str]:
    """Follow the consent URL as the browser would, and return the callback's query."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))


def sign_in(user, *, provider="google", session=None, address=None, server=None):
    """The whole flow outside the web page: start, consent, finish."""
    session = {} if session is None else session
    if server is not None:
        server.consent_as(address or new_address())
    url = oauth.authorization_start(
        session=session, user_id=user.pk, provider=provider, redirect_uri=REDIRECT_URI
    )
    params = consent(url)
    return oauth.authorization_finish(
        session=session,
        user_id=user.pk,
        provider=provider,
        params=params,
        redirect_uri=REDIRECT_URI,
        now=datetime.datetime.now(datetime.UTC),
    )


def test_a_provider_shows_only_with_its_client_id_and_secret(settings):
    settings.CADENCE_GOOGLE_CLIENT_ID, settings.CADENCE_GOOGLE_CLIENT_SECRET = "id", ""
    settings.CADENCE_MICROSOFT_CLIENT_ID = settings.CADENCE_MICROSOFT_CLIENT_SECRET = ""
    assert oauth.providers_configured() == []
    settings.CADENCE_GOOGLE_CLIENT_SECRET = "secret"
    assert [provider.name for provider in oauth.providers_configured()] == ["google"]
    with pytest.raises(oauth.OAuthFlowError, match="not set up"):
        oauth.provider_config("microsoft")


def test_the_consent_urls_follow_each_providers_documentation(settings, rep):
    """Google's and Microsoft's documented endpoints and scopes, with an S256 code challenge
    of the verifier kept in the session."""
    settings.CADENCE_GOOGLE_CLIENT_ID, settings.CADENCE_GOOGLE_CLIENT_SECRET = "gid", "gs"
    settings.CADENCE_MICROSOFT_CLIENT_ID, settings.CADENCE_MICROSOFT_CLIENT_SECRET = "mid", "ms"
    settings.CADENCE_MICROSOFT_TENANT = "contoso.onmicrosoft.com"
    session: dict = {}
    google = urllib.parse.urlsplit(
        oauth.authorization_start(
            session=session, user_id=rep.pk, provider="google", redirect_uri=REDIRECT_URI
        )
    )
    query = dict(urllib.parse.parse_qsl(google.query))
    assert f"{google.scheme}://{google.netloc}{google.path}" == (
        "https://accounts.google.com/o/oauth2/v2/auth"
    )
    assert query["scope"].split() == ["https://mail.google.com/", "openid", "email"]
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert (query["client_id"], query["response_type"]) == ("gid", "code")
    assert query["redirect_uri"] == REDIRECT_URI
    (pending,) = session[oauth.PENDING_KEY].values()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending["verifier"].encode()).digest())
    assert query["code_challenge"] == challenge.rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert pending["verifier"] not in google.geturl()

    microsoft = urllib.parse.urlsplit(
        oauth.authorization_start(
            session=session, user_id=rep.pk, provider="microsoft", redirect_uri=REDIRECT_URI
        )
    )
    query = dict(urllib.parse.parse_qsl(microsoft.query))
    assert f"{microsoft.scheme}://{microsoft.netloc}{microsoft.path}" == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    )
    assert query["scope"].split() == [
        "offline_access",
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "openid",
        "email",
    ]
    assert oauth.provider_config("microsoft").token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert (
        oauth.provider_config("microsoft").smtp_port,
        oauth.provider_config("google").imap_host,
    ) == (
        587,
        "imap.gmail.com",
    )


def test_a_finished_sign_in_gives_the_address_and_tokens(configured, rep):
    address = new_address()
    grant = sign_in(rep, server=configured, address=address)
    assert (grant.provider, grant.email_address) == ("google", address)
    assert grant.tokens.access_token and grant.tokens.refresh_token
    assert grant.tokens.access_token not in repr(grant)
    # The code went with the verifier and the client's secret in the body.
    (exchange,) = [body for path, body in configured.requests if path == "/token"][-1:]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]
    assert exchange["client_secret"] == CLIENT_SECRET


def test_a_state_is_good_once_and_only_in_its_own_session(configured, rep, manager):
    configured.consent_as(new_address())
    session: dict = {}
    url = oauth.authorization_start(
        session=session, user_id=rep.pk, provider="google", redirect_uri=REDIRECT_URI
    )
    params = consent(url)

    def finish(session, *, user=rep, provider="google", **change):
        return oauth.authorization_finish(
            session=session,
            user_id=user.pk,
            provider=provider,
            params={**params, **change},
            redirect_uri=REDIRECT_URI,
            now=datetime.datetime.now(datetime.UTC),
        )

    copied = json.loads(json.dumps(session))
    for wrong in (
        {"state": "forged"},
        {"state": signing.dumps({"provider": "google", "nonce": "x"}, salt="other")},
    ):
        with pytest.raises(oauth.OAuthFlowError, match="could not be matched"):
            finish(dict(copied), **wrong)
    # Another browser's session, another user, another provider's callback.
    for session_, kwargs in (({}, {}), (dict(copied), {"user": manager})):
        with pytest.raises(oauth.OAuthFlowError, match="could not be matched"):
            finish(session_, **kwargs)
    with pytest.raises(oauth.OAuthFlowError, match="could not be matched"):
        finish(dict(copied), provider="microsoft")

    assert finish(session).tokens.access_token
    with pytest.raises(oauth.OAuthFlowError, match="could not be matched"):
        finish(session)


def test_a_state_expires(configured, rep):
    """A state signed longer ago than ``STATE_SECONDS`` is refused though its session has it."""

    class SignedLongAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - oauth.STATE_SECONDS - 5)

    session: dict = {}
    url = oauth.authorization_start(
        session=session, user_id=rep.pk, provider="google", redirect_uri=REDIRECT_URI
    )
    params = consent(url)
    old = SignedLongAgo(salt=oauth.STATE_SALT).sign_object(
        signing.loads(params["state"], salt=oauth.STATE_SALT)
    )
    with pytest.raises(oauth.OAuthFlowError, match="could not be matched"):
        oauth.authorization_finish(
            session=session,
            user_id=rep.pk,
            provider="google",
            params={**params, "state": old},
            redirect_uri=REDIRECT_URI,
            now=datetime.datetime.now(datetime.UTC),
        )


def test_a_wrong_verifier_is_refused_by_the_token_endpoint(configured, rep):
    configured.consent_as(new_address())
    session: dict = {}
    url = oauth.authorization_start(
        session=session, user_id=rep.pk, provider="google", redirect_uri=REDIRECT_URI
    )
    (pending,) = session[oauth.PENDING_KEY].values()
    pending["verifier"] = secrets.token_urlsafe(64)
    with pytest.raises(oauth.OAuthFlowError, match="PKCE verification failed"):
        oauth.authorization_finish(
            session=session,
            user_id=rep.pk,
            provider="google",
            params=consent(url),
            redirect_uri=REDIRECT_URI,
            now=datetime.datetime.now(datetime.UTC),
        )


def test_an_id_token_for_another_application_is_refused(configured, rep):
    configured.id_token_claims = {"aud": "someone-else"}
    with pytest.raises(oauth.OAuthFlowError, match="another application"):
        sign_in(rep, server=configured)


def test_the_mailbox_connects_with_xoauth2_and_its_tokens_are_stored_encrypted(
    configured, rep, smtp_oauth_server
):
    address = new_address()
    grant = sign_in(rep, server=configured, address=address)
    mailbox = mailbox_connect_oauth(actor=rep, grant=grant)
    mailbox.refresh_from_db()
    assert (mailbox.provider, mailbox.email_address, mailbox.username) == (
        "google",
        address,
        address,
    )
    assert (mailbox.status, mailbox.sent_folder) == ("connected", "Sent")
    for token in (grant.tokens.access_token, grant.tokens.refresh_token):
        assert token not in mailbox.secret_encrypted
    assert json.loads(secret_decrypt(mailbox.secret_encrypted)) == {
        "access_token": grant.tokens.access_token,
        "refresh_token": grant.tokens.refresh_token,
    }
    assert mailbox.token_expires_at == grant.tokens.expires_at

    # The endpoints carry the token and no password; SMTP takes mail from the token's owner.
    imap, smtp = mailbox_endpoints(mailbox)
    assert (imap.password, imap.oauth_token) == ("", grant.tokens.access_token)
    assert grant.tokens.access_token not in repr(imap)
    with smtp_session(smtp) as client:
        client.sendmail(address, ["lead@example.org"], b"Subject: hi\r\n\r\nHello.\r\n")
    assert [(m.username, m.mail_from) for m in smtp_oauth_server.messages] == [(address, address)]


def test_a_refused_token_is_an_authentication_failure_on_both_servers(
    configured, dovecot_oauth, smtp_oauth_server
):
    address = new_address()
    good = configured.issue_access_token(address)
    for token in (good,):
        imap_check(Endpoint(dovecot_oauth.host, dovecot_oauth.port, "none", address, "", token))
        smtp_check(
            Endpoint(smtp_oauth_server.host, smtp_oauth_server.port, "none", address, "", token)
        )
    other = configured.issue_access_token(new_address())
    for token in ("not-a-token", other):
        with pytest.raises(MailboxError) as imap_error:
            imap_check(Endpoint(dovecot_oauth.host, dovecot_oauth.port, "none", address, "", token))
        with pytest.raises(MailboxError) as smtp_error:
            smtp_check(
                Endpoint(smtp_oauth_server.host, smtp_oauth_server.port, "none", address, "", token)
            )
        for error, server in ((imap_error.value, "imap"), (smtp_error.value, "smtp")):
            assert (error.server, error.authentication) == (server, True)
            assert error.message == f"The {server.upper()} server refused the access token."


def test_nothing_is_stored_when_a_login_fails(configured, rep):
    grant = sign_in(rep, server=configured)
    configured.expire_access_tokens()
    with pytest.raises(CadenceError, match="IMAP server refused the access token"):
        mailbox_connect_oauth(actor=rep, grant=grant)
    assert not Mailbox.objects.exists()


def test_an_expiring_access_token_is_refreshed_and_saved(configured, rep):
    grant = sign_in(rep, server=configured)
    mailbox = mailbox_connect_oauth(actor=rep, grant=grant)
    refreshes = configured.token_grant_types().count("refresh_token")
    before_expiry = mailbox.token_expires_at - datetime.timedelta(minutes=30)
    assert mailbox_access_token(mailbox=mailbox, now=before_expiry) == grant.tokens.access_token
    assert configured.token_grant_types().count("refresh_token") == refreshes

    # The server's hour is over; within the margin, Cadence asks for a new token first.
    configured.expire_access_tokens()
    now = mailbox.token_expires_at - datetime.timedelta(minutes=2)
    fresh = mailbox_access_token(mailbox=mailbox, now=now)
    assert fresh != grant.tokens.access_token
    assert configured.token_grant_types().count("refresh_token") == refreshes + 1
    mailbox.refresh_from_db()
    assert mailbox.token_expires_at == now + datetime.timedelta(seconds=3600)
    # Google sent no new refresh token: the old one is kept.
    assert json.loads(secret_decrypt(mailbox.secret_encrypted)) == {
        "access_token": fresh,
        "refresh_token": grant.tokens.refresh_token,
    }
    imap, smtp = mailbox_endpoints(mailbox)
    assert imap.oauth_token == fresh
    imap_check(imap)
    smtp_check(smtp)


def test_microsoft_takes_the_sign_in_name_and_rotates_refresh_tokens(configured, rep):
    address = new_address()
    configured.id_token_claims = {"email": None, "preferred_username": address}
    configured.rotate_refresh_tokens = True
    grant = sign_in(rep, provider="microsoft", server=configured, address=address)
    assert grant.email_address == address
    mailbox = mailbox_connect_oauth(actor=rep, grant=grant)
    mailbox_access_token(mailbox=mailbox, now=mailbox.token_expires_at)
    refresh = [body for path, body in configured.requests if path == "/token"][-1]
    assert refresh["grant_type"] == "refresh_token"
    assert "https://outlook.office.com/IMAP.AccessAsUser.All" in refresh["scope"].split()
    stored = json.loads(secret_decrypt(Mailbox.objects.get().secret_encrypted))
    assert stored["refresh_token"] not in ("", grant.tokens.refresh_token)


def test_a_revoked_refresh_token_is_an_authentication_failure(configured, rep, client_for):
    grant = sign_in(rep, server=configured)
    mailbox = mailbox_connect_oauth(actor=rep, grant=grant)
    configured.revoke(grant.email_address)
    Mailbox.objects.filter(pk=mailbox.pk).update(token_expires_at=mailbox.created_at)
    mailbox.refresh_from_db()

    # What a sync or a send gets: a refused login, counted towards the mailbox being broken.
    with pytest.raises(MailboxError) as error:
        mailbox_endpoints(mailbox)
    assert error.value.authentication is True
    assert "no longer lets Cadence in" in error.value.message
    assert grant.tokens.refresh_token not in error.value.message
    with pytest.raises(MailboxTokenError):
        mailbox_test(mailbox=mailbox, actor=rep)
    mailbox.refresh_from_db()
    assert mailbox.status == "broken" and "Connect the mailbox again" in mailbox.last_error

    # Through the API, a 400 with the reason.
    response = client_for(rep).post(f"{API}/mailboxes/{mailbox.pk}/test/")
    assert response.status_code == 400
    assert "no longer lets Cadence in" in response.json()["detail"]


def test_an_unreachable_token_endpoint_is_not_an_authentication_failure(configured, rep, settings):
    grant = sign_in(rep, server=configured)
    mailbox = mailbox_connect_oauth(actor=rep, grant=grant)
    # A port found free and not listened on: the connection is refused.
    closed = f"http://127.0.0.1:{free_port()}/token"
    settings.CADENCE_OAUTH_OVERRIDES = {
        "google": {**settings.CADENCE_OAUTH_OVERRIDES["google"], "token_url": closed}
    }
    with pytest.raises(MailboxError) as error:
        mailbox_access_token(mailbox=mailbox, now=mailbox.token_expires_at)
    assert error.value.authentication is False
    assert "could not be reached" in error.value.message
