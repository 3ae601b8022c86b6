from django.db.models import QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.plans.models import LeadContactPlan


def plan_list(*, viewer: User) -> QuerySet[LeadContactPlan]:
    """Plans the viewer runs, or (managers) their team runs, or (admins) all."""
    return LeadContactPlan.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "company", "contact", "strategy", "current_step"
    )
