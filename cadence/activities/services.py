"""Writing activities and reminders. The ``reminders`` table is written only here: plans retire
stale reminders and have the scheduler's statement insert due ones (``reminders_insert_sql``),
notifications mark them delivered, suggestions make and close tasks, each through a service below.
"""

import datetime
import json
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cadence import events
from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work
from cadence.activities.choices import ReminderStatus
from cadence.activities.models import Activity, Reminder, default_reminder_channels
from cadence.activities.rules import outcome_check
from cadence.activities.selectors import UNDELIVERED_REMINDER_STATUSES
from cadence.core.errors import CadenceError, PermissionDeniedError
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
    """Record an activity. The actor is its user unless a manager logs it for a teammate. Its
    outcome must be one its type may have (``activities.rules.outcome_check``)."""
    fields.setdefault("user", actor)
    outcome_check(activity_type=fields.get("activity_type", ""), outcome=fields.get("outcome", ""))
    activity = Activity(**_resolve_links(fields))
    activity.full_clean()
    activity.save()
    return activity


def activities_create_bulk(*, activities: Sequence[Activity]) -> list[Activity]:
    """Save many activities built by another service (the outbox's sent emails) in one
    statement; each outcome must suit its type, as in ``activity_create``."""
    for activity in activities:
        outcome_check(activity_type=activity.activity_type, outcome=activity.outcome)
    return Activity.objects.bulk_create(activities)


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
    outcome_check(activity_type=merged["activity_type"], outcome=merged["outcome"])
    merged = _resolve_links(merged)
    activity, _ = model_update(instance=activity, fields=ACTIVITY_FIELDS, data=merged)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity) -> None:
    activity.delete()


def reminder_check(fields: dict) -> None:
    """A reminder about a plan goes to the plan's user."""
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
    reminder_check(fields)
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
    reminder_check({name: data.get(name, getattr(reminder, name)) for name in ("user", "plan")})
    try:
        with transaction.atomic():
            reminder, _ = model_update(instance=reminder, fields=REMINDER_FIELDS, data=data)
    except IntegrityError as exc:
        raise _duplicate_reminder() from exc
    return reminder


@transaction.atomic
def reminder_delete(*, reminder: Reminder) -> None:
    reminder.delete()


# -- Acting on a reminder -------------------------------------------------------------------------


def _check_actor(reminder: Reminder, actor: User) -> None:
    if not can_manage_user_work(actor, reminder.user):
        raise PermissionDeniedError("You may not change this reminder.")


@transaction.atomic
def reminder_dismiss(*, reminder: Reminder, actor: User) -> Reminder:
    """Stop a reminder: it is not delivered again, and what it announced is dealt with (the
    notifications app reads its notifications: ``ReminderDismissed``). Its user, their manager
    or an admin may."""
    _check_actor(reminder, actor)
    reminder.status = ReminderStatus.DISMISSED
    reminder.save(update_fields=["status", "updated_at"])
    events.publish(events.ReminderDismissed(reminder=reminder))
    return reminder


@transaction.atomic
def reminder_snooze(*, reminder: Reminder, actor: User, until: datetime.datetime) -> Reminder:
    """Deliver the reminder again at ``until``, which must lie in the future. Its user, their
    manager or an admin may."""
    _check_actor(reminder, actor)
    if timezone.is_naive(until):
        raise CadenceError("Give the time with its UTC offset.", field="until")
    if until <= timezone.now():
        raise CadenceError("Snooze until a time in the future.", field="until")
    reminder.status = ReminderStatus.SNOOZED
    reminder.remind_at = until
    reminder.save(update_fields=["status", "remind_at", "updated_at"])
    return reminder


# -- Reminders that are tasks (an accepted suggestion) --------------------------------------------


@transaction.atomic
def reminder_create_task(
    *, user_id, plan_id, activity_id, due_at: datetime.datetime, message: str
) -> Reminder:
    """A task for a user: a reminder delivered when it is due (``due_at``), about a plan and
    the activity that prompted it where there are any."""
    return Reminder.objects.create(
        user_id=user_id,
        plan_id=plan_id,
        activity_id=activity_id,
        remind_at=due_at,
        due_at=due_at,
        message=message,
    )


@transaction.atomic
def reminder_close_task(*, reminder_id) -> None:
    """The work a task asked for is done (logged, or marked done by hand): its reminder is
    dismissed, and not delivered if it has not been yet."""
    Reminder.objects.filter(pk=reminder_id).update(
        status=ReminderStatus.DISMISSED, updated_at=timezone.now()
    )


# -- Reminders of plans ---------------------------------------------------------------------------


def reminders_retire_stale(*, plan_ids: Iterable, running_statuses: Iterable[str]) -> int:
    """When a reminder is retired: a plan's undelivered reminder is dismissed once the plan no
    longer awaits its step at its due date (the step was done or skipped, the plan paused or
    ended, or the step is due at another time now): telling a rep about it would be noise, and
    the scheduler makes the reminder of the new due date. Returns how many were retired.

    A plan awaits its current step, at its ``next_step_due_date``, while its status is one of
    ``running_statuses`` (which the plans app, above this one, names).
    """
    plan_ids = list(plan_ids)
    if not plan_ids:
        return 0
    with transaction.atomic():
        return _retire_stale(plan_ids, list(running_statuses))


def _retire_stale(plan_ids: list, running_statuses: list[str]) -> int:
    waiting = Q(
        plan__status__in=running_statuses,
        plan__current_step=F("step"),
        plan__next_step_due_date=F("due_at"),
    )
    retired = (
        Reminder.objects.filter(plan_id__in=plan_ids, status__in=UNDELIVERED_REMINDER_STATUSES)
        .exclude(waiting)
        .update(status=ReminderStatus.DISMISSED, updated_at=timezone.now())
    )
    # A plan that awaits a step at the same due date again (resumed at the instant it paused,
    # a template edit undone) owes that reminder again; the scheduler cannot make a second one
    # for the same step and due date, so the one retired before, never delivered, comes back.
    Reminder.objects.filter(
        waiting,
        plan_id__in=plan_ids,
        plan__reminder_due_at__isnull=False,
        status=ReminderStatus.DISMISSED,
        sent_at__isnull=True,
    ).update(status=ReminderStatus.PENDING, updated_at=timezone.now())
    return retired


def reminders_insert_sql(*, source: str, vendor: str, where: str | None = None) -> str:
    """The statement that inserts the reminders owed by the rows of ``source``, for the
    scheduler's set-based pass, which never loads the plans.

    ``source`` is a table or alias with the columns ``plan_id``, ``user_id``,
    ``current_step_id``, ``next_step_due_date`` and ``reminder_due_at`` (a plan's, as
    ``plans.progress.set_due`` sets them); ``where``, if given, a condition on its rows. Each
    row becomes the reminder of its current step, due at ``next_step_due_date`` and delivered at
    ``reminder_due_at``, with a new reminder's defaults; one that exists for the same plan, step
    and due date is left alone. The statement takes one parameter, ``%(now)s``, the creation
    time. ``vendor`` is the database's (``connection.vendor``): ``postgresql`` or ``sqlite``.
    """
    columns = (
        "reminder_id, user_id, plan_id, step_id, due_at, remind_at, "
        "message, status, channels, created_at, updated_at"
    )
    message = _sql_text(Reminder._meta.get_field("message").get_default())
    status = _sql_text(ReminderStatus.PENDING.value)
    channels = _sql_text(json.dumps(default_reminder_channels()))
    if vendor == "postgresql":
        insert, new_id, channels, on_conflict = (
            "INSERT INTO",
            "gen_random_uuid()",
            f"{channels}::jsonb",
            "ON CONFLICT DO NOTHING",
        )
    elif vendor == "sqlite":
        # SQLite stores a UUID as 32 hex digits, which is what Django reads back.
        insert, new_id, on_conflict = "INSERT OR IGNORE INTO", "lower(hex(randomblob(16)))", ""
    else:
        raise ValueError(f"No reminder insert for the {vendor} database.")
    return f"""
    {insert} reminders ({columns})
    SELECT {new_id}, user_id, plan_id, current_step_id, next_step_due_date,
           reminder_due_at, {message}, {status}, {channels}, %(now)s, %(now)s
    FROM {source}
    {f"WHERE {where}" if where else ""}
    {on_conflict}
    """


def _sql_text(value: str) -> str:
    """``value`` as a SQL string literal in a statement run with parameters."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


# -- Delivering reminders -------------------------------------------------------------------------


@transaction.atomic
def reminders_mark_delivered(
    *, reminders: Sequence[Reminder], now: datetime.datetime
) -> list[Reminder]:
    """Mark the reminders sent at ``now``; return those marked. A reminder is marked only if it
    is still undelivered and still due at the time it was read (``remind_at``): one snoozed,
    dismissed or delivered by another pass since then is left alone, which is what lets two
    delivery passes run at once and deliver each reminder once."""
    stamp = timezone.now()
    return [
        reminder
        for reminder in reminders
        if Reminder.objects.filter(
            pk=reminder.pk,
            status__in=UNDELIVERED_REMINDER_STATUSES,
            remind_at=reminder.remind_at,
        ).update(status=ReminderStatus.SENT, sent_at=now, updated_at=stamp)
    ]
