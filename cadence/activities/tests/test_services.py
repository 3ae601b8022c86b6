"""The reminder services: who may dismiss or snooze a reminder, tasks, retiring the reminders of
steps a plan no longer awaits, marking reminders delivered, and the scheduler's insert."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from cadence.activities import services
from cadence.activities.models import Reminder
from cadence.activities.tests.factories import ActivityFactory, ReminderFactory
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.tests.factories import ContactFactory
from cadence.plans.choices import RUNNING_STATUSES, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def plan(rep):
    """A running plan of the rep, at step 1 of two, with its due date and reminder time set."""
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1)
    StrategyStepFactory(strategy=strategy, step_number=2)
    return LeadContactPlanFactory(
        user=rep, contact=ContactFactory(owner=rep), strategy=strategy, status="In Progress"
    )


def step_reminder(plan, **fields):
    """The reminder of the plan's current step at its due date, as the scheduler makes it."""
    fields = {"due_at": plan.next_step_due_date, "remind_at": plan.reminder_due_at, **fields}
    return ReminderFactory(user=plan.user, plan=plan, step=plan.current_step, **fields)


# -- Dismissing and snoozing ----------------------------------------------------------------------


def test_snooze_must_be_in_the_future(rep):
    reminder = ReminderFactory(user=rep)
    with pytest.raises(CadenceError, match="future"):
        services.reminder_snooze(reminder=reminder, actor=rep, until=timezone.now() - HOUR)
    reminder.refresh_from_db()
    assert reminder.status == "pending"


def test_snooze_needs_a_time_with_its_offset(rep):
    reminder = ReminderFactory(user=rep)
    naive = (timezone.now() + HOUR).replace(tzinfo=None)
    with pytest.raises(CadenceError, match="UTC offset"):
        services.reminder_snooze(reminder=reminder, actor=rep, until=naive)


def test_snooze_delivers_the_reminder_again_later(rep):
    reminder = ReminderFactory(user=rep, status="sent")
    until = timezone.now() + 2 * HOUR
    services.reminder_snooze(reminder=reminder, actor=rep, until=until)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.remind_at) == ("snoozed", until)


def test_only_who_may_manage_the_reminder_may_snooze_or_dismiss_it(rep, teammate, manager):
    """A teammate may not; the rep's manager may."""
    reminder = ReminderFactory(user=rep)
    with pytest.raises(PermissionDeniedError):
        services.reminder_dismiss(reminder=reminder, actor=teammate)
    with pytest.raises(PermissionDeniedError):
        services.reminder_snooze(reminder=reminder, actor=teammate, until=timezone.now() + HOUR)
    assert services.reminder_dismiss(reminder=reminder, actor=manager).status == "dismissed"
    reminder.refresh_from_db()
    assert reminder.status == "dismissed"


# -- Tasks ----------------------------------------------------------------------------------------


def test_a_task_is_a_reminder_delivered_when_it_is_due(rep, plan):
    activity = ActivityFactory(contact=plan.contact, user=rep)
    due = timezone.now() + HOUR

    task = services.reminder_create_task(
        user_id=rep.pk, plan_id=plan.pk, activity_id=activity.pk, due_at=due, message="Call Ann."
    )

    task.refresh_from_db()
    assert (task.user, task.plan, task.activity) == (rep, plan, activity)
    assert (task.remind_at, task.due_at, task.message) == (due, due, "Call Ann.")
    assert (task.status, task.channels) == ("pending", ["in_app"])


def test_closing_a_task_dismisses_its_reminder(rep):
    task = services.reminder_create_task(
        user_id=rep.pk, plan_id=None, activity_id=None, due_at=timezone.now(), message="Call."
    )
    services.reminder_close_task(reminder_id=task.pk)
    task.refresh_from_db()
    assert task.status == "dismissed"


# -- Reminders of plans ---------------------------------------------------------------------------


def retire(plan):
    return services.reminders_retire_stale(plan_ids=[plan.pk], running_statuses=RUNNING_STATUSES)


def test_the_reminder_of_the_awaited_step_is_kept(plan):
    reminder = step_reminder(plan)
    assert retire(plan) == 0
    reminder.refresh_from_db()
    assert reminder.status == "pending"


@pytest.mark.parametrize(
    "change",
    [
        {"status": PlanStatus.PAUSED, "reminder_due_at": None},
        {"status": PlanStatus.ABORTED, "next_step_due_date": None, "reminder_due_at": None},
        {"moved_on": True},
        {"due_later": True},
    ],
    ids=["paused", "ended", "moved on", "due later"],
)
def test_the_undelivered_reminder_of_a_step_no_longer_awaited_is_retired(plan, change):
    """Paused, ended, at another step, or the step due at another time: dismissed."""
    reminder = step_reminder(plan)
    delivered = step_reminder(plan, status="sent", due_at=plan.next_step_due_date - HOUR)
    if change.pop("moved_on", False):
        change["current_step"] = plan.strategy.steps.get(step_number=2)
    if change.pop("due_later", False):
        change["next_step_due_date"] = plan.next_step_due_date + HOUR
    LeadContactPlan.objects.filter(pk=plan.pk).update(**change)

    assert retire(plan) == 1

    reminder.refresh_from_db()
    delivered.refresh_from_db()
    assert (reminder.status, delivered.status) == ("dismissed", "sent")


def test_a_retired_reminder_comes_back_when_its_step_is_awaited_again(plan):
    """Resumed at the instant it paused: the same step and due date are owed again."""
    reminder = step_reminder(plan)
    LeadContactPlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.PAUSED, reminder_due_at=None
    )
    assert retire(plan) == 1
    LeadContactPlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.IN_PROGRESS, reminder_due_at=plan.reminder_due_at
    )

    retire(plan)

    reminder.refresh_from_db()
    assert reminder.status == "pending"


# -- Delivering -----------------------------------------------------------------------------------


def test_only_reminders_unchanged_since_they_were_read_are_marked_delivered(rep):
    """One snoozed, dismissed or delivered meanwhile is left as it is."""
    now = timezone.now()
    read = [ReminderFactory(user=rep, remind_at=now - HOUR) for _ in range(4)]
    Reminder.objects.filter(pk=read[1].pk).update(status="snoozed", remind_at=now + HOUR)
    Reminder.objects.filter(pk=read[2].pk).update(status="dismissed")
    Reminder.objects.filter(pk=read[3].pk).update(status="sent", sent_at=now - HOUR)

    marked = services.reminders_mark_delivered(reminders=read, now=now)

    assert marked == [read[0]]
    statuses = dict(Reminder.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in read] == ["sent", "snoozed", "dismissed", "sent"]
    assert Reminder.objects.get(pk=read[0].pk).sent_at == now
    assert Reminder.objects.get(pk=read[3].pk).sent_at == now - HOUR


# -- The scheduler's insert -----------------------------------------------------------------------


def test_the_insert_makes_the_reminder_the_orm_would_make(rep, plan):
    """The set-based statement and ``Reminder()`` give a new reminder the same defaults."""
    now = timezone.now()
    params = {"now": now}
    if connection.vendor == "sqlite":
        params["now"] = connection.ops.adapt_datetimefield_value(now)
    sql = services.reminders_insert_sql(
        source="lead_contact_plans", vendor=connection.vendor, where="plan_id = %(plan_id)s"
    )
    params["plan_id"] = plan.pk if connection.vendor == "postgresql" else plan.pk.hex

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(sql, params)

    made = Reminder.objects.get()
    orm = Reminder()
    assert (made.user, made.plan, made.step) == (rep, plan, plan.current_step)
    assert (made.due_at, made.remind_at) == (plan.next_step_due_date, plan.reminder_due_at)
    assert (made.message, made.status, made.channels) == (orm.message, orm.status, orm.channels)
    assert (made.activity, made.sent_at) == (None, None)
    assert made.created_at == made.updated_at == now


def test_the_insert_is_written_for_postgresql_and_sqlite_only():
    for vendor in ("postgresql", "sqlite"):
        assert "INSERT" in services.reminders_insert_sql(source="batch", vendor=vendor)
    with pytest.raises(ValueError, match="mysql"):
        services.reminders_insert_sql(source="batch", vendor="mysql")
