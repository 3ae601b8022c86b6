"""Connecting Google and Microsoft 365 mailboxes with OAuth 2.0: the authorization code flow with
PKCE, and refreshing the access token that IMAP and SMTP accept (SASL XOAUTH2).

The flow (RFC 6749 section 4.1, with RFC 7636's S256 code challenge) runs through the settings
page. ``authorization_start`` makes a one-time PKCE verifier and a ``state`` naming it, keeps
the verifier in the user's session, and returns the provider's consent URL. The ``state`` that
comes back to the callback must be signed by this server, at most ``STATE_SECONDS`` old, from
this session and this user, and not used before: ``authorization_finish`` takes it out of the
session before anything else, so a replayed callback finds nothing. Then the code is exchanged
with the verifier, so a code caught on its way back is worthless to anyone else. Authlib's
requests client speaks the protocol; this module only says which endpoints, scopes and checks.

The mailbox's address comes from the ID token (scopes ``openid email``) in the token response.
It comes straight from the provider's token endpoint over TLS, which OpenID Connect Core 1.0
(section 3.1.3.7) accepts in place of checking its signature; its audience is still checked.
Google puts the address in ``email``; Microsoft in ``email`` when the account has one, otherwise
in ``preferred_username``, the sign-in name, which in Microsoft 365 is the mailbox's address.

Tokens never appear in logs or messages: ``OAuthTokens`` hides them from its repr, and errors
carry only the provider's error code and description.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import secrets
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from cadence.mailboxes.choices import Provider

#: How long a started sign-in may take, from the Connect button to the callback.
STATE_SECONDS = 600
STATE_SALT = "cadence.mailboxes.oauth.state"
#: The session key of the sign-ins started and not yet finished (a few, for several tabs).
PENDING_KEY = "mailbox_oauth_pending"
MAX_PENDING = 5
#: When a token response does not say how long the access token lasts (both providers do).
DEFAULT_EXPIRES_IN = 3600

# The documented endpoints, scopes and mail servers. Google: "OAuth 2.0 for Web Server
# Applications" and "IMAP, POP, and SMTP" (https://mail.google.com/ is the only scope IMAP and
# SMTP accept); access_type=offline asks for a refresh token and prompt=consent asks for one
# again on a second connection. Microsoft: "Authenticate an IMAP, POP or SMTP connection using
# OAuth" (Exchange Online); offline_access asks for a refresh token.
_PROVIDERS: dict[str, dict] = {
    Provider.GOOGLE: {
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "scope": "https://mail.google.com/ openid email",
        "authorize_params": {"access_type": "offline", "prompt": "consent"},
        "refresh_with_scope": False,
        "imap_host": "imap.gmail.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "smtp_host": "smtp.gmail.com",
        "smtp_port": 465,
        "smtp_security": "ssl",
    },
    Provider.MICROSOFT: {
        "authorize_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "scope": (
            "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
            "https://outlook.office.com/SMTP.Send openid email"
        ),
        "authorize_params": {},
        # Microsoft's refresh request names the scopes (a refresh token may serve several
        # resources); Google's takes none.
        "refresh_with_scope": True,
        "imap_host": "outlook.office365.com",
        "imap_port": 993,
        "imap_security": "ssl",
        "smtp_host": "smtp.office365.com",
        "smtp_port": 587,
        "smtp_security": "starttls",
    },
}


class OAuthFlowError(Exception):
    """The sign-in or a token refresh failed; ``message`` tells the user what happened."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OAuthRefused(OAuthFlowError):
    """The provider refused the refresh token (``invalid_grant``): revoked by the user or an
    administrator, expired, or ended by a password change. Only a new sign-in helps."""


@dataclass(frozen=True)
class OAuthProvider:
    """One provider's client registration, endpoints, scopes and mail servers."""

    name: str
    label: str
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    scope: str
    authorize_params: dict
    refresh_with_scope: bool
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str


@dataclass(frozen=True)
class OAuthTokens:
    """An access token, the refresh token that renews it, and when the access token expires."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime.datetime | None

    def to_secret(self) -> str:
        """The tokens as the JSON document stored (encrypted) in ``Mailbox.secret_encrypted``."""
        return json.dumps({"access_token": self.access_token, "refresh_token": self.refresh_token})

    @classmethod
    def from_secret(cls, plain: str, *, expires_at: datetime.datetime | None) -> OAuthTokens:
        try:
            stored = json.loads(plain)
            return cls(stored["access_token"], stored["refresh_token"], expires_at)
        except (ValueError, TypeError, KeyError) as exc:
            raise OAuthRefused("The stored OAuth tokens are unreadable.") from exc


@dataclass(frozen=True)
class OAuthGrant:
    """What a finished sign-in gives: the provider, the mailbox's address, its tokens."""

    provider: str
    email_address: str
    tokens: OAuthTokens


def _configured(name: str) -> OAuthProvider | None:
    if name not in _PROVIDERS:
        return None
    prefix = f"CADENCE_{name.upper()}"
    client_id = getattr(settings, f"{prefix}_CLIENT_ID", "")
    client_secret = getattr(settings, f"{prefix}_CLIENT_SECRET", "")
    if not (client_id and client_secret):
        return None
    values = {**_PROVIDERS[name], **getattr(settings, "CADENCE_OAUTH_OVERRIDES", {}).get(name, {})}
    tenant = getattr(settings, "CADENCE_MICROSOFT_TENANT", "") or "common"
    for key in ("authorize_url", "token_url"):
        values[key] = values[key].replace("{tenant}", tenant)
    return OAuthProvider(
        name=name,
        label=Provider(name).label,
        client_id=client_id,
        client_secret=client_secret,
        **values,
    )


def providers_configured() -> list[OAuthProvider]:
    """The providers whose client ID and secret are set, in the order the page shows them."""
    return [config for name in _PROVIDERS if (config := _configured(name)) is not None]


def provider_config(name: str) -> OAuthProvider:
    config = _configured(name)
    if config is None:
        raise OAuthFlowError(f"Connecting {name!r} mailboxes is not set up on this server.")
    return config


def _session(config: OAuthProvider, *, redirect_uri: str | None = None, scope: str | None = None):
    return OAuth2Session(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        # Both providers document the client secret in the request body.
        token_endpoint_auth_method="client_secret_post",
        default_timeout=getattr(settings, "CADENCE_MAILBOX_TIMEOUT", 15),
    )


def authorization_start(
    *, session: MutableMapping, user_id: object, provider: str, redirect_uri: str
) -> str:
    """Begin a sign-in: remember its PKCE verifier in ``session`` and return the provider's
    consent URL to send the browser to."""
    config = provider_config(provider)
    nonce = secrets.token_urlsafe(16)
    # 86 characters from the unreserved set: RFC 7636 asks for 43 to 128.
    verifier = secrets.token_urlsafe(64)
    pending = dict(session.get(PENDING_KEY) or {})
    pending[nonce] = {"provider": provider, "user": str(user_id), "verifier": verifier}
    while len(pending) > MAX_PENDING:
        pending.pop(next(iter(pending)))
    session[PENDING_KEY] = pending
    state = signing.dumps({"provider": provider, "nonce": nonce}, salt=STATE_SALT)
    with _session(config, redirect_uri=redirect_uri, scope=config.scope) as client:
        url, _ = client.create_authorization_url(
            config.authorize_url, state=state, code_verifier=verifier, **config.authorize_params
        )
    return url


def _take_pending(session: MutableMapping, *, user_id: object, provider: str, state: str) -> dict:
    """The started sign-in that ``state`` names, taken out of the session (single use)."""
    invalid = OAuthFlowError(
        "The sign-in could not be matched to one you started here (it expired, was used "
        "already, or began in another browser). Press Connect again."
    )
    try:
        signed = signing.loads(state, salt=STATE_SALT, max_age=STATE_SECONDS)
    except signing.BadSignature as exc:
        raise invalid from exc
    pending = dict(session.get(PENDING_KEY) or {})
    entry = pending.pop(signed.get("nonce", ""), None) if isinstance(signed, dict) else None
    session[PENDING_KEY] = pending
    if entry is None or entry["user"] != str(user_id) or entry["provider"] != provider:
        raise invalid
    if signed.get("provider") != provider:
        raise invalid
    return entry


def authorization_finish(
    *,
    session: MutableMapping,
    user_id: object,
    provider: str,
    params: Mapping[str, str],
    redirect_uri: str,
    now: datetime.datetime,
) -> OAuthGrant:
    """Finish a sign-in from the callback's query ``params``: check its ``state``, exchange the
    code with the PKCE verifier, and read the mailbox's address from the ID token."""
    config = provider_config(provider)
    entry = _take_pending(
        session, user_id=user_id, provider=provider, state=params.get("state", "")
    )
    error = params.get("error")
    if error == "access_denied":
        raise OAuthFlowError(f"Access was not granted at {config.label}.")
    if error:
        raise OAuthFlowError(
            f"{config.label} refused the sign-in: {params.get('error_description') or error}."
        )
    code = params.get("code")
    if not code:
        raise OAuthFlowError(f"{config.label} sent no authorization code back.")
    with _session(config, redirect_uri=redirect_uri) as client:
        token = _token_request(
            config,
            lambda: client.fetch_token(
                config.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=entry["verifier"],
            ),
        )
    tokens = _tokens(config, token, now=now, refresh_token="")
    if not tokens.refresh_token:
        raise OAuthFlowError(
            f"{config.label} gave no refresh token, so Cadence could not keep reading the "
            "mailbox. Press Connect again."
        )
    return OAuthGrant(provider, _email_from_id_token(config, token.get("id_token")), tokens)


def tokens_refresh(*, provider: str, refresh_token: str, now: datetime.datetime) -> OAuthTokens:
    """A new access token for ``refresh_token``; ``OAuthRefused`` when the provider refuses the
    refresh token itself. A provider that sends no new refresh token keeps the old one valid."""
    config = provider_config(provider)
    with _session(config) as client:
        token = _token_request(
            config,
            lambda: client.refresh_token(
                config.token_url,
                refresh_token=refresh_token,
                **({"scope": config.scope} if config.refresh_with_scope else {}),
            ),
        )
    return _tokens(config, token, now=now, refresh_token=refresh_token)


def _token_request(config: OAuthProvider, request) -> Mapping:
    try:
        return request()
    except OAuthError as exc:
        described = exc.description or exc.error
        if exc.error == "invalid_grant":
            raise OAuthRefused(f"{config.label} refused the grant: {described}.") from exc
        raise OAuthFlowError(f"{config.label}'s token endpoint refused: {described}.") from exc
    except (requests.RequestException, ValueError) as exc:
        # The exception's text may hold the request, and so a code or token: not shown.
        raise OAuthFlowError(
            f"{config.label}'s token endpoint could not be reached or answered unreadably "
            f"({type(exc).__name__})."
        ) from exc


def _tokens(
    config: OAuthProvider, token: Mapping, *, now: datetime.datetime, refresh_token: str
) -> OAuthTokens:
    access_token = token.get("access_token")
    if not access_token:
        raise OAuthFlowError(f"{config.label} gave no access token.")
    try:
        expires_in = int(token.get("expires_in") or DEFAULT_EXPIRES_IN)
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    return OAuthTokens(
        access_token=access_token,
        refresh_token=token.get("refresh_token") or refresh_token,
        expires_at=now + datetime.timedelta(seconds=expires_in),
    )


def _email_from_id_token(config: OAuthProvider, id_token: str | None) -> str:
    unknown = OAuthFlowError(
        f"{config.label} did not say which mailbox was signed in to (no usable ID token)."
    )
    if not id_token:
        raise unknown
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error) as exc:
        raise unknown from exc
    if not isinstance(claims, dict):
        raise unknown
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if config.client_id not in audiences:
        raise OAuthFlowError(f"{config.label}'s ID token was issued to another application.")
    address = claims.get("email") or (
        claims.get("preferred_username") if config.name == Provider.MICROSOFT else None
    )
    try:
        validate_email(address)
    except ValidationError as exc:
        raise unknown from exc
    return address
