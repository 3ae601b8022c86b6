"""API tests for lead contact plans: who sees which, creating them on visible leads, status
changes with the specification's strings, filtering and ordering."""

import datetime

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cadence.core.tests.api_helpers import (
    API,
    ScopedEndpointTests,
    as_role,
    assert_field_error,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
    page_ids,
)
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.choices import PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

PLANS = f"{API}/plans/"
SPEC_FIELDS = {
    "plan_id",
    "company_id",
    "contact_id",
    "strategy_id",
    "user_id",
    "status",
    "current_step_id",
    "plan_start_date",
    "next_step_due_date",
}
ALL_PLANS = {"rep_plan", "teammate_plan", "manager_plan", "outsider_plan", "admin_plan"}
# A rep sees the plans they run, a manager their team's, an admin all.
PLAN_VISIBLE = {
    "rep": {"rep_plan"},
    "teammate": {"teammate_plan"},
    "manager": {"rep_plan", "teammate_plan", "manager_plan"},
    "outsider": {"outsider_plan"},
    "other_manager": {"outsider_plan"},
    "admin_user": ALL_PLANS,
}


def contact_of(user, **kwargs):
    """A contact owned by ``user``, at a company owned by them."""
    return ContactFactory(owner=user, company=CompanyFactory(owner=user), **kwargs)


def plan_for(user, **kwargs):
    kwargs.setdefault("contact", contact_of(user))
    return LeadContactPlanFactory(user=user, **kwargs)


@pytest.fixture
def template(admin_user):
    """A template everyone sees: an email on day 2, then a call three days later."""
    strategy = ContactStrategyFactory(created_by=admin_user, is_template=True, name="Playbook")
    StrategyStepFactory(strategy=strategy, step_number=1, delay_days=2, activity_type="Email")
    StrategyStepFactory(strategy=strategy, step_number=2, delay_days=3, activity_type="Call")
    return strategy


class TestPlanScope(ScopedEndpointTests):
    url = PLANS
    pk_field = "plan_id"
    visible = PLAN_VISIBLE
    patch = {"status": PlanStatus.PAUSED}

    @pytest.fixture
    def objects(self, rep, teammate, manager, outsider, admin_user, template):
        owners = {
            "rep_plan": rep,
            "teammate_plan": teammate,
            "manager_plan": manager,
            "outsider_plan": outsider,
            "admin_plan": admin_user,
        }
        return {
            key: plan_for(user, strategy=template, contact=contact_of(user, last_name=key))
            for key, user in owners.items()
        }

    def secrets(self, obj):
        return [str(obj.pk), obj.contact.last_name, str(obj.contact_id)]


# -- Creating ---------------------------------------------------------------------------------


def test_plan_starts_at_the_first_step_of_its_strategy(client_for, rep, template):
    """A new plan on a visible contact and strategy is Not Started, at step 1, due its delay
    after the start; company and user follow from the contact and the requester; every
    specification field is there and date-times carry their offset."""
    contact = contact_of(rep)
    start = "2030-03-04T09:00:00+01:00"
    response = client_for(rep).post(
        PLANS,
        {"contact_id": str(contact.pk), "strategy_id": str(template.pk), "plan_start_date": start},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) >= SPEC_FIELDS
    assert data["status"] == "Not Started"
    assert data["user_id"] == str(rep.pk)
    assert data["company_id"] == str(contact.company_id)
    assert data["current_step_id"] == str(template.steps.get(step_number=1).pk)
    assert data["current_step_number"] == 1
    assert_iso_with_offset(
        data["plan_start_date"], data["next_step_due_date"], data["created_at"], data["updated_at"]
    )
    due = parse_datetime(data["next_step_due_date"])
    assert due == parse_datetime(start) + datetime.timedelta(days=2)


def test_plan_on_a_contact_shared_with_the_team(client_for, rep, teammate, team, template):
    """A rep may put a contact a teammate shared with the team on a strategy."""
    contact = contact_of(teammate, team=team)
    response = client_for(rep).post(
        PLANS, {"contact_id": str(contact.pk), "strategy_id": str(template.pk)}
    )
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == str(rep.pk)


@pytest.mark.parametrize(
    ("field", "reference"),
    [
        ("contact_id", "outsider_contact"),
        ("contact_id", "teammate_contact"),
        ("company_id", "outsider_company"),
        ("strategy_id", "outsider_custom"),
        ("strategy_id", "teammate_custom"),
        ("user_id", "teammate"),
        ("user_id", "outsider"),
    ],
)
def test_plan_referencing_what_the_rep_may_not_see_does_not_exist(
    client_for, rep, teammate, outsider, template, field, reference
):
    """A plan on another team's (or an unshared teammate's) contact or company, on a custom
    strategy the rep does not see, or for another user, is a 400 on that field saying it does
    not exist; no plan is created."""
    refs = {
        "outsider_contact": lambda: contact_of(outsider).pk,
        "teammate_contact": lambda: contact_of(teammate).pk,
        "outsider_company": lambda: CompanyFactory(owner=outsider).pk,
        "outsider_custom": lambda: (
            ContactStrategyFactory(created_by=outsider, is_template=False).pk
        ),
        "teammate_custom": lambda: (
            ContactStrategyFactory(created_by=teammate, is_template=False).pk
        ),
        "teammate": lambda: teammate.pk,
        "outsider": lambda: outsider.pk,
    }
    data = {"contact_id": str(contact_of(rep).pk), "strategy_id": str(template.pk)}
    if field == "company_id":
        del data["contact_id"]
    data[field] = str(refs[reference]())
    response = client_for(rep).post(PLANS, data)
    assert_field_error(response, field)
    assert not LeadContactPlan.objects.exists()


@pytest.mark.parametrize(
    ("actor", "assignee", "status"),
    [
        ("rep", "rep", 201),
        ("rep", "teammate", 400),
        ("manager", "rep", 201),
        ("manager", "outsider", 400),
        ("other_manager", "rep", 400),
        ("admin_user", "outsider", 201),
    ],
)
def test_plan_is_assigned_only_within_the_actors_reach(
    request, client_for, template, actor, assignee, status
):
    """A rep runs plans themselves; a manager assigns them within the team; an admin to
    anyone."""
    actor_user, assignee_user = as_role(request, actor), as_role(request, assignee)
    contact = contact_of(actor_user)
    response = client_for(actor_user).post(
        PLANS,
        {
            "contact_id": str(contact.pk),
            "strategy_id": str(template.pk),
            "user_id": str(assignee_user.pk),
        },
    )
    if status == 400:
        assert_field_error(response, "user_id")
    else:
        assert response.status_code == 201, response.content
        assert response.json()["user_id"] == str(assignee_user.pk)


def test_plan_on_a_company_without_contact(client_for, rep, template):
    """A plan may target a company alone."""
    company = CompanyFactory(owner=rep)
    response = client_for(rep).post(
        PLANS, {"company_id": str(company.pk), "strategy_id": str(template.pk)}
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact_id"] is None


def test_plan_without_strategy(client_for, rep):
    """A plan may follow no strategy yet: it has no current step and nothing due."""
    response = client_for(rep).post(PLANS, {"contact_id": str(contact_of(rep).pk)})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["strategy_id"], data["current_step_id"], data["next_step_due_date"]) == (
        None,
        None,
        None,
    )


def test_new_plan_cannot_choose_its_status(client_for, rep, template):
    """Every plan starts Not Started; a status on creation is a 400."""
    response = client_for(rep).post(
        PLANS,
        {
            "contact_id": str(contact_of(rep).pk),
            "strategy_id": str(template.pk),
            "status": "In Progress",
        },
    )
    assert_field_error(response, "status", "Not Started")


def test_archived_strategy_takes_no_new_plans(client_for, rep, template):
    """A plan on an archived strategy is a 400 on ``strategy_id``."""
    template.archived_at = timezone.now()
    template.save()
    response = client_for(rep).post(
        PLANS, {"contact_id": str(contact_of(rep).pk), "strategy_id": str(template.pk)}
    )
    assert_field_error(response, "strategy_id", "archived")


def test_someone_elses_custom_strategy_is_not_reused(client_for, rep, outsider):
    """Running a plan on another team's custom strategy shows it, but a new plan cannot take
    it: only templates and one's own custom strategies start plans."""
    custom = ContactStrategyFactory(created_by=outsider, is_template=False)
    plan_for(rep, strategy=custom, contact=contact_of(rep, last_name="Old"))
    client = client_for(rep)
    assert client.get(f"{API}/strategies/{custom.pk}/").status_code == 200
    response = client.post(
        PLANS, {"contact_id": str(contact_of(rep).pk), "strategy_id": str(custom.pk)}
    )
    assert_field_error(response, "strategy_id")


def test_contact_is_active_once_per_strategy(client_for, rep, template):
    """A second active plan for the same contact and strategy is a 400 on ``contact_id``."""
    contact = contact_of(rep)
    data = {"contact_id": str(contact.pk), "strategy_id": str(template.pk)}
    client = client_for(rep)
    assert client.post(PLANS, data).status_code == 201
    assert_field_error(client.post(PLANS, data), "contact_id", "already active")


# -- Changing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["In Progress", "Paused", "Completed", "Aborted"])
def test_status_uses_the_specifications_strings(client_for, rep, template, status):
    """A plan's status is one of 'Not Started', 'In Progress', 'Completed', 'Paused',
    'Aborted', written and read as those exact strings."""
    plan = plan_for(rep, strategy=template)
    response = client_for(rep).patch(f"{PLANS}{plan.pk}/", {"status": status})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == status
    plan.refresh_from_db()
    assert plan.status == status


@pytest.mark.parametrize("status", ["paused", "PAUSED", "Done", ""])
def test_status_outside_the_specification_is_refused(client_for, rep, template, status):
    """Any other status string is a 400 on ``status``."""
    plan = plan_for(rep, strategy=template)
    response = client_for(rep).patch(f"{PLANS}{plan.pk}/", {"status": status})
    assert_field_error(response, "status", "")
    plan.refresh_from_db()
    assert plan.status == "Not Started"


@pytest.mark.parametrize("final", ["Completed", "Aborted"])
def test_finished_plan_stays_finished(client_for, rep, template, final):
    """Completed and Aborted are final: moving such a plan is a 400 on ``status``."""
    plan = plan_for(rep, strategy=template, status=final)
    response = client_for(rep).patch(f"{PLANS}{plan.pk}/", {"status": "In Progress"})
    assert_field_error(response, "status", "final")


@pytest.mark.parametrize("field", ["contact_id", "company_id", "strategy_id"])
def test_lead_and_strategy_of_a_plan_are_fixed(client_for, rep, template, field):
    """The contact, company and strategy of an existing plan cannot change: 400."""
    plan = plan_for(rep, strategy=template)
    other = {
        "contact_id": lambda: contact_of(rep).pk,
        "company_id": lambda: CompanyFactory(owner=rep).pk,
        "strategy_id": lambda: ContactStrategyFactory(created_by=rep).pk,
    }[field]()
    response = client_for(rep).patch(f"{PLANS}{plan.pk}/", {field: str(other)})
    assert_field_error(response, field, "cannot change")


@pytest.mark.parametrize(
    ("actor", "assignee", "status"),
    [("rep", "teammate", 400), ("manager", "teammate", 200), ("manager", "outsider", 400)],
)
def test_plan_is_reassigned_only_within_reach(request, client_for, rep, actor, assignee, status):
    """A rep cannot hand their plan to someone else; their manager may, within the team."""
    plan = plan_for(rep)
    new_user = as_role(request, assignee)
    response = client_for(as_role(request, actor)).patch(
        f"{PLANS}{plan.pk}/", {"user_id": str(new_user.pk)}
    )
    plan.refresh_from_db()
    if status == 400:
        assert_field_error(response, "user_id")
        assert plan.user == rep
    else:
        assert response.status_code == 200, response.content
        assert plan.user == new_user


# -- Filtering, ordering, pagination, query budget -------------------------------------------


@pytest.fixture
def mixed_plans(rep, template):
    """Three plans of the rep, due in 1, 3 and 2 days; the second paused, the third on another
    strategy."""
    other = ContactStrategyFactory(created_by=rep)
    now = timezone.now()
    return [
        plan_for(rep, strategy=template, next_step_due_date=now + datetime.timedelta(days=1)),
        plan_for(
            rep,
            strategy=template,
            status=PlanStatus.PAUSED,
            next_step_due_date=now + datetime.timedelta(days=3),
        ),
        plan_for(rep, strategy=other, next_step_due_date=now + datetime.timedelta(days=2)),
    ]


def test_plans_filter_by_status(client_for, rep, mixed_plans):
    """``?status=Paused`` lists the paused plans; several statuses may be asked for."""
    client = client_for(rep)
    assert list_ids(client, PLANS, "plan_id", status="Paused") == {str(mixed_plans[1].pk)}
    response = client.get(PLANS, {"status": ["Paused", "Not Started"]})
    assert response.json()["count"] == 3


def test_plans_filter_by_strategy_and_contact(client_for, rep, template, mixed_plans):
    """``?strategy_id=`` and ``?contact_id=`` narrow the list."""
    client = client_for(rep)
    assert list_ids(client, PLANS, "plan_id", strategy_id=str(template.pk)) == {
        str(mixed_plans[0].pk),
        str(mixed_plans[1].pk),
    }
    contact = mixed_plans[2].contact_id
    assert list_ids(client, PLANS, "plan_id", contact_id=str(contact)) == {str(mixed_plans[2].pk)}


def test_manager_filters_the_team_plans_by_user(client_for, manager, rep, teammate, template):
    """A manager lists one team member's plans with ``?user_id=``; another team's user gives
    nothing."""
    mine = plan_for(rep, strategy=template)
    plan_for(teammate, strategy=template)
    client = client_for(manager)
    assert list_ids(client, PLANS, "plan_id", user_id=str(rep.pk)) == {str(mine.pk)}


def test_plans_order_by_next_due_date(client_for, rep, mixed_plans):
    """Plans come soonest-due first; ``?ordering=-next_step_due_date`` reverses that."""
    client = client_for(rep)
    expected = [str(mixed_plans[i].pk) for i in (0, 2, 1)]
    assert page_ids(client.get(PLANS), "plan_id") == expected
    reverse = client.get(PLANS, {"ordering": "-next_step_due_date"})
    assert page_ids(reverse, "plan_id") == expected[::-1]


def test_plan_list_is_paginated(client_for, rep, template):
    """``page_size`` splits the plans over pages with ``count`` and ``next``."""
    for _ in range(5):
        plan_for(rep, strategy=template)
    page = client_for(rep).get(PLANS, {"page_size": 2}).json()
    assert page["count"] == 5
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_plan_list_query_budget(
    request, client_for, rep, template, django_assert_max_num_queries, role
):
    """Listing plans (with company, contact, strategy and step names) costs a fixed number of
    queries."""
    step = template.steps.get(step_number=1)
    assert_list_query_budget(
        client_for(as_role(request, role)),
        PLANS,
        make_rows=lambda n: [plan_for(rep, strategy=template, current_step=step) for _ in range(n)],
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
