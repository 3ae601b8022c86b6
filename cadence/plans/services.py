"""Plan lifecycle: creating plans, the actions on them, and logging activities against them.

Each action locks the plan row, checks the transition against the current state and answers an
illegal one with a ``PlanStateError`` that says why, so a double click or two workers racing
cannot move a plan twice.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.activities import services as activity_services
from cadence.activities.models import Activity
from cadence.core.errors import CadenceError
from cadence.core.services import model_update, rows_update
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.events import ActivitiesLogged, publish
from cadence.plans import exits, progress
from cadence.plans.assignment import enrollment_refusal
from cadence.plans.choices import (
    ABORT_REASONS,
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies import services as strategy_services
from cadence.strategies.models import ContactStrategy, StrategyStep


class PlanStateError(CadenceError):
    """An action that the plan's current state does not allow."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, field=field, code="plan_state")


def _locked(plan: LeadContactPlan) -> LeadContactPlan:
    return (
        LeadContactPlan.objects.select_for_update(of=("self",))
        .select_related("strategy", "user", "current_step", "contact", "company")
        .get(pk=plan.pk)
    )


def _lead(contact: Contact | None, company: Company | None) -> Company:
    if contact is None and company is None:
        raise CadenceError("Give the contact or the company this plan targets.", field="company_id")
    if contact is not None:
        if company is not None and company.pk != contact.company_id:
            raise CadenceError("This contact works at another company.", field="contact_id")
        return contact.company
    return company


def _start_plan(plan: LeadContactPlan) -> LeadContactPlan:
    """Save a new plan at its first step, due ``delay_days`` after its start."""
    step = progress.first_step(plan)
    plan.current_step = step
    progress.set_due(plan, progress.due_date_for(plan, step) if step else None)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        field = "contact_id" if plan.contact_id else "company_id"
        raise CadenceError("The lead is already active in this strategy.", field=field) from exc
    return plan


@transaction.atomic
def plan_create(
    *,
    user: User,
    company: Company | None = None,
    contact: Contact | None = None,
    strategy: ContactStrategy | None = None,
    plan_start_date: datetime.datetime | None = None,
    status: str = PlanStatus.NOT_STARTED,
) -> LeadContactPlan:
    """Put one lead on a strategy, under the enrollment rules; it starts at its first step, Not
    Started (``status`` may say only that: the other states are reached by the actions)."""
    if status != PlanStatus.NOT_STARTED:
        raise CadenceError(
            "A new plan starts as Not Started; start, pause or end it once it exists.",
            field="status",
        )
    company = _lead(contact, company)
    if strategy is not None and strategy.is_archived:
        raise CadenceError("This strategy is archived and takes no new plans.", field="strategy_id")
    if strategy is not None:
        refusal = enrollment_refusal(strategy=strategy, contact=contact, company=company)
        if refusal:
            raise CadenceError(refusal, field="contact_id" if contact else "company_id")
    elif contact is not None and (contact.opted_out or contact.email_status == EmailStatus.BOUNCED):
        raise CadenceError(enrollment_refusal(strategy=None, contact=contact), field="contact_id")
    plan = LeadContactPlan(
        company=company,
        contact=contact,
        strategy=strategy,
        user=user,
        plan_start_date=plan_start_date or timezone.now(),
    )
    return _start_plan(plan)


@transaction.atomic
def plan_create_custom(
    *,
    actor: User,
    user: User,
    steps: Sequence[dict],
    name: str = "",
    company: Company | None = None,
    contact: Contact | None = None,
    plan_start_date: datetime.datetime | None = None,
    **settings,
) -> LeadContactPlan:
    """A one-off plan: its own private strategy (``is_template = false``) with its own steps,
    editable without touching any template."""
    company = _lead(contact, company)
    if not steps:
        raise CadenceError("A custom plan needs at least one step.", field="steps")
    lead = contact.full_name if contact else company.name
    strategy = strategy_services.strategy_create(
        created_by=actor,
        name=name or f"Custom plan for {lead}",
        is_template=False,
        steps=steps,
        **settings,
    )
    return plan_create(
        user=user,
        company=company,
        contact=contact,
        strategy=strategy,
        plan_start_date=plan_start_date,
    )


# -- Actions ------------------------------------------------------------------------------------


def _refuse_unless(plan: LeadContactPlan, allowed: Sequence[str], action: str) -> None:
    if plan.status not in allowed:
        if plan.status in FINISHED_STATUSES:
            why = f"it is {plan.status}, which is final"
        else:
            why = f"it is {plan.status}"
        raise PlanStateError(f"Cannot {action} this plan: {why}.", field="status")


@transaction.atomic
def plan_start(*, plan: LeadContactPlan, now: datetime.datetime | None = None) -> LeadContactPlan:
    """Begin work now. A plan scheduled to start later starts now, its first step due from now."""
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, [PlanStatus.NOT_STARTED], "start")
    plan.status = PlanStatus.IN_PROGRESS
    plan.started_at = now
    if plan.plan_start_date > now and plan.last_step_completed_at is None:
        plan.plan_start_date = now
    if plan.current_step is not None:
        progress.set_due(plan, progress.due_date_for(plan, plan.current_step))
    progress.save_progress(plan)
    return plan


@transaction.atomic
def plan_pause(
    *,
    plan: LeadContactPlan,
    now: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> LeadContactPlan:
    """Stop the clock: no reminders, tasks or sends until it resumes, by hand or (``until``)
    by the scheduler pass at that time."""
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, RUNNING_STATUSES, "pause")
    if until is not None and until <= now:
        raise CadenceError("A pause must end in the future.", field="until")
    progress.pause(plan, at=now, until=until)
    progress.save_progress(plan)
    return plan


@transaction.atomic
def plan_resume(*, plan: LeadContactPlan, now: datetime.datetime | None = None) -> LeadContactPlan:
    """Restart the clock; the due date moves later by the time spent paused."""
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, [PlanStatus.PAUSED], "resume")
    plan.status = PlanStatus.IN_PROGRESS if plan.started_at else PlanStatus.NOT_STARTED
    plan.paused_duration += max(now - (plan.paused_at or now), datetime.timedelta())
    plan.paused_at = None
    plan.resume_at = None
    due = progress.due_date_for(plan, plan.current_step) if plan.current_step else None
    progress.set_due(plan, due)
    progress.save_progress(plan)
    return plan


def plans_resume_due(*, now: datetime.datetime) -> int:
    """Resume the paused plans whose pause ends by ``now``; returns how many resumed.

    Each plan goes through ``plan_resume`` (which locks it and checks it is still paused), so a
    plan resumed by hand meanwhile, or by a concurrent pass, is left alone.
    """
    resumed = 0
    due = LeadContactPlan.objects.filter(status=PlanStatus.PAUSED, resume_at__lte=now)
    for plan in due.order_by("resume_at")[:1000]:
        try:
            plan_resume(plan=plan, now=now)
        except PlanStateError:
            continue
        resumed += 1
    return resumed


@transaction.atomic
def plan_abort(
    *,
    plan: LeadContactPlan,
    reason: str = ExitReason.MANUAL,
    now: datetime.datetime | None = None,
) -> LeadContactPlan:
    """End the plan for good, for one of ``ABORT_REASONS`` (by hand: "ended manually", or a
    reply or meeting the rep heard of outside Cadence)."""
    if reason not in ABORT_REASONS:
        allowed = ", ".join(f'"{each.value}"' for each in ABORT_REASONS)
        raise CadenceError(f"Abort with one of the reasons {allowed}.", field="reason")
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, ACTIVE_STATUSES, "abort")
    progress.end(plan, status=PlanStatus.ABORTED, reason=reason, at=now)
    progress.save_progress(plan)
    return plan


@transaction.atomic
def plan_complete(
    *, plan: LeadContactPlan, now: datetime.datetime | None = None
) -> LeadContactPlan:
    """Mark the plan Completed by hand, its remaining steps undone."""
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, ACTIVE_STATUSES, "complete")
    progress.end(plan, status=PlanStatus.COMPLETED, reason=ExitReason.FINISHED, at=now)
    progress.save_progress(plan)
    return plan


@transaction.atomic
def plan_skip(
    *, plan: LeadContactPlan, actor: User, now: datetime.datetime | None = None
) -> LeadContactPlan:
    """Skip the current step: the next one becomes current, due from now."""
    now = now or timezone.now()
    plan = _locked(plan)
    _refuse_unless(plan, RUNNING_STATUSES, "skip a step of")
    if plan.current_step is None:
        raise PlanStateError("This plan has no step to skip.")
    progress.finish_step(plan, plan.current_step, result=StepResult.SKIPPED, at=now, user=actor)
    progress.save_progress(plan)
    return plan


_STATUS_ACTIONS = {
    PlanStatus.IN_PROGRESS: {PlanStatus.NOT_STARTED: plan_start, PlanStatus.PAUSED: plan_resume},
    PlanStatus.NOT_STARTED: {PlanStatus.PAUSED: plan_resume},
    PlanStatus.PAUSED: {None: plan_pause},
    PlanStatus.ABORTED: {None: plan_abort},
    PlanStatus.COMPLETED: {None: plan_complete},
}


@transaction.atomic
def plan_insert_step(
    *,
    plan: LeadContactPlan,
    activity_type: str,
    subject: str,
    note: str,
    due_at: datetime.datetime,
) -> StrategyStep:
    """Give a custom plan one more step, as its next step, due about ``due_at`` (whole days
    after the previous step, by the plan's calendar). A plan that follows a shared strategy
    cannot: the step would reach every plan on it."""
    if plan is None:
        raise PlanStateError("There is no plan to add a step to.", field="plan_id")
    plan = _locked(plan)
    if plan.strategy is None or plan.strategy.is_template:
        name = plan.strategy.name if plan.strategy else "no strategy"
        raise PlanStateError(
            f"This plan follows the shared strategy {name!r}; only a custom plan takes a step "
            "of its own. Accept it as a task instead.",
            field="plan_id",
        )
    _refuse_unless(plan, ACTIVE_STATUSES, "add a step to")
    current = plan.current_step
    since = plan.last_step_completed_at or plan.started_at or plan.plan_start_date
    step = strategy_services.step_create(
        strategy=plan.strategy,
        step_number=current.step_number if current is not None else None,
        activity_type=activity_type,
        subject_template=subject,
        description_template=note,
        delay_days=max(0, (due_at - since).days),
    )
    plan = _locked(plan)
    plan.current_step = step
    progress.set_due(plan, progress.due_date_for(plan, step))
    progress.save_progress(plan)
    return step


#: What a plan is about and when it started: fixed once it exists (a new lead or strategy is a
#: new plan, so the history of each stays its own). The input field each is given as.
FIXED_PLAN_FIELDS = {
    "company": "company_id",
    "contact": "contact_id",
    "strategy": "strategy_id",
    "plan_start_date": "plan_start_date",
}


@transaction.atomic
def plan_update(*, plan: LeadContactPlan, data: dict) -> LeadContactPlan:
    """Reassign a plan, or move its status: a new status runs the matching action (start,
    pause, resume, abort, complete) with its rules. Its lead, strategy and start date cannot
    change (``FIXED_PLAN_FIELDS``); given unchanged, they are accepted."""
    plan = _locked(plan)
    for name, field in FIXED_PLAN_FIELDS.items():
        if name in data and data[name] != getattr(plan, name):
            raise CadenceError(
                "This cannot change once the plan exists; create a new plan instead.",
                field=field,
            )
    if "user" in data and data["user"] != plan.user:
        plan, _ = model_update(instance=plan, fields=["user"], data={"user": data["user"]})
        # Reports count a plan's results for its user: marking them changed lets the
        # analytics rollups recount their days for the new owner.
        plan.results.update(updated_at=timezone.now())
    status = data.get("status", plan.status)
    if status == plan.status:
        return plan
    actions = _STATUS_ACTIONS.get(status, {})
    action = actions.get(plan.status) or actions.get(None)
    if action is None or plan.status in FINISHED_STATUSES:
        _refuse_unless(plan, [], f"move to {status}")
    return action(plan=plan)


@transaction.atomic
def plan_delete(*, plan: LeadContactPlan) -> None:
    plan.delete()


# -- Logging activities ------------------------------------------------------------------------


@transaction.atomic
def activity_log(*, actor: User, skip_to: bool = False, **fields) -> Activity:
    """Record an activity and let it move plans.

    With a plan and its current step, the step is done and the plan advances. A later step is
    accepted only with ``skip_to``: the steps before it are recorded as skipped. Then the exit
    rules apply (``cadence.plans.exits``: exit on reply, on a booked meeting, on a bounce, and an
    unsubscribe ends every plan of the contact).
    """
    plan, step = fields.get("plan"), fields.get("step")
    if plan is not None:
        plan = fields["plan"] = _locked(plan)
        if step is not None:
            _check_step_can_be_done(plan, step, skip_to=skip_to)
    activity = activity_services.activity_create(actor=actor, **fields)
    if plan is not None and step is not None:
        if step.pk != plan.current_step_id:
            progress.skip_through(plan, step, at=activity.occurred_at, user=activity.user)
        done = {"result": StepResult.COMPLETED, "at": activity.occurred_at, "user": activity.user}
        if exits.ends_plan(plan, activity.outcome):
            # The step is done, but the plan ends by its exit rule below rather than moving on
            # (a bounce on the last email is a bounce, not a plan that finished).
            progress.record_step(plan, step, activity=activity, **done)
        else:
            progress.finish_step(plan, step, activity=activity, **done)
        progress.save_progress(plan)
    exits.exit_rules_apply(activity=activity)
    publish(ActivitiesLogged(activities=[activity]))
    return activity


@dataclass(frozen=True)
class StepDone:
    """One plan's current step done by an activity not yet saved (see ``steps_log_done``)."""

    plan_id: uuid.UUID
    step: StrategyStep
    activity: Activity


@transaction.atomic
def steps_log_done(*, done: Sequence[StepDone]) -> list[Activity]:
    """Save many activities that each do their plan's current step, and advance the plans, in
    a few statements: the bulk form of ``activity_log`` for the outbox, which records a batch of
    sent emails at once. The rules are ``activity_log``'s (the step is recorded, the plan moves
    to its next step not yet done, or completes); an activity whose plan is no longer waiting on
    its step (paused, ended, moved on meanwhile) is saved without the step. Outcomes that end
    plans are not for this path: it is only given outcome Sent."""
    if not done:
        return []
    plans = {
        plan.pk: plan
        for plan in LeadContactPlan.objects.select_for_update(of=("self",))
        .select_related("strategy", "user")
        .filter(pk__in={d.plan_id for d in done})
    }
    done_ids: dict = defaultdict(set)
    for plan_id, step_id in PlanStepResult.objects.filter(
        plan_id__in=plans, step__isnull=False
    ).values_list("plan_id", "step_id"):
        done_ids[plan_id].add(step_id)
    steps: dict = defaultdict(list)
    strategy_ids = {plan.strategy_id for plan in plans.values() if plan.strategy_id}
    for step in StrategyStep.objects.filter(strategy_id__in=strategy_ids).order_by("step_number"):
        steps[step.strategy_id].append(step)
    now = timezone.now()
    results, advanced = [], []
    for item in done:
        activity, step = item.activity, item.step
        plan = plans.get(item.plan_id)
        waiting = (
            plan is not None
            and plan.status in RUNNING_STATUSES
            and plan.current_step_id == step.pk
            and step.pk not in done_ids[plan.pk]
        )
        if not waiting:
            activity.step = None
            continue
        activity.plan = plan
        at = activity.occurred_at
        results.append(
            PlanStepResult(
                **progress.step_result_fields(
                    plan,
                    step,
                    result=StepResult.COMPLETED,
                    at=at,
                    user=activity.user,
                    activity=activity,
                )
            )
        )
        done_ids[plan.pk].add(step.pk)
        following = (
            s
            for s in steps[plan.strategy_id]
            if s.step_number > step.step_number and s.pk not in done_ids[plan.pk]
        )
        progress.move_to(plan, next(following, None), at=at)
        plan.updated_at = now
        advanced.append(plan)
    activities = activity_services.activities_create_bulk(
        activities=[item.activity for item in done]
    )
    PlanStepResult.objects.bulk_create(results)
    rows_update(model=LeadContactPlan, objs=advanced, fields=progress.PLAN_FIELDS)
    progress.retire_stale_reminders([plan.pk for plan in advanced])
    publish(ActivitiesLogged(activities=activities))
    return activities


def _check_step_can_be_done(plan: LeadContactPlan, step: StrategyStep, *, skip_to: bool) -> None:
    if step.strategy_id != plan.strategy_id:
        raise CadenceError("This step is not part of the plan's strategy.", field="step_id")
    if plan.status == PlanStatus.PAUSED:
        raise PlanStateError(
            "This plan is paused; resume it before logging its steps.", field="plan_id"
        )
    if plan.status in FINISHED_STATUSES:
        raise PlanStateError(f"This plan is {plan.status}; its steps are closed.", field="plan_id")
    current = plan.current_step
    if current is not None and step.pk == current.pk:
        return
    if step.pk in progress.done_step_ids(plan):
        raise PlanStateError(
            f"Step {step.step_number} of this plan is done already.", field="step_id"
        )
    if current is None or step.step_number < current.step_number:
        raise PlanStateError(
            f"Step {step.step_number} is not this plan's current step.", field="step_id"
        )
    if not skip_to:
        raise PlanStateError(
            f"Step {step.step_number} is not this plan's current step (step "
            f"{current.step_number}); to do it now and skip the steps between, send "
            '"skip_to": true.',
            field="step_id",
        )
