from django.db import IntegrityError, transaction

from cadence.accounts.models import User
from cadence.activities.models import Activity, Reminder
from cadence.core.errors import CadenceError
from cadence.core.services import model_update

ACTIVITY_FIELDS = (
    "company",
    "contact",
    "user",
    "activity_type",
    "direction",
    "subject",
    "description",
    "outcome",
    "occurred_at",
    "plan",
    "step",
    "message_id",
)
REMINDER_FIELDS = (
    "user",
    "plan",
    "step",
    "activity",
    "remind_at",
    "due_at",
    "message",
    "status",
    "channels",
    "sent_at",
)


def _resolve_links(fields: dict) -> dict:
    """Fill the company from the contact or plan, and check that every link agrees."""
    contact, plan, step = fields.get("contact"), fields.get("plan"), fields.get("step")
    if plan is not None:
        if contact is None and plan.contact_id is not None:
            fields["contact"] = contact = plan.contact
        if fields.get("company") is None:
            fields["company"] = plan.company
        if contact is not None and plan.contact_id not in (None, contact.pk):
            raise CadenceError("This plan is for another contact.", field="plan_id")
        if plan.company_id != fields["company"].pk:
            raise CadenceError("This plan is for another company.", field="plan_id")
    if contact is not None:
        if fields.get("company") is None:
            fields["company"] = contact.company
        elif fields["company"].pk != contact.company_id:
            raise CadenceError("This contact works at another company.", field="contact_id")
    if fields.get("company") is None:
        raise CadenceError("Give a company, a contact or a plan.", field="company_id")
    if step is not None:
        if plan is None:
            raise CadenceError("A step can only be given with its plan.", field="step_id")
        if step.strategy_id is None or step.strategy_id != plan.strategy_id:
            raise CadenceError("This step is not part of the plan's strategy.", field="step_id")
    return fields


@transaction.atomic
def activity_create(*, actor: User, **fields) -> Activity:
    """Record an activity. The actor is its user unless a manager logs it for a teammate."""
    fields.setdefault("user", actor)
    activity = Activity(**_resolve_links(fields))
    activity.full_clean()
    activity.save()
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, data: dict) -> Activity:
    """Correct an activity. One that completed a plan's step keeps its plan and step: the plan
    has moved on from it."""
    moved = [n for n in ("plan", "step") if n in data and data[n] != getattr(activity, n)]
    if moved and activity.step_results.exists():
        raise CadenceError(
            "This activity completed a step of its plan; its plan and step cannot change.",
            field=f"{moved[0]}_id",
        )
    merged = {name: data.get(name, getattr(activity, name)) for name in ACTIVITY_FIELDS}
    merged = _resolve_links(merged)
    activity, _ = model_update(instance=activity, fields=ACTIVITY_FIELDS, data=merged)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    activity.delete()


def _check_reminder(fields: dict) -> None:
    plan = fields.get("plan")
    if plan is not None and plan.user_id != fields["user"].pk:
        raise CadenceError("A plan's reminders go to the plan's user.", field="user_id")


def _duplicate_reminder() -> CadenceError:
    return CadenceError(
        "A reminder for this plan, step and due date exists already.", field="due_at"
    )


@transaction.atomic
def reminder_create(*, actor: User, **fields) -> Reminder:
    fields.setdefault("user", actor)
    _check_reminder(fields)
    reminder = Reminder(**fields)
    reminder.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            reminder.save()
    except IntegrityError as exc:
        raise _duplicate_reminder() from exc
    return reminder


@transaction.atomic
def reminder_update(*, reminder: Reminder, data: dict) -> Reminder:
    _check_reminder({name: data.get(name, getattr(reminder, name)) for name in ("user", "plan")})
    try:
        with transaction.atomic():
            reminder, _ = model_update(instance=reminder, fields=REMINDER_FIELDS, data=data)
    except IntegrityError as exc:
        raise _duplicate_reminder() from exc
    return reminder


@transaction.atomic
def reminder_delete(*, reminder: Reminder) -> None:
    reminder.delete()
