"""The scoping rules themselves: a rep sees their own work, a manager their team's, an admin
everything, and whatever lies outside that scope is simply not returned."""

import datetime

import pytest
from django.db.models import Q
from rest_framework.authtoken.models import Token

from cadence.accounts import selectors
from cadence.accounts.choices import Role
from cadence.accounts.models import User
from cadence.accounts.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def people(rep, teammate, manager, outsider, other_manager, admin_user):
    """Every role, plus a teamless rep and a teamless manager."""
    return {
        "rep": rep,
        "teammate": teammate,
        "manager": manager,
        "outsider": outsider,
        "other_manager": other_manager,
        "admin_user": admin_user,
        "solo": UserFactory(username="solo", role=Role.REP, team=None),
        "lone_manager": UserFactory(username="lone_manager", role=Role.MANAGER, team=None),
    }


NORTH = {"rep", "teammate", "manager"}
SOUTH = {"outsider", "other_manager"}
EVERYONE = NORTH | SOUTH | {"admin_user", "solo", "lone_manager"}
# Whose rows each viewer's scope covers (same for scope_by_user and user_list here).
SCOPE = {
    "rep": {"rep"},
    "teammate": {"teammate"},
    "manager": NORTH,
    "outsider": {"outsider"},
    "other_manager": SOUTH,
    "admin_user": EVERYONE,
    "solo": {"solo"},
    "lone_manager": {"lone_manager"},
}


@pytest.mark.parametrize("viewer", sorted(SCOPE))
def test_scope_by_user_covers_own_rows_a_managers_team_or_everything(people, viewer):
    """Applied to a table with a user path (here API tokens), the Q keeps exactly the rows of
    the viewer, of a manager's team, or all of them for an admin."""
    tokens = {key: Token.objects.create(user=user) for key, user in people.items()}
    scoped = Token.objects.filter(selectors.scope_by_user(people[viewer], field="user"))
    assert pks(scoped) == {tokens[key].pk for key in SCOPE[viewer]}


def test_a_superuser_is_an_admin_whatever_their_role(people):
    """``is_superuser`` alone opens every scope, even with the rep role."""
    root = UserFactory(username="root", role=Role.REP, team=None, is_superuser=True)
    assert selectors.can_view_team_work(root)
    assert pks(selectors.user_list(viewer=root)) == {u.pk for u in people.values()} | {root.pk}


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [("rep", False), ("manager", True), ("lone_manager", False), ("admin_user", True)],
)
def test_can_view_team_work(people, viewer, expected):
    """Only a manager of a team, or an admin, oversees others' work."""
    assert selectors.can_view_team_work(people[viewer]) is expected


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        ("rep", NORTH),
        ("manager", NORTH),
        ("outsider", SOUTH),
        ("solo", {"solo"}),
        ("lone_manager", {"lone_manager"}),
        ("admin_user", EVERYONE),
    ],
)
def test_user_list_is_the_viewers_team_and_themselves(people, viewer, visible):
    """Non-admins see their team's members (reps included) and themselves, inactive or not."""
    people["teammate"].is_active = False
    people["teammate"].save()
    result = selectors.user_list(viewer=people[viewer])
    assert pks(result) == {people[key].pk for key in visible}


@pytest.mark.parametrize(
    ("viewer", "assignable"),
    [
        ("rep", {"rep"}),
        ("manager", {"rep", "manager"}),
        ("other_manager", SOUTH),
        ("lone_manager", {"lone_manager"}),
        ("admin_user", EVERYONE - {"teammate"}),
    ],
)
def test_users_assignable_by_are_active_users_in_scope(people, viewer, assignable):
    """A rep gives work only to themselves, a manager to their team, an admin to anyone; never
    to a deactivated user (here the teammate)."""
    people["teammate"].is_active = False
    people["teammate"].save()
    result = selectors.users_assignable_by(viewer=people[viewer])
    assert pks(result) == {people[key].pk for key in assignable}


@pytest.mark.parametrize("func", [selectors.team_list, selectors.teams_shareable_by])
def test_teams_are_the_viewers_own_or_all_for_admins(people, team, other_team, func):
    """A member sees and shares with only their own team, a teamless user with none."""
    spare = TeamFactory(name="Team Spare")
    assert pks(func(viewer=people["rep"])) == {team.pk}
    assert pks(func(viewer=people["other_manager"])) == {other_team.pk}
    assert pks(func(viewer=people["solo"])) == set()
    assert pks(func(viewer=people["admin_user"])) == {team.pk, other_team.pk, spare.pk}


@pytest.mark.parametrize(
    ("viewer", "owner", "expected"),
    [
        ("rep", "rep", True),
        ("rep", "teammate", False),
        ("rep", None, False),
        ("manager", "teammate", True),
        ("manager", "outsider", False),
        ("other_manager", "rep", False),
        ("lone_manager", "solo", False),
        ("lone_manager", "lone_manager", True),
        ("admin_user", "outsider", True),
        ("admin_user", None, True),
    ],
)
def test_can_manage_user_work(people, viewer, owner, expected):
    """Owners manage their own work, managers their team's, admins anyone's (even ownerless
    work); two teamless users do not share a "team"."""
    owner_user = people[owner] if owner else None
    assert selectors.can_manage_user_work(people[viewer], owner_user) is expected


def test_user_email_taken_ignores_case_and_the_excluded_user(rep):
    """An address is taken when another user has it, in any case; blank is never taken."""
    rep.email = "Rep@Example.com"
    rep.save()
    UserFactory(username="blank1", email="", team=None)
    assert selectors.user_email_taken(email="rep@example.COM")
    assert not selectors.user_email_taken(email="rep@example.com", exclude=rep)
    assert not selectors.user_email_taken(email="nobody@example.com")
    assert not selectors.user_email_taken(email="")


def test_api_token_expires_after_the_configured_days_or_never(settings, rep):
    """The expiry is ``created`` plus ``CADENCE_API_TOKEN_DAYS``; 0 means it never expires."""
    token = Token.objects.create(user=rep)
    settings.CADENCE_API_TOKEN_DAYS = 30
    assert selectors.api_token_expires_at(token) == token.created + datetime.timedelta(days=30)
    settings.CADENCE_API_TOKEN_DAYS = 0
    assert selectors.api_token_expires_at(token) is None


def test_an_admins_scope_survives_being_ored_with_a_narrower_condition(admin_user, rep, outsider):
    """``Q(...) | scope_by_user(admin)`` still matches every row: an empty ``Q()`` would vanish
    in the OR and leave the admin only the other condition."""
    narrow = Q(pk=rep.pk)
    widened = User.objects.filter(narrow | selectors.scope_by_user(admin_user, field="pk"))
    assert {rep.pk, outsider.pk, admin_user.pk} <= set(widened.values_list("pk", flat=True))
