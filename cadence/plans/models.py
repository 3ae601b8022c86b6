import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)


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
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When work began: the start action or the first step."
    )
    last_step_completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the previous step was done or skipped."
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A paused plan resumes by itself at this time (an out-of-office return date).",
    )
    paused_duration = models.DurationField(
        default=datetime.timedelta,
        help_text="Time spent paused since the previous step; the due date moves by it.",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    reminder_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the scheduler owes this plan's user a reminder; empty once it is made.",
    )

    class Meta:
        db_table = "lead_contact_plans"
        # Finished plans have no due date; placing them last on every backend keeps lists
        # in the same order on SQLite (nulls first by default) and PostgreSQL (nulls last).
        ordering = [models.F("next_step_due_date").asc(nulls_last=True), "plan_start_date"]
        indexes = [
            models.Index(fields=["status"], name="plan_status_idx"),
            # Plans per strategy and status (the strategies page's usage counts) from the index
            # alone, without reading a row per plan.
            models.Index(fields=["strategy", "status"], name="plan_strategy_status_idx"),
            models.Index(fields=["next_step_due_date"], name="plan_next_due_idx"),
            # The email report's rollup recounts the days of the emails of plans that moved
            # (a step done, an exit) since its last refresh.
            models.Index(fields=["updated_at"], name="plan_updated_idx"),
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
            # The scheduler's work queue: only plans that are owed a reminder are in it, so a
            # pass costs what is due, not what exists.
            models.Index(
                fields=["reminder_due_at"],
                name="plan_reminder_due_idx",
                condition=models.Q(reminder_due_at__isnull=False),
            ),
            models.Index(
                fields=["resume_at"],
                name="plan_resume_due_idx",
                condition=models.Q(resume_at__isnull=False),
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
            models.UniqueConstraint(
                fields=["company", "strategy"],
                condition=models.Q(
                    status__in=ACTIVE_STATUSES, contact__isnull=True, strategy__isnull=False
                ),
                name="plan_one_active_per_company_strategy",
                violation_error_message="This company is already active in this strategy.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RUNNING_STATUSES)
                | models.Q(reminder_due_at__isnull=True),
                name="plan_reminders_only_while_running",
            ),
        ]

    def __str__(self) -> str:
        lead = self.contact or self.company
        return f"{lead}: {self.strategy or 'custom plan'} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class PlanStepResult(TimestampedModel):
    """What became of one step of one plan: done (by an activity) or skipped, and when.

    It is the plan's memory of finished steps, so template edits touch only steps not yet done,
    and the record that adherence and funnel reports count (due date against completion).
    """

    result_id = uuid_primary_key("result ID")
    plan = models.ForeignKey(LeadContactPlan, on_delete=models.CASCADE, related_name="results")
    step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="results",
    )
    step_number = models.IntegerField(help_text="The step's number when it was done.")
    result = models.CharField(max_length=20, choices=StepResult.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField()
    arrived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "When the plan moved on to this step (or past the steps skipped to reach it): its "
            "previous step's completion, else its start. The step funnel's time on a step."
        ),
    )
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="step_results",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="step_results"
    )

    class Meta:
        db_table = "plan_step_results"
        ordering = ["plan", "completed_at"]
        indexes = [
            models.Index(fields=["completed_at"], name="step_result_completed_idx"),
            # The adherence report counts the results due in a period; its rollup recounts the
            # days of results written since its last refresh.
            models.Index(fields=["due_at"], name="step_result_due_idx"),
            models.Index(fields=["updated_at"], name="step_result_updated_idx"),
            # "The plan's latest completed step" (reply attribution in the funnel and email
            # reports) probes this index alone, wherever the plan's results lie in the table.
            models.Index(
                fields=["plan", "completed_at", "step_number"],
                condition=models.Q(result="completed"),
                name="step_result_latest_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "step"],
                condition=models.Q(step__isnull=False),
                name="step_result_once_per_plan",
            ),
            models.CheckConstraint(
                condition=models.Q(result__in=StepResult.values), name="step_result_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.step_number} {self.result} at {self.completed_at:%Y-%m-%d %H:%M}"
