from django.db.models import QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.activities.models import Activity, Reminder


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
    step_model = Activity._meta.get_field("step").related_model
    return step_model.objects.all()
