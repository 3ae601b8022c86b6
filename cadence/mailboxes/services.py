"""Connecting, testing and disconnecting a user's mailbox. A user manages their own mailbox;
nobody else, not even an admin, connects one for them or reads its secret."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.core.secrets import secret_decrypt, secret_encrypt, secret_rotate
from cadence.mailboxes.choices import MailboxStatus, Provider
from cadence.mailboxes.connection import Endpoint, MailboxError, imap_check, smtp_check
from cadence.mailboxes.models import Mailbox

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
    """How to reach the mailbox's IMAP and SMTP servers, with its decrypted password."""
    password = secret_decrypt(mailbox.secret_encrypted)
    imap = Endpoint(
        mailbox.imap_host, mailbox.imap_port, mailbox.imap_security, mailbox.username, password
    )
    smtp = Endpoint(
        mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security, mailbox.username, password
    )
    return imap, smtp


def _check_servers(mailbox: Mailbox) -> None:
    """Log in to both servers; a failure is a 400 naming the server and what went wrong."""
    imap, smtp = mailbox_endpoints(mailbox)
    try:
        imap_check(imap)
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
        status=MailboxStatus.CONNECTED, last_error="", updated_at=timezone.now()
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
