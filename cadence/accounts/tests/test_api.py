"""API tests for users, teams and the signed-in user's own profile."""

import pytest

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.accounts.tests.factories import TeamFactory, UserFactory
from cadence.core.tests.api_helpers import (
    API,
    ROLES,
    UNKNOWN_ID,
    as_role,
    assert_field_error,
    assert_hidden,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
)

pytestmark = pytest.mark.django_db

USERS = f"{API}/users/"
TEAMS = f"{API}/teams/"
ME = f"{USERS}me/"
NORTH = {"rep", "teammate", "manager"}
SOUTH = {"outsider", "other_manager"}
# Non-admins see the users of their own team; admins see everyone.
USER_VISIBLE = {
    "rep": NORTH,
    "teammate": NORTH,
    "manager": NORTH,
    "outsider": SOUTH,
    "other_manager": SOUTH,
    "admin_user": set(ROLES),
}
TEAM_VISIBLE = {
    "rep": {"team"},
    "teammate": {"team"},
    "manager": {"team"},
    "outsider": {"other_team"},
    "other_manager": {"other_team"},
    "admin_user": {"team", "other_team"},
}
PROFILE = {
    "display_name": "Ada L.",
    "signature": "Best,\nAda",
    "time_zone": "America/New_York",
    "country": "US",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "work_day_start": "08:00:00",
    "work_day_end": "16:30:00",
}


@pytest.fixture
def everyone(request):
    """Every role's user, by fixture name."""
    return {role: as_role(request, role) for role in ROLES}


@pytest.fixture
def teams(everyone, team, other_team):
    return {"team": team, "other_team": other_team}


# -- Users: visibility ------------------------------------------------------------------------


def test_anonymous_request_is_401(api_client, rep):
    """Without credentials users, teams and the profile answer 401."""
    for url in (USERS, f"{USERS}{rep.pk}/", TEAMS, ME):
        assert api_client.get(url).status_code == 401, url


@pytest.mark.parametrize("role", ROLES)
def test_user_list_shows_exactly_the_users_the_role_may_see(client_for, everyone, role):
    """Non-admins list the users of their own team; admins list everyone."""
    client = client_for(everyone[role])
    expected = {str(everyone[name].pk) for name in USER_VISIBLE[role]}
    assert list_ids(client, USERS, "user_id") == expected


@pytest.mark.parametrize("role", ROLES)
def test_user_retrieve_is_404_outside_the_team(client_for, everyone, role):
    """A user of another team is a 404 that shows nothing of them."""
    client = client_for(everyone[role])
    for name, user in everyone.items():
        response = client.get(f"{USERS}{user.pk}/")
        if name in USER_VISIBLE[role]:
            assert response.status_code == 200
            assert response.json()["user_id"] == str(user.pk)
            assert "password" not in response.json()
        else:
            assert_hidden(response, user.pk, user.username, user.email)
    assert client.get(f"{USERS}{UNKNOWN_ID}/").status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin_user"])
def test_non_admins_cannot_change_users(client_for, everyone, role):
    """Creating, changing or deactivating users is for admins: anyone else gets a 403 (for
    any user, seen or not, so it tells nothing) and nothing changes."""
    client = client_for(everyone[role])
    created = client.post(USERS, {"username": "intruder", "role": "admin"})
    assert created.status_code == 403
    assert not User.objects.filter(username="intruder").exists()
    for user in everyone.values():
        for response in (
            client.patch(f"{USERS}{user.pk}/", {"role": Role.ADMIN}),
            client.delete(f"{USERS}{user.pk}/"),
        ):
            assert response.status_code == 403, response.content
            assert str(user.pk) not in response.content.decode()
            assert user.email not in response.content.decode()
        refreshed = User.objects.get(pk=user.pk)
        assert (refreshed.role, refreshed.is_active) == (user.role, True)


# -- Users: admins manage them ---------------------------------------------------------------


def test_admin_creates_a_user_with_profile(client_for, api_client, admin_user, team):
    """An admin creates a user with role, team, time zone, country and signature; the password
    is write-only and works for logging in."""
    data = {
        **PROFILE,
        "username": "ada",
        "password": "a long enough passphrase 42",
        "role": Role.MANAGER,
        "team_id": str(team.pk),
    }
    response = client_for(admin_user).post(USERS, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body
    for field, value in PROFILE.items():
        assert body[field] == value, field
    assert body["role"] == "manager"
    assert body["team_id"] == str(team.pk)
    assert body["is_active"] is True
    assert_iso_with_offset(body["created_at"], body["updated_at"])
    token = api_client.post(
        f"{API}/auth/token/", {"username": "ada", "password": "a long enough passphrase 42"}
    )
    assert token.status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("time_zone", "Mars/Olympus", ""),
        ("country", "XX", ""),
        ("role", "superhero", ""),
        ("team_id", UNKNOWN_ID, "does not exist"),
        ("password", "123", ""),
        ("work_day_end", "07:00:00", "end after"),
    ],
)
def test_admin_gets_field_errors_for_bad_profiles(client_for, admin_user, field, value, fragment):
    """An invalid time zone, country, role, team, password or working day is a 400 on that
    field, and no user is created."""
    data = {"username": "bad", "password": "a long enough passphrase 42", field: value}
    response = client_for(admin_user).post(USERS, data)
    assert_field_error(response, field, fragment)
    assert not User.objects.filter(username="bad").exists()


def test_admin_moves_a_user_to_another_team_and_role(client_for, admin_user, rep, other_team):
    """An admin changes a user's role and team."""
    response = client_for(admin_user).patch(
        f"{USERS}{rep.pk}/", {"role": Role.MANAGER, "team_id": str(other_team.pk)}
    )
    assert response.status_code == 200, response.content
    rep.refresh_from_db()
    assert (rep.role, rep.team) == (Role.MANAGER, other_team)


def test_admin_delete_deactivates(client_for, admin_user, rep):
    """DELETE deactivates the user instead of removing them; they stay listed as inactive."""
    client = client_for(admin_user)
    assert client.delete(f"{USERS}{rep.pk}/").status_code == 204
    rep.refresh_from_db()
    assert rep.is_active is False
    assert str(rep.pk) in list_ids(client, USERS, "user_id", is_active="false")
    assert str(rep.pk) not in list_ids(client, USERS, "user_id", is_active="true")


def test_admin_cannot_deactivate_themselves(client_for, admin_user):
    """An admin deactivating their own account is a 400; it stays active."""
    response = client_for(admin_user).delete(f"{USERS}{admin_user.pk}/")
    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_user_filters_and_ordering(client_for, admin_user, everyone, team):
    """Admins filter users by ``team_id`` and ``role``, and order them by username."""
    client = client_for(admin_user)
    north = {str(everyone[name].pk) for name in NORTH}
    assert list_ids(client, USERS, "user_id", team_id=str(team.pk)) == north
    managers = {str(everyone["manager"].pk), str(everyone["other_manager"].pk)}
    assert list_ids(client, USERS, "user_id", role="manager") == managers
    names = [u["username"] for u in client.get(USERS, {"ordering": "-username"}).json()["results"]]
    assert names == sorted(names, reverse=True)


def test_user_list_is_paginated(client_for, admin_user):
    """``page_size`` pages the users with ``count`` and ``next``."""
    UserFactory.create_batch(5, team=None)
    page = client_for(admin_user).get(USERS, {"page_size": 2}).json()
    assert page["count"] == 6
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]


@pytest.mark.parametrize("role", ["manager", "admin_user"])
def test_user_list_query_budget(request, client_for, team, django_assert_max_num_queries, role):
    """Listing users costs a fixed number of queries, however many rows."""
    assert_list_query_budget(
        client_for(as_role(request, role)),
        USERS,
        make_rows=lambda n: UserFactory.create_batch(n, team=team),
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


# -- The signed-in user's own profile ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_their_own_profile(request, client_for, role):
    """``/users/me/`` returns the signed-in user, with role and team."""
    user = as_role(request, role)
    response = client_for(user).get(ME)
    assert response.status_code == 200
    data = response.json()
    assert data["user_id"] == str(user.pk)
    assert data["role"] == user.role
    assert data["team_id"] == (str(user.team_id) if user.team_id else None)
    assert "password" not in data


@pytest.mark.parametrize("role", ROLES)
def test_everyone_edits_their_own_profile(request, client_for, role):
    """Everyone changes their own name, email, signature, time zone, country and working day
    at ``/users/me/``."""
    user = as_role(request, role)
    response = client_for(user).patch(ME, PROFILE)
    assert response.status_code == 200, response.content
    for field, value in PROFILE.items():
        assert response.json()[field] == value, field
    user.refresh_from_db()
    assert (user.signature, user.time_zone, user.country.code) == (
        "Best,\nAda",
        "America/New_York",
        "US",
    )


def test_role_team_and_username_are_not_self_service(client_for, rep, other_team):
    """Role, team, username and active status cannot be changed at ``/users/me/``: they are
    ignored, and the profile keeps the admin's values."""
    response = client_for(rep).patch(
        ME,
        {
            "role": Role.ADMIN,
            "team_id": str(other_team.pk),
            "username": "boss",
            "is_active": False,
            "signature": "new",
        },
    )
    assert response.status_code == 200, response.content
    rep.refresh_from_db()
    assert (rep.role, rep.team.name, rep.username, rep.is_active) == (
        Role.REP,
        "Team North",
        "rep",
        True,
    )
    assert rep.signature == "new"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Nowhere/Town"),
        ("country", "ZZ"),
        ("email", "not-mail"),
        ("display_name", "Rita\nBcc: all@example.com"),
    ],
)
def test_own_profile_is_validated(client_for, rep, field, value):
    """A bad time zone, country or email, or a name on two lines (it becomes the From header of
    the user's emails), on your own profile is a 400 on that field."""
    assert_field_error(client_for(rep).patch(ME, {field: value}), field, "")


# -- Teams ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_team_list_and_retrieve_follow_membership(client_for, everyone, teams, role):
    """A user sees their own team only (another team is a 404); admins see every team."""
    client = client_for(everyone[role])
    expected = {str(teams[name].pk) for name in TEAM_VISIBLE[role]}
    assert list_ids(client, TEAMS, "team_id") == expected
    for name, team in teams.items():
        response = client.get(f"{TEAMS}{team.pk}/")
        if name in TEAM_VISIBLE[role]:
            assert response.status_code == 200
            assert response.json()["member_count"] == (3 if name == "team" else 2)
        else:
            assert_hidden(response, team.pk, team.name)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin_user"])
def test_non_admins_cannot_change_teams(client_for, everyone, teams, role):
    """Creating, renaming or deleting teams is for admins: 403, nothing changes."""
    client = client_for(everyone[role])
    assert client.post(TEAMS, {"name": "Rogue"}).status_code == 403
    for team in teams.values():
        assert client.patch(f"{TEAMS}{team.pk}/", {"name": "Renamed"}).status_code == 403
        assert client.delete(f"{TEAMS}{team.pk}/").status_code == 403
    assert set(Team.objects.values_list("name", flat=True)) == {"Team North", "Team South"}


def test_admin_manages_teams(client_for, admin_user, team, rep):
    """An admin creates, renames and deletes teams; deleting one leaves its members teamless."""
    client = client_for(admin_user)
    created = client.post(TEAMS, {"name": "Team East", "description": "New market"})
    assert created.status_code == 201, created.content
    assert created.json()["member_count"] == 0
    assert_iso_with_offset(created.json()["created_at"], created.json()["updated_at"])
    renamed = client.patch(f"{TEAMS}{team.pk}/", {"name": "Team Up North"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Team Up North"
    assert client.delete(f"{TEAMS}{team.pk}/").status_code == 204
    rep.refresh_from_db()
    assert rep.team is None


def test_team_names_are_unique(client_for, admin_user, team):
    """A second team with a taken name is a 400 on ``name``."""
    response = client_for(admin_user).post(TEAMS, {"name": team.name})
    assert_field_error(response, "name", "")


def test_team_list_query_budget(client_for, admin_user, django_assert_max_num_queries):
    """Listing teams with their member counts costs a fixed number of queries."""

    def make_rows(n):
        for _ in range(n):
            UserFactory.create_batch(2, team=TeamFactory())

    assert_list_query_budget(
        client_for(admin_user),
        TEAMS,
        make_rows=make_rows,
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


def test_new_password_on_me_needs_the_current_one(client_for, rep):
    """A session left open cannot be used to change the password without knowing it."""
    client = client_for(rep)
    response = client.patch(f"{API}/users/me/", {"password": "plum-orbit-42-sunset"})
    assert response.status_code == 400
    assert "current_password" in response.json()
    wrong = client.patch(
        f"{API}/users/me/",
        {"password": "plum-orbit-42-sunset", "current_password": "not it"},
    )
    assert wrong.status_code == 400
    rep.refresh_from_db()
    assert rep.check_password("correct horse battery staple")


def test_me_changes_password_with_the_current_one(api_client, rep):
    """With the current password the change goes through and the session stays signed in."""
    assert api_client.login(username="rep", password="correct horse battery staple")
    response = api_client.patch(
        f"{API}/users/me/",
        {"password": "plum-orbit-42-sunset", "current_password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "current_password" not in response.json()
    rep.refresh_from_db()
    assert rep.check_password("plum-orbit-42-sunset")
    assert api_client.get(f"{API}/users/me/").status_code == 200
