"""Creating and changing lead contact plans.

This is the foundation's part of the plan engine: creating a plan on a strategy (with its first
step and due date), reassigning it, and moving its status by the specification's fixed states.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError
from cadence.core.services import model_update
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.plans.choices import FINISHED_STATUSES, ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy


def _first_step_due(strategy: ContactStrategy | None, start: datetime.datetime):
    step = strategy.steps.order_by("step_number").first() if strategy else None
    if step is None:
        return None, None
    return step, start + datetime.timedelta(days=step.delay_days)


def _check_lead(contact: Contact | None, company: Company | None) -> Company:
    if contact is None and company is None:
        raise CadenceError("Give the contact or the company this plan targets.", field="company_id")
    if contact is not None:
        if company is not None and company.pk != contact.company_id:
            raise CadenceError("This contact works at another company.", field="contact_id")
        if contact.opted_out:
            raise CadenceError("This contact has opted out of contact.", field="contact_id")
        if contact.email_status == EmailStatus.BOUNCED:
            raise CadenceError("This contact's email address bounced.", field="contact_id")
        return contact.company
    return company


@transaction.atomic
def plan_create(
    *,
    user: User,
    company: Company | None = None,
    contact: Contact | None = None,
    strategy: ContactStrategy | None = None,
    plan_start_date: datetime.datetime | None = None,
) -> LeadContactPlan:
    """Put a lead on a strategy: the plan starts at its first step, due ``delay_days`` after
    ``plan_start_date``."""
    company = _check_lead(contact, company)
    if strategy is not None and strategy.is_archived:
        raise CadenceError("This strategy is archived and takes no new plans.", field="strategy_id")
    start = plan_start_date or timezone.now()
    step, due = _first_step_due(strategy, start)
    plan = LeadContactPlan(
        company=company,
        contact=contact,
        strategy=strategy,
        user=user,
        plan_start_date=start,
        current_step=step,
        next_step_due_date=due,
    )
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:
        raise CadenceError(
            "This contact is already active in this strategy.", field="contact_id"
        ) from exc
    return plan


@transaction.atomic
def plan_update(*, plan: LeadContactPlan, data: dict) -> LeadContactPlan:
    """Reassign a plan or move its status. Completed and Aborted are final; pausing records
    when, and resuming shifts the due date by the time spent paused."""
    plan = LeadContactPlan.objects.select_for_update().get(pk=plan.pk)
    now = timezone.now()
    changes = {key: value for key, value in data.items() if key in ("user", "status")}
    new_status = changes.get("status", plan.status)
    if new_status != plan.status:
        if plan.status in FINISHED_STATUSES:
            raise CadenceError(
                f"This plan is {plan.status}; that is final.", field="status", code="final"
            )
        changes.update(_status_side_effects(plan, new_status, now))
    fields = ["user", "status", "paused_at", "ended_at", "exit_reason", "next_step_due_date"]
    plan, _ = model_update(instance=plan, fields=fields, data=changes)
    return plan


def _status_side_effects(plan: LeadContactPlan, status: str, now) -> dict:
    if status == PlanStatus.PAUSED:
        return {"paused_at": now}
    if status in FINISHED_STATUSES:
        reason = ExitReason.FINISHED if status == PlanStatus.COMPLETED else ExitReason.MANUAL
        return {"ended_at": now, "exit_reason": reason, "paused_at": None}
    changes = {"paused_at": None}
    if plan.status == PlanStatus.PAUSED and plan.paused_at and plan.next_step_due_date:
        changes["next_step_due_date"] = plan.next_step_due_date + (now - plan.paused_at)
    return changes


@transaction.atomic
def plan_delete(*, plan: LeadContactPlan) -> None:
    plan.delete()
