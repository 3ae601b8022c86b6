"""The company and contact services called directly: who owns what is created, who may move a
lead's custody (owner, team), the name-or-email rule, deleting, opting out and bouncing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm import services
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

#: Who may move a lead owned by ``rep`` and shared with ``rep``'s team: its owner, their
#: manager and admins; a teammate who shares it, another team's manager or rep may not.
CUSTODIANS = [("rep", True), ("manager", True), ("admin_user", True)]
NOT_CUSTODIANS = [("teammate", False), ("other_manager", False), ("outsider", False)]


@pytest.fixture
def shared_company(rep, team):
    return CompanyFactory(owner=rep, team=team, name="Shared Co", industry="Retail")


@pytest.fixture
def shared_contact(rep, team, shared_company):
    return ContactFactory(company=shared_company, owner=rep, team=team, first_name="Ada")


# -- Creating ------------------------------------------------------------------------------------


def test_company_create_makes_the_actor_its_owner_unless_another_is_given(rep, teammate):
    """Without an owner the actor owns the new company; a given owner is kept as given."""
    mine = services.company_create(actor=rep, name="Mine Ltd")
    theirs = services.company_create(actor=rep, name="Theirs Ltd", owner=teammate)
    assert Company.objects.get(pk=mine.pk).owner == rep
    assert Company.objects.get(pk=theirs.pk).owner == teammate


def test_company_create_validates_the_row_and_saves_nothing_invalid(rep):
    """A company without a name, or with an unknown time zone, is refused before saving."""
    with pytest.raises(ValidationError) as blank:
        services.company_create(actor=rep, name="")
    with pytest.raises(ValidationError) as zone:
        services.company_create(actor=rep, name="Zoned", time_zone="Mars/Olympus")
    assert "name" in blank.value.message_dict
    assert "time_zone" in zone.value.message_dict
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    "fields", [{"first_name": "Ada"}, {"last_name": "Lovelace"}, {"email": "ada@x.example"}]
)
def test_contact_create_takes_a_name_or_an_email_and_the_actor_as_owner(rep, fields):
    """Any one of first name, last name or email is enough; the actor owns the contact."""
    contact = services.contact_create(actor=rep, company=CompanyFactory(owner=rep), **fields)
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.owner == rep
    assert {name: getattr(stored, name) for name in fields} == fields


def test_contact_create_without_a_name_or_email_is_refused_on_first_name(rep):
    """Neither a name nor an email address: a CadenceError on ``first_name``, nothing saved."""
    with pytest.raises(CadenceError) as refused:
        services.contact_create(actor=rep, company=CompanyFactory(owner=rep), title="CTO")
    assert refused.value.field == "first_name"
    assert not Contact.objects.exists()


# -- Custody: who may change the owner or the team -----------------------------------------------


@pytest.mark.parametrize(("actor", "allowed"), CUSTODIANS + NOT_CUSTODIANS)
def test_company_reassignment_is_for_the_owner_their_manager_and_admins(
    request, shared_company, teammate, actor, allowed
):
    """Handing the company to another owner is refused on ``owner_id`` to anyone else; the
    refusal saves nothing, not even the other fields sent along."""
    user = request.getfixturevalue(actor)
    data = {"owner": teammate, "industry": "Banking"}
    if allowed:
        services.company_update(actor=user, company=shared_company, data=data)
    else:
        with pytest.raises(PermissionDeniedError) as refused:
            services.company_update(actor=user, company=shared_company, data=data)
        assert refused.value.field == "owner_id"
    stored = Company.objects.get(pk=shared_company.pk)
    expected = (teammate, "Banking") if allowed else (shared_company.owner, "Retail")
    assert (stored.owner, stored.industry) == expected


@pytest.mark.parametrize(("actor", "allowed"), CUSTODIANS + NOT_CUSTODIANS)
def test_contact_unsharing_is_for_the_owner_their_manager_and_admins(
    request, shared_contact, team, actor, allowed
):
    """Taking the contact off the team is refused on ``team_id`` to anyone else."""
    user = request.getfixturevalue(actor)
    if allowed:
        services.contact_update(actor=user, contact=shared_contact, data={"team": None})
    else:
        with pytest.raises(PermissionDeniedError) as refused:
            services.contact_update(actor=user, contact=shared_contact, data={"team": None})
        assert refused.value.field == "team_id"
    assert Contact.objects.get(pk=shared_contact.pk).team == (None if allowed else team)


def test_a_teammate_edits_a_shared_lead_when_owner_and_team_stay_the_same(
    shared_company, shared_contact, teammate, rep, team
):
    """Sending the current owner and team along is no move: a teammate's edit goes through."""
    services.company_update(
        actor=teammate,
        company=shared_company,
        data={"owner": rep, "team": team, "industry": "Banking"},
    )
    services.contact_update(
        actor=teammate, contact=shared_contact, data={"owner": rep, "team": team, "title": "CFO"}
    )
    assert Company.objects.get(pk=shared_company.pk).industry == "Banking"
    assert Contact.objects.get(pk=shared_contact.pk).title == "CFO"


def test_moving_owner_and_team_at_once_is_refused_on_the_owner(shared_company, teammate):
    """Both moved by someone who may not: the refusal names the owner first."""
    with pytest.raises(PermissionDeniedError) as refused:
        services.company_update(
            actor=teammate, company=shared_company, data={"owner": teammate, "team": None}
        )
    assert refused.value.field == "owner_id"


# -- The name-or-email rule on update ------------------------------------------------------------


def test_contact_update_may_not_blank_every_name_and_the_email(shared_contact, rep):
    """Clearing the last of first name, last name and email is refused on ``first_name``;
    clearing one while another remains is allowed."""
    services.contact_update(actor=rep, contact=shared_contact, data={"last_name": "", "email": ""})
    with pytest.raises(CadenceError) as refused:
        services.contact_update(actor=rep, contact=shared_contact, data={"first_name": ""})
    assert refused.value.field == "first_name"
    stored = Contact.objects.get(pk=shared_contact.pk)
    assert (stored.first_name, stored.last_name, stored.email) == ("Ada", "", "")


# -- Deleting ------------------------------------------------------------------------------------


def test_company_delete_takes_its_contacts_and_contact_delete_only_the_one(rep):
    """A company goes with its contacts; deleting a contact leaves its company and the others."""
    company, other = CompanyFactory(owner=rep), CompanyFactory(owner=rep)
    doomed = ContactFactory(company=company, owner=rep)
    first, second = ContactFactory(company=other, owner=rep), ContactFactory(company=other)
    services.company_delete(company=company)
    services.contact_delete(contact=first)
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Contact.objects.filter(pk__in=[doomed.pk, first.pk]).exists()
    assert set(Contact.objects.values_list("pk", flat=True)) == {second.pk}
    assert Company.objects.filter(pk=other.pk).exists()


# -- Opting out and bouncing ---------------------------------------------------------------------


def test_the_first_opt_out_counts_and_a_second_changes_nothing(shared_contact):
    """The first call opts the contact out at the given time and returns True; a second, later
    call returns False and keeps the first time."""
    first = timezone.now() - datetime.timedelta(days=3)
    bystander = ContactFactory()
    assert services.contact_mark_opted_out(contact=shared_contact, at=first) is True
    again = first + datetime.timedelta(days=1)
    assert services.contact_mark_opted_out(contact=shared_contact, at=again) is False
    stored = Contact.objects.get(pk=shared_contact.pk)
    assert (stored.opted_out, stored.opted_out_at) == (True, first)
    assert Contact.objects.get(pk=bystander.pk).opted_out is False


def test_a_bounce_marks_only_that_contacts_address(shared_contact):
    """The contact's email status becomes bounced, and its updated time moves; others keep
    theirs. An unknown ID is no error."""
    bystander = ContactFactory(email_status=EmailStatus.VALID)
    before = timezone.now() - datetime.timedelta(days=1)
    Contact.objects.filter(pk=shared_contact.pk).update(updated_at=before)
    services.contact_mark_bounced(contact_id=shared_contact.pk)
    services.contact_mark_bounced(contact_id="00000000-0000-0000-0000-000000000000")
    stored = Contact.objects.get(pk=shared_contact.pk)
    assert stored.email_status == EmailStatus.BOUNCED
    assert stored.updated_at > before
    assert Contact.objects.get(pk=bystander.pk).email_status == EmailStatus.VALID
