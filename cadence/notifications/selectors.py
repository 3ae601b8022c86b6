import datetime

from django.db.models import Q, QuerySet

from cadence.accounts.models import User
from cadence.activities.models import Reminder
from cadence.activities.selectors import UNDELIVERED_REMINDER_STATUSES
from cadence.notifications.models import CalendarFeed, Notification
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan

#: The window of a calendar feed: recent overdue steps and the next three months.
CALENDAR_PAST = datetime.timedelta(days=30)
CALENDAR_FUTURE = datetime.timedelta(days=90)


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first; only unread (or read) ones if asked.

    Notifications are personal: a manager does not see their team's."""
    qs = Notification.objects.filter(user=user)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs


def reminders_due(*, now: datetime.datetime) -> QuerySet[Reminder]:
    """Reminders whose time has come and that were neither delivered nor dismissed.

    A reminder about a plan waits while the plan is paused or over: its step is not due then.
    """
    return Reminder.objects.filter(
        Q(plan__isnull=True) | Q(plan__status__in=RUNNING_STATUSES),
        status__in=UNDELIVERED_REMINDER_STATUSES,
        remind_at__lte=now,
    ).order_by("remind_at", "reminder_id")


def calendar_plans(*, user: User, now: datetime.datetime) -> QuerySet[LeadContactPlan]:
    """The user's running plans with a step due from 30 days ago to 90 days ahead, with all a
    calendar entry shows, in one query."""
    return (
        LeadContactPlan.objects.filter(
            user=user,
            status__in=RUNNING_STATUSES,
            next_step_due_date__gte=now - CALENDAR_PAST,
            next_step_due_date__lte=now + CALENDAR_FUTURE,
        )
        .select_related("contact", "company", "current_step", "strategy", "user")
        .order_by("next_step_due_date", "plan_id")
    )


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    """The feed with this token, if its user may still sign in."""
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
