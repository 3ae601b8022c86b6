"""The notifications selectors on the database: a user's own notifications, the reminders that
came due, the plans a calendar feed shows, and finding a feed by its token."""

import datetime

import pytest

from cadence.activities.tests.factories import ReminderFactory
from cadence.notifications import services
from cadence.notifications.selectors import (
    calendar_feed_by_token,
    calendar_plans,
    notification_list,
    reminders_due,
)
from cadence.notifications.tests.factories import NotificationFactory
from cadence.notifications.tests.helpers import NOW, due_plan, plan_reminder

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)


def pks(rows):
    return [row.pk for row in rows]


def test_notifications_are_the_users_own_newest_first(rep, teammate, manager):
    oldest = NotificationFactory(user=rep, created_at=NOW - 2 * HOUR)
    read = NotificationFactory(user=rep, created_at=NOW - HOUR, read_at=NOW)
    newest = NotificationFactory(user=rep, created_at=NOW)
    NotificationFactory(user=teammate, created_at=NOW + HOUR)
    own = NotificationFactory(user=manager, created_at=NOW - DAY)

    assert pks(notification_list(user=rep)) == [newest.pk, read.pk, oldest.pk]
    assert pks(notification_list(user=rep, unread=True)) == [newest.pk, oldest.pk]
    assert pks(notification_list(user=rep, unread=False)) == [read.pk]
    # Notifications are personal: the manager sees none of their team's.
    assert pks(notification_list(user=manager)) == [own.pk]
    assert pks(notification_list(user=manager, unread=False)) == []


def test_reminders_due_are_undelivered_and_have_come_due(rep, outsider):
    early = ReminderFactory(user=rep, remind_at=NOW - DAY)
    snoozed = ReminderFactory(user=outsider, remind_at=NOW - HOUR, status="snoozed")
    on_time = ReminderFactory(user=rep, remind_at=NOW)
    ReminderFactory(user=rep, remind_at=NOW + SECOND)
    ReminderFactory(user=rep, remind_at=NOW - DAY, status="sent")
    ReminderFactory(user=outsider, remind_at=NOW - DAY, status="dismissed")

    assert pks(reminders_due(now=NOW)) == [early.pk, snoozed.pk, on_time.pk]
    assert pks(reminders_due(now=NOW - DAY - SECOND)) == []


def test_reminders_due_at_the_same_time_are_ordered_by_id(rep, teammate):
    same = [ReminderFactory(user=user, remind_at=NOW - HOUR) for user in (rep, teammate, rep)]
    assert pks(reminders_due(now=NOW)) == sorted(pks(same))


def test_a_plans_reminder_waits_while_the_plan_is_not_running(rep):
    due = {}
    for offset, status in enumerate(("In Progress", "Not Started", "Paused", "Completed")):
        plan = due_plan(rep, due=NOW - (offset + 1) * HOUR, status=status)
        due[status] = plan_reminder(plan, remind_at=NOW - (offset + 1) * HOUR)
    due["Aborted"] = plan_reminder(due_plan(rep, status="Aborted"), remind_at=NOW - DAY)

    assert pks(reminders_due(now=NOW)) == [due["Not Started"].pk, due["In Progress"].pk]


def test_calendar_plans_are_the_users_running_plans_in_the_window(rep, teammate, manager):
    inside = {
        "first": due_plan(rep, due=NOW - 30 * DAY),
        "new": due_plan(rep, due=NOW + DAY, status="Not Started"),
        "now": due_plan(rep, due=NOW),
        "last": due_plan(rep, due=NOW + 90 * DAY),
    }
    due_plan(rep, due=NOW - 30 * DAY - SECOND, company_name="Too old")
    too_far = due_plan(rep, due=NOW + 90 * DAY + SECOND, company_name="Too far")
    for status in ("Paused", "Completed", "Aborted"):
        due_plan(rep, due=NOW + DAY, status=status)
    due_plan(teammate, due=NOW + DAY)

    plans = calendar_plans(user=rep, now=NOW)

    assert pks(plans) == [inside[key].pk for key in ("first", "now", "new", "last")]
    assert calendar_plans(user=manager, now=NOW).count() == 0
    later = calendar_plans(user=rep, now=NOW + 60 * DAY)
    assert pks(later) == [inside["last"].pk, too_far.pk]


def test_calendar_plans_due_together_are_ordered_by_id(rep):
    plans = [due_plan(rep, due=NOW + DAY) for _ in range(3)]
    assert pks(calendar_plans(user=rep, now=NOW)) == sorted(pks(plans))


def test_calendar_feed_by_token_only_while_its_user_may_sign_in(rep, teammate):
    feed = services.calendar_feed_for(user=rep)
    other = services.calendar_feed_for(user=teammate)

    found = calendar_feed_by_token(token=feed.token)
    assert (found.pk, found.user.pk) == (feed.pk, rep.pk)
    assert calendar_feed_by_token(token=other.token).pk == other.pk
    assert calendar_feed_by_token(token="") is None
    assert calendar_feed_by_token(token="not-a-token") is None
    assert calendar_feed_by_token(token=feed.token.swapcase()) is None
    assert calendar_feed_by_token(token=feed.token[:-1]) is None

    rep.is_active = False
    rep.save()
    assert calendar_feed_by_token(token=feed.token) is None
    assert calendar_feed_by_token(token=other.token).pk == other.pk

    rotated = services.calendar_feed_rotate(user=teammate)
    assert calendar_feed_by_token(token=other.token) is None
    assert calendar_feed_by_token(token=rotated.token).pk == other.pk
