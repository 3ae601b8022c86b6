from django.conf import settings
from django.db import models

from cadence.core.models import TimestampedModel, uuid_primary_key


class ContactStrategy(TimestampedModel):
    """A cadence: an ordered list of steps to contact a lead (``Contact_Strategies``).

    A template (``is_template``) is reused across many plans; a non-template strategy is the
    private list of steps behind one custom plan. The settings after ``updated_at`` in the
    specification's order are Cadence's additions: how delays are counted, when automated sends
    may go out, which events end a plan, and whether automation awaits a manager's approval.
    """

    strategy_id = uuid_primary_key("strategy ID")
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_column="created_by_user_id",
        related_name="strategies_created",
    )
    is_template = models.BooleanField(default=True, db_default=True)
    uses_business_days = models.BooleanField(
        default=False, help_text="Count delays in business days, skipping weekends and holidays."
    )
    send_window_start = models.TimeField(
        null=True, blank=True, help_text="Earliest local time of the contact for automated sends."
    )
    send_window_end = models.TimeField(
        null=True, blank=True, help_text="Latest local time of the contact for automated sends."
    )
    exit_on_reply = models.BooleanField(default=True)
    exit_on_meeting_booked = models.BooleanField(default=True)
    exit_on_bounce = models.BooleanField(default=True)
    pause_company_on_reply = models.BooleanField(
        default=False,
        help_text="A reply from anyone at a company pauses this strategy's other plans there.",
    )
    exclusive = models.BooleanField(
        default=False, help_text="Enroll no contact who is active in any other strategy."
    )
    cooldown_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Enroll no contact whose last plan started fewer than this many days ago.",
    )
    automation_requires_approval = models.BooleanField(default=True)
    automation_approved_at = models.DateTimeField(null=True, blank=True)
    automation_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="strategies_approved",
    )
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived templates take no new plans."
    )

    class Meta:
        db_table = "contact_strategies"
        verbose_name_plural = "contact strategies"
        ordering = ["name"]
        indexes = [models.Index(fields=["is_template", "name"], name="strategy_template_name_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(send_window_start__isnull=True, send_window_end__isnull=True)
                    | models.Q(
                        send_window_start__isnull=False,
                        send_window_end__isnull=False,
                        send_window_start__lt=models.F("send_window_end"),
                    )
                ),
                name="strategy_send_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class StrategyStep(TimestampedModel):
    """One touch of a strategy (``Strategy_Steps``): what to do, and how long after the last.

    ``delay_days`` counts from the completion of the previous step, or from the plan's start for
    step 1. Step numbers are unique within a strategy and start at 1.
    """

    step_id = uuid_primary_key("step ID")
    strategy = models.ForeignKey(ContactStrategy, on_delete=models.CASCADE, related_name="steps")
    step_number = models.IntegerField()
    delay_days = models.IntegerField(default=0, db_default=0)
    activity_type = models.CharField(max_length=100)
    subject_template = models.CharField(max_length=255, null=True, blank=True)
    description_template = models.TextField(null=True, blank=True)
    is_automated = models.BooleanField(default=False, db_default=False)

    class Meta:
        db_table = "strategy_steps"
        ordering = ["strategy", "step_number"]
        constraints = [
            # Also the specification's index on (strategy_id, step_number).
            models.UniqueConstraint(
                fields=["strategy", "step_number"], name="step_number_unique_per_strategy"
            ),
            models.CheckConstraint(
                condition=models.Q(step_number__gte=1), name="step_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(delay_days__gte=0), name="step_delay_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["step_number"], name="step_number_idx")]

    def __str__(self) -> str:
        return f"{self.step_number}. {self.activity_type} (+{self.delay_days}d)"
