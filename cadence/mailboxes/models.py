from django.conf import settings
from django.db import models

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.mailboxes.choices import MailboxStatus, Provider, Security


class Mailbox(TimestampedModel):
    """A user's own mailbox, connected so that Cadence sends their automated emails from it and
    reads the replies, out-of-office answers and bounces that land in it.

    Its secret (a password or app password, or the OAuth tokens) is stored encrypted
    (``cadence.core.secrets``) and never leaves the server. A user has one mailbox for now; the
    model allows several later (drop the unique constraint).
    """

    mailbox_id = uuid_primary_key("mailbox ID")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    email_address = models.EmailField(max_length=254)
    username = models.CharField(max_length=254)
    secret_encrypted = models.TextField(blank=True, default="", editable=False)
    imap_host = models.CharField(max_length=255)
    imap_port = models.PositiveIntegerField()
    imap_security = models.CharField(max_length=10, choices=Security.choices)
    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField()
    smtp_security = models.CharField(max_length=10, choices=Security.choices)
    status = models.CharField(
        max_length=20, choices=MailboxStatus.choices, default=MailboxStatus.CONNECTED
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    messages_seen = models.PositiveIntegerField(default=0)
    sync_claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A sync holds the mailbox until then (one at a time)."
    )
    auth_failures = models.PositiveIntegerField(
        default=0, help_text="Failed logins in a row; enough of them mark the mailbox broken."
    )
    sent_folder = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="The folder the rep's sent mail is in, as found when the mailbox was checked.",
    )
    sync_errors = models.PositiveIntegerField(
        default=0, help_text="Failed syncs in a row; each one waits longer before the next."
    )
    next_sync_at = models.DateTimeField(
        null=True, blank=True, help_text="After failed syncs, the next one waits until then."
    )
    token_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the OAuth access token expires (OAuth mailboxes)."
    )

    class Meta:
        db_table = "mailboxes"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], name="mailbox_one_per_user"),
        ]

    def __str__(self) -> str:
        return self.email_address


class MailboxFolder(TimestampedModel):
    """How far a mailbox's folder has been read: its ``UIDVALIDITY`` and the last UID seen. A
    changed ``UIDVALIDITY`` means the server renumbered the folder: it is read again from the
    last sync's day, and the inbound records, one per Message-ID, keep it from counting twice."""

    mailbox_folder_id = uuid_primary_key("mailbox folder ID")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=255)
    uid_validity = models.BigIntegerField()
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        db_table = "mailbox_folders"
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.mailbox} {self.name}"
