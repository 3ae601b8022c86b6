"""Connecting, testing and disconnecting a user's mailbox. A user manages their own mailbox;
nobody else, not even an admin, connects one for them or reads its secret."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.core.secrets import secret_decrypt, secret_encrypt, secret_rotate
from cadence.mailboxes import oauth
from cadence.mailboxes.choices import MailboxStatus, Provider
from cadence.mailboxes.connection import Endpoint, MailboxError, imap_check, smtp_check
from cadence.mailboxes.models import Mailbox, MailboxFolder

#: What a connection's form gives, besides the password.
IMAP_SMTP_FIELDS = (
    "email_address",
    "username",
    "imap_host",
    "imap_port",
    "imap_security",
    "smtp_host",
    "smtp_port",
    "smtp_security",
)


def _check_own(mailbox: Mailbox, actor: User) -> None:
    if mailbox.user_id != actor.pk:
        raise PermissionDeniedError("Only the mailbox's owner may do this.")


def mailbox_endpoints(mailbox: Mailbox) -> tuple[Endpoint, Endpoint]:
    """How to reach the mailbox's IMAP and SMTP servers: with its decrypted password, or for a
    Google or Microsoft mailbox with a valid OAuth access token (XOAUTH2), refreshed first when
    it expires soon (``mailbox_access_token``, which raises ``MailboxTokenError``)."""
    if mailbox.provider in OAUTH_PROVIDERS:
        password, token = "", mailbox_access_token(mailbox=mailbox)
    else:
        password, token = secret_decrypt(mailbox.secret_encrypted), ""
    imap = Endpoint(
        mailbox.imap_host,
        mailbox.imap_port,
        mailbox.imap_security,
        mailbox.username,
        password,
        oauth_token=token,
    )
    smtp = Endpoint(
        mailbox.smtp_host,
        mailbox.smtp_port,
        mailbox.smtp_security,
        mailbox.username,
        password,
        oauth_token=token,
    )
    return imap, smtp


#: The providers whose mailboxes connect with OAuth 2.0 and log in with XOAUTH2.
OAUTH_PROVIDERS = (Provider.GOOGLE, Provider.MICROSOFT)
#: An access token that expires within this is refreshed before use, so that it does not
#: expire in the middle of a sync or a send.
TOKEN_REFRESH_MARGIN = datetime.timedelta(minutes=5)


class MailboxTokenError(MailboxError, CadenceError):
    """An OAuth mailbox has no valid access token. ``authentication``: the provider refused the
    refresh token, which counts towards the mailbox being broken as a refused login does. A
    ``CadenceError`` too, so that testing the mailbox answers a 400 with the reason."""

    def __init__(self, message: str, *, authentication: bool):
        MailboxError.__init__(self, message, server="oauth", authentication=authentication)
        self.field = None
        self.code = "invalid"


def mailbox_access_token(*, mailbox: Mailbox, now: datetime.datetime | None = None) -> str:
    """A valid access token for the OAuth ``mailbox``: the stored one, or, when it expires
    within ``TOKEN_REFRESH_MARGIN``, a new one from the refresh token, saved (encrypted) with
    its expiry. Raises ``MailboxTokenError``, with ``authentication`` when the provider refuses
    the refresh token (``invalid_grant``: revoked, expired, a changed password)."""
    now = now or timezone.now()
    stored = mailbox.secret_encrypted
    label = mailbox.get_provider_display()
    try:
        tokens = oauth.OAuthTokens.from_secret(
            secret_decrypt(stored), expires_at=mailbox.token_expires_at
        )
        if tokens.expires_at is not None and tokens.expires_at - now > TOKEN_REFRESH_MARGIN:
            return tokens.access_token
        fresh = oauth.tokens_refresh(
            provider=mailbox.provider, refresh_token=tokens.refresh_token, now=now
        )
    except oauth.OAuthRefused as exc:
        raise MailboxTokenError(
            f"{label} no longer lets Cadence into {mailbox.email_address} ({exc.message}) "
            "Connect the mailbox again.",
            authentication=True,
        ) from exc
    except oauth.OAuthFlowError as exc:
        raise MailboxTokenError(exc.message, authentication=False) from exc
    secret = secret_encrypt(fresh.to_secret())
    # Conditional on what was read: when another worker refreshed meanwhile, its tokens stay
    # stored (both access tokens are valid) and this one is used once.
    Mailbox.objects.filter(pk=mailbox.pk, secret_encrypted=stored).update(
        secret_encrypted=secret, token_expires_at=fresh.expires_at, updated_at=now
    )
    mailbox.secret_encrypted, mailbox.token_expires_at = secret, fresh.expires_at
    return fresh.access_token


def _check_servers(mailbox: Mailbox) -> None:
    """Log in to both servers and note the Sent folder's name on ``mailbox``; a failure is a
    400 naming the server and what went wrong."""
    imap, smtp = mailbox_endpoints(mailbox)
    try:
        mailbox.sent_folder = imap_check(imap)
        smtp_check(smtp)
    except MailboxError as exc:
        field = "password" if exc.authentication else f"{exc.server}_host"
        raise CadenceError(exc.message, field=field) from exc


def mailbox_connect(*, actor: User, password: str, provider: str = Provider.IMAP_SMTP, **fields):
    """Connect the actor's mailbox: log in to its IMAP and SMTP servers, and store it with the
    password encrypted. Nothing is stored when a login fails."""
    if provider != Provider.IMAP_SMTP:
        raise CadenceError(
            "Google and Microsoft mailboxes connect through their Connect buttons (OAuth).",
            field="provider",
        )
    if not password:
        raise CadenceError("Give the password or app password.", field="password")
    if Mailbox.objects.filter(user=actor).exists():
        raise CadenceError(
            "You have a mailbox connected already; disconnect it first.", field="email_address"
        )
    mailbox = Mailbox(
        user=actor,
        provider=provider,
        secret_encrypted=secret_encrypt(password),
        **{name: fields[name] for name in IMAP_SMTP_FIELDS if name in fields},
    )
    mailbox.full_clean(exclude=["user", "secret_encrypted"], validate_constraints=False)
    _check_servers(mailbox)
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError as exc:
        raise CadenceError(
            "You have a mailbox connected already; disconnect it first.", field="email_address"
        ) from exc
    return mailbox


def mailbox_connect_oauth(*, actor: User, grant: oauth.OAuthGrant) -> Mailbox:
    """Connect the actor's Google or Microsoft 365 mailbox from a finished sign-in
    (``oauth.authorization_finish``): log in to its IMAP and SMTP servers with XOAUTH2, and
    store it with its tokens encrypted. Nothing is stored when a login fails."""
    already = CadenceError("You have a mailbox connected already; disconnect it first.")
    if Mailbox.objects.filter(user=actor).exists():
        raise already
    try:
        config = oauth.provider_config(grant.provider)
    except oauth.OAuthFlowError as exc:
        raise CadenceError(exc.message, field="provider") from exc
    mailbox = Mailbox(
        user=actor,
        provider=grant.provider,
        email_address=grant.email_address,
        username=grant.email_address,
        secret_encrypted=secret_encrypt(grant.tokens.to_secret()),
        token_expires_at=grant.tokens.expires_at,
        imap_host=config.imap_host,
        imap_port=config.imap_port,
        imap_security=config.imap_security,
        smtp_host=config.smtp_host,
        smtp_port=config.smtp_port,
        smtp_security=config.smtp_security,
    )
    mailbox.full_clean(exclude=["user", "secret_encrypted"], validate_constraints=False)
    _check_servers(mailbox)
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError as exc:
        raise already from exc
    return mailbox


def mailbox_test(*, mailbox: Mailbox, actor: User) -> Mailbox:
    """Log in to the mailbox's servers again; its status says how that went, and a failure is a
    400 with the reason."""
    _check_own(mailbox, actor)
    try:
        _check_servers(mailbox)
    except CadenceError as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            status=MailboxStatus.BROKEN, last_error=exc.message, updated_at=timezone.now()
        )
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status=MailboxStatus.CONNECTED,
        last_error="",
        auth_failures=0,
        sync_errors=0,
        next_sync_at=None,
        sent_folder=mailbox.sent_folder,
        updated_at=timezone.now(),
    )
    mailbox.refresh_from_db()
    return mailbox


@transaction.atomic
def mailbox_disconnect(*, mailbox: Mailbox, actor: User) -> None:
    """Forget the mailbox and its secret."""
    _check_own(mailbox, actor)
    mailbox.delete()


def mailbox_secrets_rotate() -> int:
    """Re-encrypt every stored mailbox secret with the first key of ``CADENCE_SECRET_KEYS``;
    return how many were rewritten."""
    rotated = 0
    for mailbox in Mailbox.objects.exclude(secret_encrypted="").only("pk", "secret_encrypted"):
        with transaction.atomic():
            updated = Mailbox.objects.filter(
                pk=mailbox.pk, secret_encrypted=mailbox.secret_encrypted
            ).update(secret_encrypted=secret_rotate(mailbox.secret_encrypted))
        rotated += updated
    return rotated


#: Failed logins in a row after which a mailbox is broken until its owner fixes it.
AUTH_FAILURES_BROKEN = 3


def mailbox_claim_sync(
    *,
    mailbox: Mailbox,
    now: datetime.datetime,
    lease: datetime.timedelta,
    respect_backoff: bool = True,
) -> bool:
    """Hold the mailbox for one sync until ``now + lease``; False if another sync holds it, it
    is broken, or (``respect_backoff``) failed syncs put the next one off past ``now``. A
    conditional update, so two workers cannot both win on any database."""
    claimable = (
        Mailbox.objects.filter(pk=mailbox.pk)
        .exclude(status=MailboxStatus.BROKEN)
        .filter(models.Q(sync_claimed_until__isnull=True) | models.Q(sync_claimed_until__lt=now))
    )
    if respect_backoff:
        claimable = claimable.filter(
            models.Q(next_sync_at__isnull=True) | models.Q(next_sync_at__lte=now)
        )
    return bool(claimable.update(sync_claimed_until=now + lease, status=MailboxStatus.SYNCING))


def mailbox_folder_state(*, mailbox: Mailbox, name: str) -> MailboxFolder | None:
    return MailboxFolder.objects.filter(mailbox=mailbox, name=name).first()


def mailbox_folder_advance(
    *, mailbox: Mailbox, name: str, uid_validity: int, last_uid: int
) -> None:
    """Remember how far the folder has been read."""
    MailboxFolder.objects.update_or_create(
        mailbox=mailbox,
        name=name,
        defaults={"uid_validity": uid_validity, "last_uid": last_uid},
    )


def _failure_changes(mailbox: Mailbox, *, error: str, auth: bool) -> dict:
    failures = mailbox.auth_failures + 1 if auth else mailbox.auth_failures
    broken = auth and failures >= AUTH_FAILURES_BROKEN
    return {
        "last_error": error,
        "auth_failures": failures,
        "status": MailboxStatus.BROKEN if broken else MailboxStatus.CONNECTED,
    }


def mailbox_login_failed(
    *, mailbox: Mailbox, error: str, auth: bool, now: datetime.datetime
) -> Mailbox:
    """Record that a server of the mailbox failed us outside a sync (sending through it):
    ``auth``, a refused login, counts towards the mailbox being broken as in a sync."""
    changes = _failure_changes(mailbox, error=error, auth=auth)
    if mailbox.status == MailboxStatus.SYNCING and changes["status"] != MailboxStatus.BROKEN:
        del changes["status"]  # a sync holds it; the sync's end sets the status
    Mailbox.objects.filter(pk=mailbox.pk).update(**changes, updated_at=now)
    mailbox.refresh_from_db()
    return mailbox


#: After a failed sync the next waits this long, doubled for each failure in a row, up to
#: ``SYNC_BACKOFF_MAX``: a server that is down is not asked every minute.
SYNC_BACKOFF = datetime.timedelta(minutes=1)
SYNC_BACKOFF_MAX = datetime.timedelta(hours=1)


def sync_backoff(errors: int) -> datetime.timedelta:
    """How long the next sync waits after ``errors`` failed syncs in a row."""
    if errors <= 0:
        return datetime.timedelta(0)
    return min(SYNC_BACKOFF * 2 ** min(errors - 1, 16), SYNC_BACKOFF_MAX)


def mailbox_sync_finished(
    *, mailbox: Mailbox, now: datetime.datetime, seen: int, error: str = "", auth: bool = False
) -> Mailbox:
    """Release the mailbox after a sync and record how it went: ``seen`` new messages, or the
    ``error`` (``auth``: a refused login; enough in a row mark it broken). A failed sync puts
    the next one off (``sync_backoff``)."""
    changes = {"sync_claimed_until": None, "updated_at": now}
    if error:
        errors = mailbox.sync_errors + 1
        changes.update(
            _failure_changes(mailbox, error=error, auth=auth),
            sync_errors=errors,
            next_sync_at=now + sync_backoff(errors),
        )
    else:
        changes.update(
            last_error="",
            auth_failures=0,
            sync_errors=0,
            next_sync_at=None,
            status=MailboxStatus.CONNECTED,
            last_sync_at=now,
            messages_seen=models.F("messages_seen") + seen,
        )
    Mailbox.objects.filter(pk=mailbox.pk).update(**changes)
    mailbox.refresh_from_db()
    return mailbox
