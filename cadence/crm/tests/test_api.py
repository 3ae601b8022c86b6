"""API tests for companies and contacts: who sees, edits and deletes which lead."""

import pytest

from cadence.core.tests.api_helpers import (
    API,
    ROLES,
    ScopedEndpointTests,
    as_role,
    assert_field_error,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
    page_ids,
)
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

COMPANIES = f"{API}/companies/"
CONTACTS = f"{API}/contacts/"

# The leads of every scope test, by key: who owns each and which team it is shared with.
#   rep_own, teammate_own, manager_own: Team North's, not shared
#   teammate_shared: the teammate's, shared with Team North
#   outsider_own: Team South's, not shared
#   cross_shared: the outsider's (Team South), shared with Team North by an admin
ALL_LEADS = {
    "rep_own",
    "teammate_own",
    "manager_own",
    "teammate_shared",
    "outsider_own",
    "cross_shared",
}
LEAD_VISIBLE = {
    "rep": {"rep_own", "teammate_shared", "cross_shared"},
    "teammate": {"teammate_own", "teammate_shared", "cross_shared"},
    "manager": {"rep_own", "teammate_own", "manager_own", "teammate_shared", "cross_shared"},
    "outsider": {"outsider_own", "cross_shared"},
    "other_manager": {"outsider_own", "cross_shared"},
    "admin_user": ALL_LEADS,
}
# Team members edit a shared lead; only its owner, the manager of the owner's team and admins
# delete it.
LEAD_DELETABLE = {
    "rep": {"rep_own"},
    "teammate": {"teammate_own", "teammate_shared"},
    "manager": {"rep_own", "teammate_own", "manager_own", "teammate_shared"},
    "outsider": {"outsider_own", "cross_shared"},
    "other_manager": {"outsider_own", "cross_shared"},
    "admin_user": ALL_LEADS,
}


@pytest.fixture
def lead_specs(rep, teammate, manager, outsider, team):
    """Owner and shared-with team of each lead key."""
    return {
        "rep_own": (rep, None),
        "teammate_own": (teammate, None),
        "manager_own": (manager, None),
        "teammate_shared": (teammate, team),
        "outsider_own": (outsider, None),
        "cross_shared": (outsider, team),
    }


class TestCompanyScope(ScopedEndpointTests):
    url = COMPANIES
    pk_field = "company_id"
    visible = LEAD_VISIBLE
    deletable = LEAD_DELETABLE
    patch = {"name": "Renamed Company"}

    @pytest.fixture
    def objects(self, lead_specs):
        return {
            key: CompanyFactory(name=f"Company {key}", owner=owner, team=shared)
            for key, (owner, shared) in lead_specs.items()
        }

    def secrets(self, obj):
        return [str(obj.pk), obj.name, obj.domain]


class TestContactScope(ScopedEndpointTests):
    url = CONTACTS
    pk_field = "contact_id"
    visible = LEAD_VISIBLE
    deletable = LEAD_DELETABLE
    patch = {"title": "Chief Revenue Officer"}

    @pytest.fixture
    def objects(self, lead_specs):
        return {
            key: ContactFactory(
                last_name=f"Contact-{key}",
                email=f"{key}@lead.example.com",
                owner=owner,
                team=shared,
                company=CompanyFactory(owner=owner, team=shared),
            )
            for key, (owner, shared) in lead_specs.items()
        }

    def secrets(self, obj):
        return [str(obj.pk), obj.last_name, obj.email]


# -- Creating: owners and teams the actor may give work to ------------------------------------


@pytest.mark.parametrize(
    ("actor", "owner", "status"),
    [
        ("rep", None, 201),
        ("rep", "rep", 201),
        ("rep", "teammate", 400),
        ("rep", "outsider", 400),
        ("manager", "teammate", 201),
        ("manager", "outsider", 400),
        ("other_manager", "rep", 400),
        ("admin_user", "outsider", 201),
    ],
)
def test_company_owner_must_be_someone_the_actor_may_assign(
    request, client_for, actor, owner, status
):
    """A company belongs to its creator by default. A rep cannot give one to anyone else, a
    manager only to their team, an admin to anyone; any other owner "does not exist"."""
    user = as_role(request, actor)
    data = {"name": "Acme"}
    if owner:
        data["owner_id"] = str(as_role(request, owner).pk)
    response = client_for(user).post(COMPANIES, data)
    if status == 400:
        assert_field_error(response, "owner_id")
        assert not Company.objects.filter(name="Acme").exists()
    else:
        assert response.status_code == 201, response.content
        expected = as_role(request, owner) if owner else user
        assert response.json()["owner_id"] == str(expected.pk)


def test_inactive_user_cannot_be_given_a_company(client_for, manager, teammate):
    """A deactivated user takes no new work, even from their manager."""
    teammate.is_active = False
    teammate.save()
    response = client_for(manager).post(COMPANIES, {"name": "Acme", "owner_id": str(teammate.pk)})
    assert_field_error(response, "owner_id")


@pytest.mark.parametrize(
    ("actor", "share_with", "status"),
    [
        ("rep", "team", 201),
        ("rep", "other_team", 400),
        ("manager", "other_team", 400),
        ("admin_user", "other_team", 201),
    ],
)
def test_company_is_shared_only_with_the_actors_team(
    request, client_for, actor, share_with, status
):
    """Users share a lead with their own team; only admins share with any team."""
    shared = as_role(request, share_with)
    response = client_for(as_role(request, actor)).post(
        COMPANIES, {"name": "Acme", "team_id": str(shared.pk)}
    )
    if status == 400:
        assert_field_error(response, "team_id")
    else:
        assert response.status_code == 201, response.content
        assert response.json()["team_id"] == str(shared.pk)


def test_company_representation_has_spec_names_and_offset_timestamps(client_for, rep, team):
    """A company reads with its ``company_id``, owner and team IDs, and ISO 8601 timestamps
    that carry their offset."""
    response = client_for(rep).post(
        COMPANIES,
        {"name": "Acme", "domain": "acme.example", "country": "FR", "team_id": str(team.pk)},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert {"company_id", "name", "domain", "owner_id", "team_id", "country", "time_zone"} <= set(
        data
    )
    assert data["owner_id"] == str(rep.pk)
    assert data["country"] == "FR"
    assert_iso_with_offset(data["created_at"], data["updated_at"])


# -- Shared leads: teammates edit, only owners (and above) reassign or delete -------------------


def test_teammate_edits_a_shared_company_but_cannot_take_it_over(client_for, rep, teammate, team):
    """A rep may edit a company a teammate shared with the team, but may not make it theirs:
    that would let them delete it, which only the owner, their manager and admins may do."""
    company = CompanyFactory(owner=teammate, team=team, name="Shared")
    client = client_for(rep)
    assert client.patch(f"{COMPANIES}{company.pk}/", {"industry": "Retail"}).status_code == 200
    response = client.patch(f"{COMPANIES}{company.pk}/", {"owner_id": str(rep.pk)})
    assert response.status_code == 403, response.content
    company.refresh_from_db()
    assert company.owner == teammate
    assert company.industry == "Retail"


def test_manager_reassigns_a_company_within_the_team(client_for, manager, rep, teammate):
    """The manager of the owner's team hands a company to another team member."""
    company = CompanyFactory(owner=teammate)
    response = client_for(manager).patch(f"{COMPANIES}{company.pk}/", {"owner_id": str(rep.pk)})
    assert response.status_code == 200, response.content
    assert response.json()["owner_id"] == str(rep.pk)


def test_teammate_cannot_take_over_a_shared_contact(client_for, rep, teammate, team):
    """As for companies: editing a shared contact is allowed, taking its ownership is not."""
    contact = ContactFactory(owner=teammate, team=team, company=CompanyFactory(owner=teammate))
    response = client_for(rep).patch(f"{CONTACTS}{contact.pk}/", {"owner_id": str(rep.pk)})
    assert response.status_code == 403, response.content
    contact.refresh_from_db()
    assert contact.owner == teammate


def test_teammate_cannot_unshare_a_shared_company(client_for, rep, teammate, team):
    """Unsharing would lock the rest of the team out of a lead that is not the rep's own."""
    company = CompanyFactory(owner=teammate, team=team)
    response = client_for(rep).patch(f"{COMPANIES}{company.pk}/", {"team_id": None})
    assert response.status_code == 403, response.content
    assert "team_id" in response.json()
    company.refresh_from_db()
    assert company.team == team


def test_owner_unshares_their_company(client_for, teammate, team):
    company = CompanyFactory(owner=teammate, team=team)
    response = client_for(teammate).patch(f"{COMPANIES}{company.pk}/", {"team_id": None})
    assert response.status_code == 200, response.content
    company.refresh_from_db()
    assert company.team is None


# -- Contacts reference a company -------------------------------------------------------------


@pytest.mark.parametrize(
    ("company_owner", "shared", "status"),
    [
        ("rep", False, 201),
        ("teammate", True, 201),
        ("teammate", False, 400),
        ("outsider", False, 400),
    ],
)
def test_contact_company_must_be_visible(
    request, client_for, rep, team, company_owner, shared, status
):
    """A contact is created at a company the actor sees; another team's or an unshared
    teammate's company "does not exist"."""
    company = CompanyFactory(owner=as_role(request, company_owner), team=team if shared else None)
    response = client_for(rep).post(
        CONTACTS, {"company_id": str(company.pk), "first_name": "Ada", "email": "ada@x.example"}
    )
    if status == 400:
        assert_field_error(response, "company_id")
        assert not Contact.objects.exists()
    else:
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["company_id"] == str(company.pk)
        assert data["owner_id"] == str(rep.pk)
        assert {"contact_id", "company_id", "owner_id", "team_id", "email_status"} <= set(data)
        assert_iso_with_offset(data["created_at"], data["updated_at"])


def test_contact_needs_a_name_or_an_email(client_for, rep):
    """A contact with neither a name nor an email address is refused with a field error."""
    company = CompanyFactory(owner=rep)
    response = client_for(rep).post(CONTACTS, {"company_id": str(company.pk), "title": "CTO"})
    assert_field_error(response, "first_name", "name or an email")


def test_contact_owner_must_be_assignable(client_for, rep, teammate):
    """A rep cannot make a teammate the owner of a new contact."""
    company = CompanyFactory(owner=rep)
    response = client_for(rep).post(
        CONTACTS, {"company_id": str(company.pk), "first_name": "Ada", "owner_id": str(teammate.pk)}
    )
    assert_field_error(response, "owner_id")


def test_deleting_a_company_deletes_its_contacts(client_for, rep):
    """A company goes with its contacts."""
    contact = ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
    assert client_for(rep).delete(f"{COMPANIES}{contact.company_id}/").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


# -- Filtering, ordering, pagination, query budget -------------------------------------------


def test_company_filters_never_widen_the_scope(client_for, rep, outsider, team):
    """Filtering by another team's owner or team finds nothing: filters narrow what the user may
    see, they never reveal more."""
    CompanyFactory(owner=outsider)
    mine = CompanyFactory(owner=rep, team=team, industry="Retail", name="Alpha Retail")
    CompanyFactory(owner=rep, industry="Banking", name="Beta Bank")
    client = client_for(rep)
    assert list_ids(client, COMPANIES, "company_id", owner_id=str(outsider.pk)) == set()
    assert list_ids(client, COMPANIES, "company_id", team_id=str(team.pk)) == {str(mine.pk)}
    assert list_ids(client, COMPANIES, "company_id", industry="retail") == {str(mine.pk)}
    assert list_ids(client, COMPANIES, "company_id", name="alpha") == {str(mine.pk)}


def test_company_list_orders_by_name_either_way(client_for, rep):
    """Companies are listed by name; ``?ordering=-name`` reverses it."""
    for name in ("Bravo", "Alpha", "Charlie"):
        CompanyFactory(owner=rep, name=name)
    client = client_for(rep)
    names = [row["name"] for row in client.get(COMPANIES).json()["results"]]
    assert names == ["Alpha", "Bravo", "Charlie"]
    names = [row["name"] for row in client.get(COMPANIES, {"ordering": "-name"}).json()["results"]]
    assert names == ["Charlie", "Bravo", "Alpha"]


def test_contact_list_filters_by_company(client_for, rep):
    """``?company_id=`` lists the contacts of one company."""
    company = CompanyFactory(owner=rep)
    wanted = ContactFactory(owner=rep, company=company)
    ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
    ids = list_ids(client_for(rep), CONTACTS, "contact_id", company_id=str(company.pk))
    assert ids == {str(wanted.pk)}


def test_company_list_is_paginated(client_for, rep):
    """Pages carry ``count``, ``next`` and ``previous``; ``page_size`` sets their length."""
    CompanyFactory.create_batch(25, owner=rep)
    client = client_for(rep)
    first = client.get(COMPANIES, {"page_size": 10}).json()
    assert first["count"] == 25
    assert len(first["results"]) == 10
    assert first["previous"] is None
    assert "page=2" in first["next"]
    last = client.get(COMPANIES, {"page_size": 10, "page": 3}).json()
    assert len(last["results"]) == 5
    assert last["next"] is None
    seen = set()
    for page in (1, 2, 3):
        seen |= set(page_ids(client.get(COMPANIES, {"page_size": 10, "page": page}), "company_id"))
    assert len(seen) == 25


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_company_list_query_budget(request, client_for, rep, django_assert_max_num_queries, role):
    """Listing companies costs a fixed number of queries, however many rows."""
    assert_list_query_budget(
        client_for(as_role(request, role)),
        COMPANIES,
        make_rows=lambda n: CompanyFactory.create_batch(n, owner=rep),
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_contact_list_query_budget(
    request, client_for, rep, team, django_assert_max_num_queries, role
):
    """Listing contacts (with their company's name) costs a fixed number of queries."""
    company = CompanyFactory(owner=rep)
    assert_list_query_budget(
        client_for(as_role(request, role)),
        CONTACTS,
        make_rows=lambda n: ContactFactory.create_batch(n, owner=rep, company=company, team=team),
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_create_a_company_of_its_own(request, client_for, role):
    """Every role creates companies; the creator owns them and sees them at once."""
    user = as_role(request, role)
    client = client_for(user)
    response = client.post(COMPANIES, {"name": f"Own {role}"})
    assert response.status_code == 201, response.content
    assert response.json()["owner_id"] == str(user.pk)
    assert response.json()["company_id"] in list_ids(client, COMPANIES, "company_id")
