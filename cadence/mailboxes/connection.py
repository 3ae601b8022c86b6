"""Logging in to a mailbox's IMAP and SMTP servers, and saying in words what failed.

Every connection has a timeout (``CADENCE_MAILBOX_TIMEOUT``), so a server that does not answer
is reported as unreachable rather than holding a request or a worker. The failures a person can
act on are named: the host cannot be found or refuses the connection, TLS fails, the username or
password is wrong, the inbox or the Sent folder is missing.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.conf import settings

#: Folders a mailbox must have: the replies land in the first, the rep's own mail in the second.
REQUIRED_FOLDERS = ("INBOX",)
SENT_FOLDER_NAMES = ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail", "INBOX.Sent")


class MailboxError(Exception):
    """A mail server refused or failed us; ``server`` says which (``imap`` or ``smtp``)."""

    def __init__(self, message: str, *, server: str, authentication: bool = False):
        super().__init__(message)
        self.message = message
        self.server = server
        self.authentication = authentication


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one server, and whom to log in as."""

    host: str
    port: int
    security: str
    username: str
    password: str
    #: An OAuth 2.0 access token: set, the login is SASL XOAUTH2 instead of the password.
    oauth_token: str = field(default="", repr=False)


def _xoauth2(endpoint: Endpoint) -> str:
    """The SASL XOAUTH2 initial response, as Google and Microsoft document it."""
    return f"user={endpoint.username}\x01auth=Bearer {endpoint.oauth_token}\x01\x01"


def _timeout() -> int:
    return getattr(settings, "CADENCE_MAILBOX_TIMEOUT", 15)


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def _network_error(exc: BaseException, endpoint: Endpoint, server: str) -> MailboxError:
    where = f"{endpoint.host}:{endpoint.port}"
    name = server.upper()
    if isinstance(exc, socket.gaierror):
        text = f"The {name} host {endpoint.host} cannot be found."
    elif isinstance(exc, ConnectionRefusedError):
        text = f"The {name} server at {where} refused the connection."
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        text = f"The {name} server at {where} did not answer within {_timeout()} seconds."
    elif isinstance(exc, ssl.SSLError):
        text = f"TLS with the {name} server at {where} failed: {exc.reason or exc}."
    else:
        text = f"The {name} server at {where} cannot be reached: {exc}."
    return MailboxError(text, server=server)


@contextmanager
def imap_session(endpoint: Endpoint):
    """An IMAP connection logged in as the endpoint's user; closed on leaving."""
    try:
        if endpoint.security == "ssl":
            client = imaplib.IMAP4_SSL(
                endpoint.host, endpoint.port, ssl_context=_tls(), timeout=_timeout()
            )
        else:
            client = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=_timeout())
            if endpoint.security == "starttls":
                client.starttls(ssl_context=_tls())
    except (OSError, imaplib.IMAP4.error) as exc:
        if isinstance(exc, imaplib.IMAP4.error):
            raise MailboxError(f"The IMAP server said: {exc}", server="imap") from exc
        raise _network_error(exc, endpoint, "imap") from exc
    try:
        _imap_login(client, endpoint)
        yield client
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _imap_login(client: imaplib.IMAP4, endpoint: Endpoint) -> None:
    try:
        if endpoint.oauth_token:
            # A refused token is answered with a challenge holding the error, to which the
            # client must send an empty response before the server says NO.
            answers = iter([_xoauth2(endpoint).encode()])
            client.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
        else:
            client.login(endpoint.username, endpoint.password)
    except imaplib.IMAP4.error as exc:
        refused = "access token" if endpoint.oauth_token else "username or password"
        raise MailboxError(
            f"The IMAP server refused the {refused}.",
            server="imap",
            authentication=True,
        ) from exc
    except OSError as exc:
        raise _network_error(exc, endpoint, "imap") from exc


def _folders(client: imaplib.IMAP4) -> set[str]:
    status, lines = client.list()
    if status != "OK":
        return set()
    names = set()
    for line in lines or ():
        text = line.decode(errors="replace") if isinstance(line, bytes) else str(line)
        # (\\HasNoChildren) "/" "Sent": the name is the last field, quoted or not.
        name = text.rsplit(" ", 1)[-1].strip().strip('"')
        names.add(name)
    return names


def sent_folder(folders: set[str]) -> str | None:
    """The mailbox's Sent folder, by its usual names."""
    for name in SENT_FOLDER_NAMES:
        if name in folders:
            return name
    return None


def imap_check(endpoint: Endpoint) -> str:
    """Log in and find the inbox and the Sent folder; return the Sent folder's name."""
    with imap_session(endpoint) as client:
        try:
            folders = _folders(client)
            if client.select("INBOX", readonly=True)[0] != "OK":
                raise MailboxError("The mailbox has no INBOX folder.", server="imap")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"The IMAP server failed: {exc}", server="imap") from exc
        sent = sent_folder(folders)
        if sent is None:
            raise MailboxError(
                "The mailbox has no Sent folder (looked for "
                + ", ".join(f'"{name}"' for name in SENT_FOLDER_NAMES)
                + ").",
                server="imap",
            )
        return sent


def smtp_open(endpoint: Endpoint) -> smtplib.SMTP:
    """An SMTP connection logged in as the endpoint's user; the caller closes it."""
    try:
        if endpoint.security == "ssl":
            client = smtplib.SMTP_SSL(
                endpoint.host, endpoint.port, timeout=_timeout(), context=_tls()
            )
        else:
            client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=_timeout())
            if endpoint.security == "starttls":
                client.starttls(context=_tls())
    except smtplib.SMTPException as exc:
        raise MailboxError(f"The SMTP server said: {exc}", server="smtp") from exc
    except OSError as exc:
        raise _network_error(exc, endpoint, "smtp") from exc
    try:
        _smtp_login(client, endpoint)
    except BaseException:
        smtp_close(client)
        raise
    return client


def _smtp_login(client: smtplib.SMTP, endpoint: Endpoint) -> None:
    try:
        if endpoint.oauth_token:
            # smtplib's login() knows only passwords; auth() sends XOAUTH2, checked for as
            # login() checks for AUTH.
            client.ehlo_or_helo_if_needed()
            if "XOAUTH2" not in client.esmtp_features.get("auth", "").upper().split():
                raise MailboxError(
                    "The SMTP server offers no XOAUTH2 login on this connection.", server="smtp"
                )
            # The first call gives the initial response; a second (a challenge with the error
            # of a refused token) is answered empty, and the server then says 535.
            answers = iter([_xoauth2(endpoint)])
            client.auth("XOAUTH2", lambda challenge=None: next(answers, ""))
        else:
            client.login(endpoint.username, endpoint.password)
    except smtplib.SMTPAuthenticationError as exc:
        refused = "access token" if endpoint.oauth_token else "username or password"
        raise MailboxError(
            f"The SMTP server refused the {refused}.",
            server="smtp",
            authentication=True,
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailboxError(
            "The SMTP server offers no login on this connection (try STARTTLS or SSL).",
            server="smtp",
        ) from exc
    except smtplib.SMTPException as exc:
        raise MailboxError(f"The SMTP server said: {exc}", server="smtp") from exc
    except OSError as exc:
        raise _network_error(exc, endpoint, "smtp") from exc


def smtp_close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


@contextmanager
def smtp_session(endpoint: Endpoint):
    """An SMTP connection authenticated as the endpoint's user; closed on leaving."""
    client = smtp_open(endpoint)
    try:
        yield client
    finally:
        smtp_close(client)


def smtp_check(endpoint: Endpoint) -> None:
    """Log in to the SMTP server."""
    with smtp_session(endpoint):
        pass
