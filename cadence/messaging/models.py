from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, Lower

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.messaging.choices import (
    InboundKind,
    InboundStatus,
    OutboundStatus,
    SuppressionReason,
)


class OutboundMessage(TimestampedModel):
    """The outbox: one automated email of one plan's step, on its way from queued to sent.

    A row exists at most once per (plan, step), so a step cannot be queued twice. Workers claim
    rows with a conditional update; ``handoff_at`` is written (and committed) just before the
    message is handed to the mail server, which is what lets a crashed send be told apart from
    one that never started: the first may have gone (``uncertain``), the second is queued again.
    """

    outbound_message_id = uuid_primary_key("outbound message ID")
    plan = models.ForeignKey(
        "plans.LeadContactPlan", on_delete=models.CASCADE, related_name="outbound_messages"
    )
    step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    strategy = models.ForeignKey(
        "strategies.ContactStrategy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )
    company = models.ForeignKey(
        "crm.Company", on_delete=models.CASCADE, related_name="outbound_messages"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="outbound_messages",
        help_text="The sender: the plan's owner.",
    )
    status = models.CharField(
        max_length=20, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    to_email = models.EmailField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=998, blank=True, default="")
    body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="", help_text="Why it failed or waits.")
    send_after = models.DateTimeField(help_text="It may not go before this time.")
    send_now = models.BooleanField(
        default=False, help_text="A person asked for it to go now, outside approval and window."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    handoff_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was handed to the mail server."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=998, blank=True, default="")
    esp_message_id = models.CharField(
        max_length=255, blank=True, default="", help_text="The email provider's ID, if any."
    )
    attempts = models.PositiveIntegerField(default=0)
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_messages",
    )

    class Meta:
        db_table = "outbound_messages"
        ordering = ["-created_at", "-outbound_message_id"]
        indexes = [
            # The email report's rollup recounts the days of emails changed since its last
            # refresh.
            models.Index(fields=["updated_at"], name="outbound_updated_idx"),
            # The send queue: small, whatever the history holds.
            models.Index(
                fields=["send_after"],
                name="outbound_queue_idx",
                condition=models.Q(status=OutboundStatus.QUEUED),
            ),
            models.Index(
                fields=["claimed_at"],
                name="outbound_sending_idx",
                condition=models.Q(status=OutboundStatus.SENDING),
            ),
            models.Index(fields=["status", "-created_at"], name="outbound_status_idx"),
            # The email analytics choose messages by when they went out; the expression index
            # also gives PostgreSQL statistics for it (it misjudged 846,783 rows as 2,151).
            models.Index(Coalesce("sent_at", "handoff_at"), name="outbound_send_time_idx"),
            models.Index(fields=["user", "-created_at"], name="outbound_user_idx"),
            models.Index(
                fields=["message_id"],
                name="outbound_message_id_idx",
                condition=~models.Q(message_id=""),
            ),
            models.Index(
                fields=["esp_message_id"],
                name="outbound_esp_id_idx",
                condition=~models.Q(esp_message_id=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "step"],
                condition=models.Q(step__isnull=False),
                name="outbound_once_per_plan_step",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=OutboundStatus.values),
                name="outbound_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to_email or 'no address'}: {self.subject or '(no subject)'} ({self.status})"


class Suppression(TimestampedModel):
    """An address Cadence never emails again: an unsubscribe, a hard bounce, a complaint, or an
    entry someone added by hand. Checked before every automated send."""

    suppression_id = uuid_primary_key("suppression ID")
    email = models.EmailField(max_length=254)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    note = models.TextField(blank=True, default="")
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suppressions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suppressions_added",
    )

    class Meta:
        db_table = "suppressions"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="suppression_email_unique"),
            models.CheckConstraint(
                condition=models.Q(reason__in=SuppressionReason.values),
                name="suppression_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class Sender(TimestampedModel):
    """A user's mailbox as an automated sender: its limits, its ramp-up and its postal address.

    New mailboxes start slowly (``ramp_start`` a day, growing by ``ramp_step`` a day up to the
    daily limit) because providers distrust a new address that suddenly sends hundreds.
    """

    sender_id = uuid_primary_key("sender ID")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sender"
    )
    daily_limit = models.PositiveIntegerField(null=True, blank=True)
    hourly_limit = models.PositiveIntegerField(null=True, blank=True)
    ramp_started_on = models.DateField(help_text="The first day this mailbox sent.")
    ramp_start = models.PositiveIntegerField(null=True, blank=True)
    ramp_step = models.PositiveIntegerField(null=True, blank=True)
    postal_address = models.TextField(
        blank=True, default="", help_text="Printed in every automated email's footer."
    )
    automation_paused_at = models.DateTimeField(null=True, blank=True)
    automation_paused_reason = models.TextField(blank=True, default="")

    class Meta:
        db_table = "senders"
        ordering = ["user"]

    def __str__(self) -> str:
        return f"Sender {self.user}"


class SendCounter(models.Model):
    """How many sends a scope (a user's day or hour, a domain's hour, a company's week) has
    used in one window. Incremented with a conditional update, so several workers never
    overshoot a limit together."""

    counter_id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=300)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "send_counters"
        constraints = [
            models.UniqueConstraint(fields=["scope", "window_start"], name="send_counter_unique")
        ]
        indexes = [models.Index(fields=["window_start"], name="send_counter_window_idx")]

    def __str__(self) -> str:
        return f"{self.scope} @ {self.window_start:%Y-%m-%d %H:%M}: {self.count}"


class InboundMessage(TimestampedModel):
    """An email that came back: a reply, an auto-reply, a bounce or a complaint, with what
    Cadence made of it. Kept so a webhook delivered twice is applied once, and so unmatched
    mail can be looked at."""

    inbound_message_id = uuid_primary_key("inbound message ID")
    message_id = models.CharField(max_length=998, blank=True, default="")
    source = models.CharField(max_length=50, help_text="raw, or the email provider's webhook.")
    kind = models.CharField(max_length=20, choices=InboundKind.choices)
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    from_address = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=998, blank=True, default="")
    text = models.TextField(blank=True, default="")
    note = models.TextField(blank=True, default="", help_text="What Cadence did with it.")
    outbound_message = models.ForeignKey(
        OutboundMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    plan = models.ForeignKey(
        "plans.LeadContactPlan",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
    )
    activity = models.ForeignKey(
        "activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "inbound_messages"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["message_id"],
                name="inbound_message_id_idx",
                condition=~models.Q(message_id=""),
            ),
            # The email report's rollup recounts the days of emails whose replies, bounces or
            # complaints arrived since its last refresh.
            models.Index(fields=["updated_at"], name="inbound_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.from_address or 'unknown'}: {self.subject}"
