"""Real mail servers for the mailbox tests, on free loopback ports.

``DovecotServer`` is a private Dovecot 2.3 IMAP server (Debian's ``dovecot-imapd``) run from a
config file in its own temp folder, with users from passwd-files; ``append`` delivers with IMAP
APPEND, as a real delivery would. ``SmtpAuthServer`` is an aiosmtpd submission server that asks
for AUTH PLAIN or LOGIN and records each accepted message with the user who sent it. Both take
SASL XOAUTH2 when given an OAuth introspection endpoint (``oauth_server.OAuthServer``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email
import email.message
import email.policy
import errno
import imaplib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

HOST = "127.0.0.1"
DOVECOT = Path(os.environ.get("CADENCE_DOVECOT", "/usr/sbin/dovecot"))
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
IMAP_TIMEOUT = 10.0
# A port found free can be taken by another process before the server binds it (two pytest
# processes at once): then the server is started again on another one.
PORT_ATTEMPTS = 3


class ServerUnavailable(Exception):
    """The server cannot run here (not installed, wrong version, not root, failed to start)."""


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def quote_mailbox(name: str) -> str:
    """An ASCII mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    if not name.isascii():
        raise ValueError(f"{name!r}: non-ASCII names need modified UTF-7, not done here")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class DovecotServer:
    """``with DovecotServer() as server:`` a running Dovecot on ``server.host``:``server.port``.

    Mail is kept in Maildirs under a temp folder that is removed on ``stop()``; every user has
    INBOX and a ``Sent`` folder (special-use ``\\Sent``, created on first access).
    """

    def __init__(self, *, oauth_introspection_url: str = ""):
        self.host = HOST
        self.port = 0
        # Set, users may also log in with SASL XOAUTH2 or OAUTHBEARER, with an access token
        # that this RFC 7662 introspection endpoint says is active and theirs.
        self.oauth_introspection_url = oauth_introspection_url
        self.root: Path | None = None
        self._process: subprocess.Popen | None = None
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._greeting = f"Cadence test Dovecot {secrets.token_hex(4)} ready."

    # -- lifecycle

    def start(self) -> DovecotServer:
        self._check_installed()
        base = tempfile.gettempdir()
        # Unix socket paths under base_dir must stay within 108 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="cadence-dovecot-", dir=base))
        if len(str(self.root)) > 60:
            shutil.rmtree(self.root)
            self.root = Path(tempfile.mkdtemp(prefix="cadence-dovecot-", dir="/tmp"))
        # mkdtemp makes 0700; the login and mail processes run as dovecot and dovenull.
        self.root.chmod(0o755)
        (self.root / "home").mkdir()
        shutil.chown(self.root / "home", "dovecot", "dovecot")
        (self.root / "users").mkdir()
        for key, account in self._accounts.items():
            self._write_user(key, account)
        try:
            for attempt in range(PORT_ATTEMPTS):
                self.port = free_port()
                self._write_config()
                if self._launch(last_attempt=attempt == PORT_ATTEMPTS - 1):
                    return self
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _stop_group(process)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log_tail(self, lines: int = 30) -> str:
        if self.root is None:
            return ""
        parts = [_tail(self.root / "stderr.log", lines), _tail(self.log_path, lines)]
        return "\n".join(part for part in parts if part)

    # -- users and mail

    def add_user(self, username: str | None = None, password: str | None = None) -> Account:
        """A new user, taking effect at once; by default with a name and password never used
        before, so that a test sees only its own mail."""
        with self._lock:
            if username is None:
                username = f"user{len(self._accounts) + 1}-{secrets.token_hex(3)}"
            if password is None:
                password = secrets.token_urlsafe(12)
            # It names the user's passwd-file and home folder.
            if not username.isascii() or username.startswith("."):
                raise ValueError(f"username {username!r}: ASCII, not starting with a dot")
            _check_passwd_field("username", username, extra="/%")
            _check_passwd_field("password", password)
            # Dovecot lowercases login names (auth_username_format = %Lu) before the lookup.
            key = username.lower()
            if key in self._accounts:
                raise ValueError(f"user {username!r} exists already: omit the name for a new one")
            account = Account(username, password)
            self._accounts[key] = account
            if self.root is not None:
                self._write_user(key, account)
        return account

    @property
    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def connect(self, username: str, password: str) -> imaplib.IMAP4:
        """A logged-in ``imaplib.IMAP4`` (a context manager that logs out)."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=IMAP_TIMEOUT)
        try:
            imap.login(username, password)
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def append(
        self,
        user: str,
        password: str,
        folder: str,
        raw: bytes,
        flags: tuple[str, ...] | list[str] = (),
        internal_date: datetime | None = None,
    ) -> int:
        """Put ``raw`` into ``folder`` with IMAP APPEND; returns its UID (APPENDUID). imaplib
        turns bare LF line ends into CRLF, as a delivery agent would. The arrival time is the
        tests' clock by default, as a delivery agent stamps it (with libfaketime, Dovecot's own
        stamp would be the file's real time)."""
        with self.connect(user, password) as imap:
            status, data = imap.append(
                quote_mailbox(folder),
                " ".join(flags) or None,
                imaplib.Time2Internaldate(internal_date or datetime.now(UTC)),
                raw,
            )
        if status != "OK":
            raise AssertionError(f"APPEND to {folder!r} failed: {status} {data!r}")
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
        if found is None:
            raise AssertionError(f"APPEND to {folder!r} gave no APPENDUID: {data!r}")
        return int(found.group(1))

    def create_folder(self, user: str, password: str, name: str) -> None:
        with self.connect(user, password) as imap:
            status, data = imap.create(quote_mailbox(name))
        if status != "OK":
            raise AssertionError(f"CREATE {name!r} failed: {status} {data!r}")

    # -- internals

    def _check_installed(self) -> None:
        if not DOVECOT.exists():
            raise ServerUnavailable(f"no Dovecot at {DOVECOT} (apt-get install dovecot-imapd)")
        if os.geteuid() != 0:
            raise ServerUnavailable("the Dovecot test server runs as root (it switches users)")
        for user in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                raise ServerUnavailable(
                    f"no system user {user!r} (dovecot-core creates it)"
                ) from None
        version = subprocess.run(
            [str(DOVECOT), "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        # Dovecot 2.4 changed the configuration syntax; this file is written for 2.3.
        if not version.startswith("2.3."):
            raise ServerUnavailable(f"Dovecot {version or '?'} found; these tests need 2.3")

    def _write_user(self, key: str, account: Account) -> None:
        # One passwd-file per user: Dovecot looks at a passwd-file at most once a second, so a
        # user added to a shared one could not log in until the next second. Written whole then
        # renamed, so that the auth process never reads half of it.
        partial = self.root / "users" / f".{key}.partial"
        partial.write_text(f"{key}:{{PLAIN}}{account.password}\n")
        partial.chmod(0o644)
        partial.replace(self.root / "users" / key)

    def _write_config(self) -> None:
        root = self.root
        mechanisms, password_mechanisms, oauth_passdb = "plain login", "", ""
        if self.oauth_introspection_url:
            mechanisms += " xoauth2 oauthbearer"
            # The passwd-file answers passwords only; tokens go to the introspection endpoint.
            password_mechanisms = "mechanisms = plain login"
            oauth_passdb = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}"""
            (root / "oauth2.conf").write_text(
                f"""\
introspection_mode = post
introspection_url = {self.oauth_introspection_url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""
            )
        self.config_path.write_text(
            f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
instance_name = cadence-test
listen = {self.host}
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_verbose = yes
# Failed logins are answered within 0.5 s, not after the default 2 s.
auth_failure_delay = 0
first_valid_uid = 1
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
login_greeting = {self._greeting}
import_environment = {_imported_environment()}
mail_location = maildir:~/Maildir

passdb {{
  driver = passwd-file
  {password_mechanisms}
  args = {root}/users/%Lu
}}{oauth_passdb}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}

namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
}}

service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
        )

    def _launch(self, *, last_attempt: bool) -> bool:
        """Start Dovecot in the foreground and wait until it greets; False if the port was
        taken meanwhile (try another)."""
        shutil.rmtree(self.root / "run", ignore_errors=True)
        command = [str(DOVECOT), "-F", "-c", str(self.config_path)]
        if shutil.which("setpriv"):
            # If pytest dies without its teardown, Dovecot is told to stop too.
            command = ["setpriv", "--pdeathsig", "TERM", "--", *command]
        with open(self.root / "stderr.log", "wb") as stderr:
            # Its own process group, so that a stuck shutdown can be ended whole.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )
        started = time.monotonic()
        penalty_socket = self.root / "run" / "anvil-auth-penalty"
        penalty_off = False
        while time.monotonic() - started < START_TIMEOUT:
            if self._process.poll() is not None:
                log = self.log_tail()
                self._process = None
                if "Address already in use" in log and not last_attempt:
                    return False
                raise ServerUnavailable(f"Dovecot exited on start-up:\n{log}")
            if not penalty_off:
                # Dovecot 2.3 has no setting for its per-IP penalty (up to 15 s before each
                # login from an address after a failed one): the auth process turns it off when
                # it finds no penalty socket. It starts with the first login, after this.
                try:
                    penalty_socket.unlink()
                    penalty_off = True
                except FileNotFoundError:
                    if time.monotonic() - started < 2:
                        time.sleep(0.01)
                        continue
            if self._greets():
                return True
            time.sleep(0.02)
        log = self.log_tail()
        self.stop()
        raise ServerUnavailable(f"Dovecot did not answer within {START_TIMEOUT:.0f} s:\n{log}")

    def _greets(self) -> bool:
        # The greeting, not just an open port: Dovecot sends it once its auth process is ready,
        # and the text tells this server from anything else that took the port.
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                sock.settimeout(2)
                data = b""
                while b"\r\n" not in data:
                    chunk = sock.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                sock.sendall(b"a LOGOUT\r\n")
        except OSError:
            return False
        # Another greeting means another process took the port: Dovecot then exits, and the
        # caller sees why.
        return data.startswith(b"* OK") and self._greeting.encode() in data


def _check_passwd_field(what: str, value: str, extra: str = "") -> None:
    bad = set(":\n\r\t " + extra)
    if not value or any(char in bad or not char.isprintable() for char in value):
        raise ValueError(f"{what} {value!r}: empty or has a character the passwd-file cannot hold")


def _imported_environment() -> str:
    """Dovecot's default ``import_environment``, plus libfaketime's variables when the suite runs
    with the clock moved: Dovecot clears its children's environment, and its IMAP processes
    must keep the same clock as the tests, or they refuse the tests' arrival dates as being in
    the future. File times are moved both ways (``FAKE_UTIME``): Maildir keeps the arrival date
    as the file's mtime, set with utime() and read with stat(), and Dovecot's lock files are
    judged stale by their mtimes against the clock."""
    names = ["TZ", "CORE_OUTOFMEM", "CORE_ERROR", "LISTEN_PID", "LISTEN_FDS"]
    if os.environ.get("FAKETIME"):
        names += ["LD_PRELOAD", "FAKETIME", "FAKE_UTIME=1"]
    return " ".join(names)


def _stop_group(process: subprocess.Popen) -> None:
    """Stop Dovecot's master, which stops its children (it takes about a second, waiting for
    its log process); kill the whole group if any of it lives on."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    deadline = time.monotonic() + 2
    killed = False
    while _group_lives(process.pid):
        if time.monotonic() > deadline:
            if killed:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 5
        time.sleep(0.02)
    process.wait()


def _group_lives(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: the master exits
    without reaping its log process, which is left for init to reap."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The fields after the command name, which may hold spaces and parentheses.
        state, _ppid, group = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(group) == pgid and state != "Z":
            return True
    return False


# -- SMTP submission


@dataclass(frozen=True)
class ReceivedMessage:
    username: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class _SubmissionHandler:
    def __init__(self, server: SmtpAuthServer):
        self._server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Enforced here rather than with aiosmtpd's auth_required, which warns when TLS is not
        # required too.
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self._server._record(
            ReceivedMessage(
                username=session.auth_data,
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=envelope.original_content or envelope.content,
            )
        )
        if self._server.cut_after_data:
            # The message arrived, but the connection drops before the answer: the sender
            # cannot know whether it went.
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        return "250 2.0.0 Message accepted for delivery"


class _OAuthSubmissionHandler(_SubmissionHandler):
    """Also takes SASL XOAUTH2 (aiosmtpd offers every ``auth_*`` method of its handler)."""

    async def auth_XOAUTH2(self, server, args) -> AuthResult:
        if len(args) > 1:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        text = blob.decode("utf-8", "replace")
        fields = dict(part.partition("=")[::2] for part in text.split("\x01") if part)
        username = fields.get("user", "")
        scheme, _, token = fields.get("auth", "").partition(" ")
        owner = None
        if scheme.lower() == "bearer" and token:
            owner = await asyncio.get_running_loop().run_in_executor(
                None, self._server._token_owner, token
            )
        if owner is None or owner != username:
            # As Gmail does: the error in a challenge, answered empty, then 535.
            error = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
            if await server.challenge_auth(error) is MISSING:
                return AuthResult(success=False, handled=True)
            # Not handled: aiosmtpd answers 535 itself.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=username)


class SmtpAuthServer:
    """``with SmtpAuthServer() as server:`` an SMTP submission server on ``server.port`` that
    takes mail only after AUTH PLAIN or LOGIN (no TLS) as a user added with ``add_user``,
    answers 535 to bad credentials, and keeps what it accepts in ``server.messages``. With
    ``oauth_introspection_url`` it takes XOAUTH2 too, with an access token that this RFC 7662
    endpoint says is active and the user's."""

    def __init__(self, *, oauth_introspection_url: str = ""):
        self.oauth_introspection_url = oauth_introspection_url
        self.host = HOST
        self.port = 0
        #: Set, the server takes each message and then drops the connection unanswered.
        self.cut_after_data = False
        self.messages: list[ReceivedMessage] = []
        self._passwords: dict[str, str] = {}
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def add_user(self, username: str | None = None, password: str | None = None) -> Account:
        with self._lock:
            if username is None:
                username = f"sender{len(self._passwords) + 1}-{secrets.token_hex(3)}"
            if password is None:
                password = secrets.token_urlsafe(12)
            self._passwords[username] = password
        return Account(username, password)

    def start(self) -> SmtpAuthServer:
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            handler_class = (
                _OAuthSubmissionHandler if self.oauth_introspection_url else _SubmissionHandler
            )
            controller = Controller(
                handler_class(self),
                hostname=self.host,
                port=port,
                authenticator=self._authenticate,
                auth_require_tls=False,
            )
            try:
                controller.start()
            except OSError as error:
                if error.errno != errno.EADDRINUSE or attempt == PORT_ATTEMPTS - 1:
                    raise
                continue
            self._controller, self.port = controller, port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpAuthServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        expected = self._passwords.get(username)
        if expected is None or expected != password:
            return AuthResult(success=False, handled=False)
        # Kept as the session's auth_data, so that each message names its sender.
        return AuthResult(success=True, auth_data=username)

    def _token_owner(self, token: str) -> str | None:
        """Whose the access token is, if the introspection endpoint says it is active."""
        request = urllib.request.Request(
            self.oauth_introspection_url,
            data=urllib.parse.urlencode({"token": token}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=IMAP_TIMEOUT) as response:
            answer = json.load(response)
        return answer.get("username") if answer.get("active") is True else None

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self.messages.append(message)
