from django.conf import settings
from django.db import models
from django.utils import timezone

from cadence.activities.choices import (
    ActivityType,
    Direction,
    Outcome,
    ReminderChannel,
    ReminderStatus,
)
from cadence.core.models import TimestampedModel, uuid_primary_key


def default_reminder_channels() -> list[str]:
    return [ReminderChannel.IN_APP]


class Activity(TimestampedModel):
    """A touch that happened: an email sent, a call made, a reply received.

    When it executes a planned step it names the plan and the step (``plan_id``, ``step_id``);
    that link is what advances plans and what the analytics count.
    """

    activity_id = uuid_primary_key("activity ID")
    company = models.ForeignKey("crm.Company", on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities"
    )
    activity_type = models.CharField(max_length=100, choices=ActivityType.choices)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=50, choices=Outcome.choices, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)
    plan = models.ForeignKey(
        "plans.LeadContactPlan",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    message_id = models.CharField(
        max_length=998, blank=True, default="", help_text="RFC 5322 Message-ID of an email."
    )

    class Meta:
        db_table = "activities"
        verbose_name_plural = "activities"
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="activity_user_recent_idx"),
            models.Index(fields=["occurred_at"], name="activity_occurred_idx"),
            # A lead's history in order: suggestion rules and the history analysis walk it.
            models.Index(fields=["contact", "occurred_at"], name="activity_contact_time_idx"),
            # What was logged since a moment, whenever it happened: the suggestions' scheduler
            # step reads activities logged late (back-filled) since its previous pass.
            models.Index(fields=["created_at"], name="activity_logged_idx"),
            # The analytics' converting activities (default conversion outcomes) without reading
            # the other millions: measured 7.7 s -> 1.2 s on 10,000,000 activities.
            models.Index(
                fields=["plan", "occurred_at"],
                name="activity_conversion_idx",
                condition=models.Q(
                    plan__isnull=False, outcome__in=[Outcome.REPLIED, Outcome.MEETING_BOOKED]
                ),
            ),
            models.Index(
                fields=["message_id"],
                name="activity_message_id_idx",
                condition=~models.Q(message_id=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=Direction.values),
                name="activity_direction_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(step__isnull=True) | models.Q(plan__isnull=False),
                name="activity_step_needs_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_type} {self.outcome or ''} {self.occurred_at:%Y-%m-%d}".strip()


class Reminder(TimestampedModel):
    """A nudge to a user at ``remind_at``, usually that a planned step is due (``due_at``).

    At most one reminder exists per plan, step and due date: the database refuses a second, which
    is what makes the scheduler pass safe to run often and concurrently.
    """

    reminder_id = uuid_primary_key("reminder ID")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    plan = models.ForeignKey(
        "plans.LeadContactPlan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="reminders"
    )
    remind_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=20, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    channels = models.JSONField(default=default_reminder_channels)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reminders"
        ordering = ["remind_at"]
        indexes = [
            models.Index(fields=["user", "status", "remind_at"], name="reminder_user_status_idx"),
            # The delivery step's work queue: only undelivered reminders are in it.
            models.Index(
                fields=["remind_at"],
                name="reminder_undelivered_idx",
                condition=models.Q(status__in=[ReminderStatus.PENDING, ReminderStatus.SNOOZED]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReminderStatus.values),
                name="reminder_status_valid",
            ),
            models.UniqueConstraint(
                fields=["plan", "step", "due_at"],
                condition=models.Q(plan__isnull=False, step__isnull=False, due_at__isnull=False),
                name="reminder_one_per_plan_step_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message[:50] or 'Reminder'} at {self.remind_at:%Y-%m-%d %H:%M}"
