"""A small OAuth 2.0 authorization server for the tests, on a free loopback port.

It plays Google's or Microsoft's part: ``GET /authorize`` signs in the user named by
``consent_as`` (or says ``access_denied`` after ``deny_next``) and redirects back with a code;
``POST /token`` exchanges a code (checking the client, the redirect URI and the PKCE verifier)
and refreshes tokens; ``POST /introspect`` (RFC 7662) tells Dovecot and the SMTP server whether
an access token is active and whose it is. Tokens can be expired or revoked from the test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
CLIENT_ID = "cadence-test-client"
CLIENT_SECRET = "cadence-test-secret"


@dataclass
class _Code:
    user: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    used: bool = False


@dataclass
class _Grant:
    """A user's consent: its refresh token and the access tokens issued from it."""

    user: str
    refresh_token: str
    access_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(claims: dict) -> str:
    """An ID token in JWT form. Unsigned: Cadence reads it from the token endpoint's answer,
    where OpenID Connect lets the TLS connection stand for the signature."""
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."


class OAuthServer:
    """``with OAuthServer() as server:`` an authorization server at ``server.url``."""

    def __init__(self, *, expires_in: int = 3600, rotate_refresh_tokens: bool = False):
        self.host = HOST
        self.port = 0
        self.expires_in = expires_in
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.id_token_claims: dict = {}
        self.requests: list[tuple[str, dict]] = []
        self._user = ""
        self._deny = False
        self._codes: dict[str, _Code] = {}
        self._grants: dict[str, _Grant] = {}
        self._active: dict[str, str] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def overrides(self, **servers) -> dict:
        """``CADENCE_OAUTH_OVERRIDES`` values pointing a provider here (and at ``servers``)."""
        return {
            "authorize_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            **servers,
        }

    # -- what a test arranges

    def consent_as(self, user: str) -> None:
        """The next sign-ins are by ``user``, who grants access."""
        self._user, self._deny = user, False

    def deny_next(self) -> None:
        self._deny = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working, as after its hour."""
        with self._lock:
            self._active.clear()

    def revoke(self, user: str) -> None:
        """The user withdraws the consent: refresh and access tokens stop working."""
        with self._lock:
            for grant in self._grants.values():
                if grant.user == user:
                    grant.revoked = True
                    for token in grant.access_tokens:
                        self._active.pop(token, None)

    def issue_access_token(self, user: str) -> str:
        """An active access token for ``user`` without the flow (for the login tests)."""
        return self._grant_tokens(self._new_grant(user))["access_token"]

    def token_grant_types(self) -> list[str]:
        return [body.get("grant_type", "") for path, body in self.requests if path == "/token"]

    # -- lifecycle

    def start(self) -> OAuthServer:
        self._httpd = ThreadingHTTPServer((self.host, 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> OAuthServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- the endpoints

    def authorize(self, query: dict[str, str]) -> tuple[int, dict, dict]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri:
            return 400, {}, {"error": "invalid_request"}
        back = {"state": query.get("state", "")}
        if self._deny:
            self._deny = False
            back["error"] = "access_denied"
        elif query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            back["error"] = "invalid_request"
        else:
            code = secrets.token_urlsafe(16)
            with self._lock:
                self._codes[code] = _Code(
                    self._user,
                    query["client_id"],
                    redirect_uri,
                    query.get("code_challenge", ""),
                    query["code_challenge_method"],
                )
            back["code"] = code
        location = redirect_uri + "?" + urllib.parse.urlencode(back)
        return 302, {"Location": location}, {}

    def token(self, body: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict]:
        client = basic or (body.get("client_id", ""), body.get("client_secret", ""))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(body)
        if grant_type == "refresh_token":
            return self._refresh(body)
        return 400, {"error": "unsupported_grant_type"}

    def introspect(self, body: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            user = self._active.get(body.get("token", ""))
        if user is None:
            return 200, {"active": False}
        return 200, {"active": True, "username": user, "client_id": CLIENT_ID}

    # -- internals

    def _exchange(self, body: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            code = self._codes.get(body.get("code", ""))
            if code is None or code.used:
                return 400, {"error": "invalid_grant", "error_description": "unknown code"}
            # A code is good once, whatever the outcome, as RFC 6749 asks.
            code.used = True
        if body.get("redirect_uri") != code.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = body.get("code_verifier", "")
        if not verifier or _b64url(hashlib.sha256(verifier.encode()).digest()) != code.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        answer = self._grant_tokens(self._new_grant(code.user))
        claims = {"aud": CLIENT_ID, "iss": self.url, "sub": code.user, "email": code.user}
        answer["id_token"] = id_token({**claims, **self.id_token_claims})
        return 200, answer

    def _refresh(self, body: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            grant = self._grants.get(body.get("refresh_token", ""))
        if grant is None or grant.revoked:
            return 400, {"error": "invalid_grant", "error_description": "Token has been revoked."}
        if self.rotate_refresh_tokens:
            with self._lock:
                del self._grants[grant.refresh_token]
                grant.refresh_token = secrets.token_urlsafe(24)
                self._grants[grant.refresh_token] = grant
            return 200, self._grant_tokens(grant)
        answer = self._grant_tokens(grant)
        # Google sends no new refresh token: the old one stays valid.
        del answer["refresh_token"]
        return 200, answer

    def _new_grant(self, user: str) -> _Grant:
        grant = _Grant(user, secrets.token_urlsafe(24))
        with self._lock:
            self._grants[grant.refresh_token] = grant
        return grant

    def _grant_tokens(self, grant: _Grant) -> dict:
        access = secrets.token_urlsafe(24)
        with self._lock:
            grant.access_tokens.add(access)
            self._active[access] = grant.user
        return {
            "access_token": access,
            "refresh_token": grant.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


def _handler(server: OAuthServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass  # the tests' output is for their own failures

        def do_GET(self):
            parsed = urllib.parse.urlsplit(self.path)
            if parsed.path != "/authorize":
                return self._json(404, {"error": "not_found"})
            query = dict(urllib.parse.parse_qsl(parsed.query))
            server.requests.append(("/authorize", query))
            status, headers, body = server.authorize(query)
            return self._json(status, body, headers)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            server.requests.append((self.path, body))
            if self.path == "/token":
                return self._json(*server.token(body, self._basic()))
            if self.path == "/introspect":
                return self._json(*server.introspect(body))
            return self._json(404, {"error": "not_found"})

        def _basic(self) -> tuple[str, str] | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return urllib.parse.unquote(user), urllib.parse.unquote(password)

        def _json(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler
