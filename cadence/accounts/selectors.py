"""Who may see whom: the scoping rules every app's selectors build on.

A rep sees their own work, a manager their team's, an admin everything. Each function returns a
``Q`` over a path to a user (``user``, ``owner``, ``created_by``), so each app can apply the same
rule to its own tables.
"""

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.authtoken.models import Token

from cadence.accounts.models import Team, User


def scope_by_user(viewer: User, *, field: str) -> Q:
    """Rows whose ``field`` user is the viewer, a member of the team they manage, or anyone
    for an admin. An admin's condition matches every row explicitly: an empty ``Q()`` would
    vanish when OR-ed with another condition, narrowing the admin to that condition alone."""
    if viewer.is_admin:
        return Q(pk__isnull=False)
    if viewer.is_manager and viewer.team_id:
        return Q(**{field: viewer}) | Q(**{f"{field}__team": viewer.team_id})
    return Q(**{field: viewer})


def can_view_team_work(viewer: User) -> bool:
    """Whether the viewer oversees others' work: a manager of a team, or an admin. A manager
    without a team oversees nobody, as ``scope_by_user`` gives them only their own rows."""
    return viewer.is_admin or (viewer.is_manager and viewer.team_id is not None)


def user_list(*, viewer: User) -> QuerySet[User]:
    """Users the viewer may see: everyone for admins, their team (and themselves) otherwise."""
    qs = User.objects.select_related("team")
    if viewer.is_admin:
        return qs
    if viewer.team_id:
        return qs.filter(Q(pk=viewer.pk) | Q(team=viewer.team_id))
    return qs.filter(pk=viewer.pk)


def users_assignable_by(*, viewer: User) -> QuerySet[User]:
    """Users to whom the viewer may give work (own a company, run a plan)."""
    qs = User.objects.filter(is_active=True)
    if viewer.is_admin:
        return qs
    if viewer.is_manager and viewer.team_id:
        return qs.filter(Q(pk=viewer.pk) | Q(team=viewer.team_id))
    return qs.filter(pk=viewer.pk)


def team_list(*, viewer: User) -> QuerySet[Team]:
    if viewer.is_admin:
        return Team.objects.all()
    return Team.objects.filter(pk=viewer.team_id)


def teams_shareable_by(*, viewer: User) -> QuerySet[Team]:
    """Teams the viewer may share a company or contact with: their own, or any for admins."""
    return team_list(viewer=viewer)


def can_manage_user_work(viewer: User, owner: User | None) -> bool:
    """Whether ``viewer`` may change or delete what ``owner`` owns."""
    if viewer.is_admin:
        return True
    if owner is None:
        return False
    if owner.pk == viewer.pk:
        return True
    return viewer.is_manager and viewer.team_id is not None and owner.team_id == viewer.team_id


def user_email_taken(*, email: str, exclude: User | None = None) -> bool:
    """Whether another user has this email address, ignoring case. Blank is nobody's."""
    if not email:
        return False
    qs = User.objects.filter(email__iexact=email)
    if exclude is not None and exclude.pk is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.exists()


def api_token_expires_at(token: Token) -> datetime.datetime | None:
    """When an API token stops working: ``CADENCE_API_TOKEN_DAYS`` after it was issued, or
    never when that is 0."""
    days = settings.CADENCE_API_TOKEN_DAYS
    if days <= 0:
        return None
    return token.created + datetime.timedelta(days=days)
