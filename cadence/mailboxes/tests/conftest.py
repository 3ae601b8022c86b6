"""Real IMAP and SMTP servers for the mailbox tests (see ``servers.py``).

Dovecot is ``CADENCE_DOVECOT`` (default ``/usr/sbin/dovecot``, Debian's ``dovecot-imapd``).
Without it, or if it cannot start, the tests that use it skip, unless
``CADENCE_REQUIRE_SERVICES=1``, which makes that a failure so that CI cannot pass by skipping.
"""

from __future__ import annotations

import os

import pytest

from cadence.mailboxes.tests.oauth_server import OAuthServer
from cadence.mailboxes.tests.servers import DovecotServer, ServerUnavailable, SmtpAuthServer

REQUIRED = os.environ.get("CADENCE_REQUIRE_SERVICES") == "1"


def _started_dovecot(**options):
    server = DovecotServer(**options)
    try:
        server.start()
    except ServerUnavailable as error:
        if REQUIRED:
            pytest.fail(f"{error}\nCADENCE_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
        pytest.skip(str(error))
    return server


@pytest.fixture(scope="module")
def dovecot_server():
    """One Dovecot per test module: it starts in about 0.1 s, but stopping takes about 1 s."""
    server = _started_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot(dovecot_server):
    """The module's Dovecot. Tests share it, so each makes its own users with ``add_user()``,
    whose generated names are never reused: no test sees another's mail."""
    if not dovecot_server.running:
        pytest.fail(f"Dovecot has stopped:\n{dovecot_server.log_tail()}", pytrace=False)
    return dovecot_server


@pytest.fixture
def smtp_auth_server():
    """A fresh SMTP submission server for each test (it starts in milliseconds); its users come
    from ``add_user()``."""
    with SmtpAuthServer() as server:
        yield server


@pytest.fixture(scope="module")
def oauth_server_module():
    with OAuthServer() as server:
        yield server


@pytest.fixture
def oauth_server(oauth_server_module):
    """The module's OAuth authorization server (``oauth_server.py``), with the defaults back:
    tokens for an hour, refresh tokens kept, the ID token as issued."""
    server = oauth_server_module
    server.expires_in, server.rotate_refresh_tokens, server.id_token_claims = 3600, False, {}
    return server


@pytest.fixture(scope="module")
def dovecot_oauth_server(oauth_server_module):
    """A Dovecot whose users may also log in with XOAUTH2, their tokens checked against the
    module's OAuth server."""
    server = _started_dovecot(oauth_introspection_url=f"{oauth_server_module.url}/introspect")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot_oauth(dovecot_oauth_server):
    if not dovecot_oauth_server.running:
        pytest.fail(f"Dovecot has stopped:\n{dovecot_oauth_server.log_tail()}", pytrace=False)
    return dovecot_oauth_server


@pytest.fixture
def smtp_oauth_server(oauth_server):
    """An SMTP submission server that takes XOAUTH2 with the OAuth server's tokens."""
    with SmtpAuthServer(oauth_introspection_url=f"{oauth_server.url}/introspect") as server:
        yield server
