from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES, ExitReason, PlanStatus


class LeadContactPlan(TimestampedModel):
    """A strategy assigned to a lead (``Lead_Contact_Plans``): who works whom, where they are.

    ``current_step`` is the active step, or the last completed one once the plan is done;
    ``next_step_due_date`` is when the next action is due. A contact holds at most one active
    (not started, in progress or paused) plan per strategy.
    """

    plan_id = uuid_primary_key("plan ID")
    company = models.ForeignKey("crm.Company", on_delete=models.CASCADE, related_name="plans")
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="plans"
    )
    strategy = models.ForeignKey(
        "strategies.ContactStrategy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans"
    )
    status = models.CharField(
        max_length=50,
        choices=PlanStatus.choices,
        default=PlanStatus.NOT_STARTED,
        db_default=PlanStatus.NOT_STARTED,
    )
    current_step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="current_in_plans",
    )
    plan_start_date = models.DateTimeField(default=timezone.now, db_default=Now())
    next_step_due_date = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(
        max_length=30, choices=ExitReason.choices, blank=True, default=""
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "lead_contact_plans"
        # Finished plans have no due date; placing them last on every backend keeps lists
        # in the same order on SQLite (nulls first by default) and PostgreSQL (nulls last).
        ordering = [models.F("next_step_due_date").asc(nulls_last=True), "plan_start_date"]
        indexes = [
            models.Index(fields=["status"], name="plan_status_idx"),
            models.Index(fields=["next_step_due_date"], name="plan_next_due_idx"),
            # "Due plans of user U", and the scheduler's "due plans" scan, touch only plans that
            # are running, so the partial index stays small however many plans have finished.
            models.Index(
                fields=["user", "next_step_due_date"],
                name="plan_user_due_running_idx",
                condition=models.Q(status__in=RUNNING_STATUSES),
            ),
            models.Index(
                fields=["next_step_due_date"],
                name="plan_due_running_idx",
                condition=models.Q(status__in=RUNNING_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(exit_reason__in=["", *ExitReason.values]),
                name="plan_exit_reason_valid",
            ),
            models.UniqueConstraint(
                fields=["contact", "strategy"],
                condition=models.Q(
                    status__in=ACTIVE_STATUSES, contact__isnull=False, strategy__isnull=False
                ),
                name="plan_one_active_per_contact_strategy",
                violation_error_message="This contact is already active in this strategy.",
            ),
        ]

    def __str__(self) -> str:
        lead = self.contact or self.company
        return f"{lead}: {self.strategy or 'custom plan'} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
