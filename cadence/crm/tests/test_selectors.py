"""Which companies and contacts each user sees and may delete, read straight from the selectors:
one's own leads, leads shared with one's team, a manager's team's leads, and everything for an
admin; any other lead is simply not returned."""

import pytest

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import UserFactory
from cadence.crm.selectors import company_list, contact_list, lead_can_delete
from cadence.crm.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

ALL = {
    "rep_own",
    "teammate_own",
    "manager_own",
    "teammate_shared",
    "outsider_own",
    "cross_shared",
    "rep_shared_south",
    "solo_own",
}
VISIBLE = {
    "rep": {"rep_own", "teammate_shared", "cross_shared", "rep_shared_south"},
    "teammate": {"teammate_own", "teammate_shared", "cross_shared"},
    "manager": {
        "rep_own",
        "teammate_own",
        "manager_own",
        "teammate_shared",
        "cross_shared",
        "rep_shared_south",
    },
    "outsider": {"outsider_own", "cross_shared", "rep_shared_south"},
    "other_manager": {"outsider_own", "cross_shared", "rep_shared_south"},
    "solo": {"solo_own"},
    "admin_user": ALL,
}
# Sharing lets a team see and edit a lead; deleting stays with its owner, their manager, admins.
DELETABLE = {
    "rep": {"rep_own", "rep_shared_south"},
    "teammate": {"teammate_own", "teammate_shared"},
    "manager": {"rep_own", "teammate_own", "manager_own", "teammate_shared", "rep_shared_south"},
    "outsider": {"outsider_own", "cross_shared"},
    "other_manager": {"outsider_own", "cross_shared"},
    "solo": {"solo_own"},
    "admin_user": ALL,
}


@pytest.fixture
def users(rep, teammate, manager, outsider, other_manager, admin_user):
    solo = UserFactory(username="solo", role=Role.REP, team=None)
    return dict(
        rep=rep,
        teammate=teammate,
        manager=manager,
        outsider=outsider,
        other_manager=other_manager,
        admin_user=admin_user,
        solo=solo,
    )


@pytest.fixture
def specs(users, team, other_team):
    """Owner and shared-with team of each lead key."""
    return {
        "rep_own": (users["rep"], None),
        "teammate_own": (users["teammate"], None),
        "manager_own": (users["manager"], None),
        "teammate_shared": (users["teammate"], team),
        "outsider_own": (users["outsider"], None),
        "cross_shared": (users["outsider"], team),
        "rep_shared_south": (users["rep"], other_team),
        "solo_own": (users["solo"], None),
    }


@pytest.fixture
def companies(specs):
    return {key: CompanyFactory(owner=owner, team=shared) for key, (owner, shared) in specs.items()}


@pytest.fixture
def contacts(specs):
    """Each contact at a company of its own owner that is shared with nobody, so the contact's
    own owner and team decide."""
    return {
        key: ContactFactory(owner=owner, team=shared, company=CompanyFactory(owner=owner))
        for key, (owner, shared) in specs.items()
    }


def _pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_company_list_returns_exactly_the_viewers_scope(users, companies, viewer):
    """Own companies, those shared with the viewer's team, a manager's team's, or all for an
    admin; another team's unshared company is absent."""
    expected = {companies[key].pk for key in VISIBLE[viewer]}
    assert _pks(company_list(viewer=users[viewer])) == expected


@pytest.mark.parametrize("viewer", sorted(VISIBLE))
def test_contact_list_returns_exactly_the_viewers_scope(users, contacts, viewer):
    """Contacts follow the same rule as companies, by the contact's own owner and team."""
    expected = {contacts[key].pk for key in VISIBLE[viewer]}
    assert _pks(contact_list(viewer=users[viewer])) == expected


@pytest.mark.parametrize("viewer", sorted(DELETABLE))
def test_lead_can_delete_is_for_owner_their_manager_and_admins(users, companies, contacts, viewer):
    """A shared lead is visible to the team but deletable only by its owner (and above)."""
    for leads in (companies, contacts):
        deletable = {key for key, lead in leads.items() if lead_can_delete(users[viewer], lead)}
        assert deletable == DELETABLE[viewer]
