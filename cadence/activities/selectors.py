from django.db.models import QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.activities.choices import ReminderStatus
from cadence.activities.models import Activity, Reminder

#: Reminders in these states are still to be delivered, once their ``remind_at`` has come.
UNDELIVERED_REMINDER_STATUSES = (ReminderStatus.PENDING, ReminderStatus.SNOOZED)


def activity_list(*, viewer: User) -> QuerySet[Activity]:
    """Activities the viewer logged, or (managers) their team logged, or (admins) all."""
    return Activity.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "company", "contact", "user", "step"
    )


def reminder_list(*, viewer: User) -> QuerySet[Reminder]:
    return Reminder.objects.filter(scope_by_user(viewer, field="user"))


def plans_linkable_by(*, viewer: User):
    """Plans an activity may be logged against: those the viewer may see. Plans sit above this
    app, so they are reached through the foreign key rather than imported."""
    plan_model = Activity._meta.get_field("plan").related_model
    return plan_model.objects.filter(scope_by_user(viewer, field="user"))


def steps_linkable_by(*, viewer: User):
    """Steps of the strategies of plans the viewer may see: the only steps an activity or a
    reminder can be about. Any other step reads as "does not exist", so a hidden strategy's
    steps are neither linked to nor confirmed to exist."""
    step_model = Activity._meta.get_field("step").related_model
    strategies = plans_linkable_by(viewer=viewer).values("strategy")
    return step_model.objects.filter(strategy__in=strategies)
