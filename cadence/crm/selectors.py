"""Companies and contacts a user may see: their own, their team's shares, and for managers
everything owned by their team."""

from django.db.models import Q, QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work, scope_by_user
from cadence.crm.models import Company, Contact


def _visible(viewer: User) -> Q:
    q = scope_by_user(viewer, field="owner")
    if viewer.is_admin or not viewer.team_id:
        return q
    return q | Q(team=viewer.team_id)


def company_list(*, viewer: User) -> QuerySet[Company]:
    return Company.objects.filter(_visible(viewer)).select_related("owner", "team")


def contact_list(*, viewer: User) -> QuerySet[Contact]:
    return Contact.objects.filter(_visible(viewer)).select_related("company", "owner", "team")


def lead_can_delete(viewer: User, lead: Company | Contact) -> bool:
    """Team members may edit a shared lead; only its owner, their manager or an admin delete it."""
    return can_manage_user_work(viewer, lead.owner)
