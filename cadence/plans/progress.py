"""How plans move: due dates, completing and skipping steps, ending, following template edits.

The rules (DESIGN.md section 2):

- The current step is due its ``delay_days`` after the previous step was done or skipped (after
  ``plan_start_date`` for the first), counted in calendar or business days in the plan owner's
  time zone, and moved later by the time the plan spent paused since then.
- Doing the current step moves the plan to the next step not yet done, by number; after the last
  one the plan is Completed (exit reason ``finished``) and keeps its last step as current.
- A finished plan has no due date and owes no reminder.

Every function here expects to run inside the caller's transaction with the plan row locked.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from cadence.activities.services import reminders_retire_stale
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.scheduling.due import next_due_at
from cadence.strategies.models import StrategyStep


def reminder_lead_time() -> datetime.timedelta:
    """How long before a step is due its reminder is made (``CADENCE_REMINDER_LEAD_MINUTES``,
    15 minutes unless set): see ``set_due``."""
    return datetime.timedelta(minutes=getattr(settings, "CADENCE_REMINDER_LEAD_MINUTES", 15))


def due_date_for(plan: LeadContactPlan, step: StrategyStep) -> datetime.datetime:
    """The due date of ``step`` as the plan's next step, by the rule above."""
    base = plan.last_step_completed_at or plan.plan_start_date
    strategy = plan.strategy
    due = next_due_at(
        base=base,
        delay_days=step.delay_days,
        business_days=bool(strategy and strategy.uses_business_days),
        time_zone=plan.user.time_zone,
        country=str(plan.user.country or ""),
    )
    return due + plan.paused_duration


def set_due(plan: LeadContactPlan, due: datetime.datetime | None) -> None:
    """Set the due date, and the reminder owed for it while the plan runs.

    When a reminder is due: ``reminder_lead_time()`` before its step is due, for the plan's
    current step, while the plan runs (Not Started or In Progress); a paused or finished plan,
    or one with no due date, owes none. The moment is kept in ``reminder_due_at``, which the
    scheduler pass (``plans.scheduler``) reads to make the reminder once it has passed. Does
    not save."""
    plan.next_step_due_date = due
    running = plan.status in RUNNING_STATUSES
    plan.reminder_due_at = due - reminder_lead_time() if due and running else None


def done_step_ids(plan: LeadContactPlan) -> set:
    if plan._state.adding:
        return set()
    return set(
        PlanStepResult.objects.filter(plan=plan, step__isnull=False).values_list(
            "step_id", flat=True
        )
    )


def steps_after(plan: LeadContactPlan, number: int) -> QuerySet[StrategyStep]:
    """The plan's steps numbered after ``number`` that it has not done yet, in order."""
    if plan.strategy_id is None:
        return StrategyStep.objects.none()
    return (
        StrategyStep.objects.filter(strategy_id=plan.strategy_id, step_number__gt=number)
        .exclude(pk__in=done_step_ids(plan))
        .order_by("step_number")
    )


def first_step(plan: LeadContactPlan) -> StrategyStep | None:
    return steps_after(plan, 0).first()


def record_step(
    plan: LeadContactPlan,
    step: StrategyStep,
    *,
    result: str,
    at: datetime.datetime,
    user,
    activity=None,
) -> PlanStepResult:
    return PlanStepResult.objects.create(
        **step_result_fields(plan, step, result=result, at=at, user=user, activity=activity)
    )


def step_result_fields(plan, step, *, result: str, at, user, activity=None) -> dict:
    return {
        "plan": plan,
        "step": step,
        "step_number": step.step_number,
        "result": result,
        "due_at": plan.next_step_due_date if plan.current_step_id == step.pk else None,
        "completed_at": at,
        "arrived_at": plan.last_step_completed_at or plan.started_at or plan.plan_start_date,
        "activity": activity,
        "user": user,
    }


def move_to(plan: LeadContactPlan, step: StrategyStep | None, *, at: datetime.datetime) -> None:
    """Make ``step`` current after the previous one was finished at ``at``; with no step left,
    the plan is Completed. Does not save."""
    plan.last_step_completed_at = at
    plan.paused_duration = datetime.timedelta()
    if plan.started_at is None:
        plan.started_at = at
    if step is None:
        end(plan, status=PlanStatus.COMPLETED, reason=ExitReason.FINISHED, at=at)
        return
    plan.current_step = step
    if plan.status == PlanStatus.NOT_STARTED:
        plan.status = PlanStatus.IN_PROGRESS
    set_due(plan, due_date_for(plan, step))


def finish_step(
    plan: LeadContactPlan,
    step: StrategyStep,
    *,
    result: str,
    at: datetime.datetime,
    user,
    activity=None,
) -> None:
    """Record ``step`` as done or skipped and move on past it. Does not save the plan."""
    record_step(plan, step, result=result, at=at, user=user, activity=activity)
    if plan.current_step_id == step.pk:
        move_to(plan, steps_after(plan, step.step_number).first(), at=at)


def skip_through(
    plan: LeadContactPlan, target: StrategyStep, *, at: datetime.datetime, user
) -> None:
    """Record every step before ``target``, from the current one, as skipped; ``target`` becomes
    current. Does not save the plan."""
    for step in steps_after(plan, plan.current_step.step_number - 1):
        if step.step_number >= target.step_number:
            break
        record_step(plan, step, result=StepResult.SKIPPED, at=at, user=user)
    plan.current_step = target
    # The target step was never due: it is done before its time, not late.
    plan.next_step_due_date = None


def end(plan: LeadContactPlan, *, status: str, reason: str, at: datetime.datetime) -> None:
    """End the plan for good. Does not save."""
    plan.status = status
    plan.exit_reason = reason
    plan.ended_at = at
    plan.paused_at = None
    plan.resume_at = None
    set_due(plan, None)


def pause(
    plan: LeadContactPlan, *, at: datetime.datetime, until: datetime.datetime | None = None
) -> None:
    """Stop a running plan's clock at ``at``, until ``until`` if given (else until resumed by
    hand). It owes no reminder while paused. Does not save."""
    plan.status = PlanStatus.PAUSED
    plan.paused_at = at
    plan.resume_at = until
    set_due(plan, plan.next_step_due_date)


PLAN_FIELDS = [
    "status",
    "current_step",
    "next_step_due_date",
    "reminder_due_at",
    "plan_start_date",
    "started_at",
    "last_step_completed_at",
    "paused_at",
    "resume_at",
    "paused_duration",
    "ended_at",
    "exit_reason",
    "updated_at",
]


def save_progress(plan: LeadContactPlan) -> None:
    plan.save(update_fields=PLAN_FIELDS)
    retire_stale_reminders([plan.pk])


def retire_stale_reminders(plan_ids) -> int:
    """Retire the undelivered reminders of steps the plans no longer await (the rule is
    ``activities.services.reminders_retire_stale``'s); a plan awaits its step while it runs."""
    return reminders_retire_stale(plan_ids=plan_ids, running_statuses=RUNNING_STATUSES)


def follow_template_edit(*, strategy, deleting: StrategyStep | None = None) -> None:
    """Keep the plans of an edited strategy on their rules (``StrategyStepsChanged``'s handler).

    Before a step is deleted, plans whose current step it is move to the next step by number.
    After any edit, each active plan's due date is recomputed from its current step, whose delay
    may have changed. Finished plans are history and stay as they are.
    """
    now = timezone.now()
    active = (
        LeadContactPlan.objects.select_for_update(of=("self",))
        .filter(strategy=strategy, status__in=ACTIVE_STATUSES)
        .select_related("strategy", "user", "current_step")
    )
    if deleting is not None:
        for plan in active.filter(current_step=deleting):
            following = steps_after(plan, deleting.step_number).first()
            if following is None:
                end(plan, status=PlanStatus.COMPLETED, reason=ExitReason.FINISHED, at=now)
            else:
                plan.current_step = following
                set_due(plan, due_date_for(plan, following))
            save_progress(plan)
        return
    changed = []
    for plan in active.exclude(current_step=None):
        # A paused plan's due date leaves out the pause under way; resuming adds it.
        due = due_date_for(plan, plan.current_step)
        if due != plan.next_step_due_date:
            set_due(plan, due)
            plan.updated_at = now
            changed.append(plan)
    for plan in active.filter(current_step=None):
        # A plan on a strategy that had no steps picks up the first one added; a paused one
        # too (owing no reminder until it resumes), or it would resume with nothing to do.
        step = first_step(plan)
        if step is not None:
            plan.current_step = step
            set_due(plan, due_date_for(plan, step))
            plan.updated_at = now
            changed.append(plan)
    LeadContactPlan.objects.bulk_update(
        changed,
        ["current_step", "next_step_due_date", "reminder_due_at", "updated_at"],
        batch_size=1000,
    )
    retire_stale_reminders([plan.pk for plan in changed])
