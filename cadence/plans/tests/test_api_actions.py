"""The plan engine through the API: assignment, actions, activity logging, custom plans, tasks."""

import datetime

import pytest
from django.utils import timezone

from cadence.core.tests.api_helpers import API, assert_field_error
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

PLANS = f"{API}/plans/"


@pytest.fixture
def template(rep):
    strategy = ContactStrategyFactory(created_by=rep, name="Outbound")
    for number, kind in enumerate(["Email", "Call", "LinkedIn Message"], 1):
        StrategyStepFactory(
            strategy=strategy,
            step_number=number,
            delay_days=number - 1,
            activity_type=kind,
            subject_template="Hello {{ contact.first_name }} from {{ company.name }}",
        )
    return strategy


def contacts_of(user, count, **kwargs):
    company = CompanyFactory(owner=user, name="Acme")
    return [ContactFactory(company=company, owner=user, **kwargs) for _ in range(count)]


# -- Assignment -------------------------------------------------------------------------------


def test_assign_enrolls_many_and_reports_each_refusal(client_for, rep, outsider, template):
    """One call enrolls the eligible contacts; the others are listed with a reason."""
    fine = contacts_of(rep, 3)
    opted_out = ContactFactory(owner=rep, opted_out=True, opted_out_at=timezone.now())
    bounced = ContactFactory(owner=rep, email_status="bounced")
    active = ContactFactory(owner=rep)
    LeadContactPlanFactory(contact=active, strategy=template, user=rep)
    hidden = ContactFactory(owner=outsider)
    ids = [c.pk for c in [*fine, opted_out, bounced, active, hidden]]
    response = client_for(rep).post(
        f"{API}/strategies/{template.pk}/assign/",
        {"contact_ids": [str(i) for i in ids], "plan_start_date": "2030-01-07T09:00:00Z"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["enrolled"] == 3
    reasons = {row["contact_id"]: row["reason"] for row in body["skipped"]}
    assert "opted out" in reasons[str(opted_out.pk)]
    assert "bounced" in reasons[str(bounced.pk)]
    assert "already active" in reasons[str(active.pk)]
    assert reasons[str(hidden.pk)] == "Not found."
    plans = LeadContactPlan.objects.filter(pk__in=body["plan_ids"])
    assert {p.contact_id for p in plans} == {c.pk for c in fine}
    for plan in plans:
        assert plan.user == rep
        assert plan.current_step.step_number == 1
        assert plan.next_step_due_date == datetime.datetime(2030, 1, 7, 9, tzinfo=datetime.UTC)


def test_assign_companies_makes_company_wide_plans(client_for, rep, template):
    company = CompanyFactory(owner=rep)
    client = client_for(rep)
    url = f"{API}/strategies/{template.pk}/assign/"
    first = client.post(url, {"company_ids": [str(company.pk)]})
    assert first.json()["enrolled"] == 1
    plan = LeadContactPlan.objects.get(pk=first.json()["plan_ids"][0])
    assert (plan.company, plan.contact) == (company, None)
    again = client.post(url, {"company_ids": [str(company.pk)]})
    assert again.json()["enrolled"] == 0
    assert "already active" in again.json()["skipped"][0]["reason"]


def test_exclusive_strategy_and_cooldown_refuse_with_reasons(client_for, rep, template):
    busy, recent = contacts_of(rep, 2)
    other = ContactStrategyFactory(created_by=rep, name="Nurture")
    LeadContactPlanFactory(contact=busy, strategy=other, user=rep)
    finished = LeadContactPlanFactory(contact=recent, strategy=other, user=rep, status="Completed")
    assert finished.plan_start_date > timezone.now() - datetime.timedelta(days=1)
    template.exclusive = True
    template.cooldown_days = 30
    template.save()
    response = client_for(rep).post(
        f"{API}/strategies/{template.pk}/assign/",
        {"contact_ids": [str(busy.pk), str(recent.pk)]},
    )
    reasons = {row["contact_id"]: row["reason"] for row in response.json()["skipped"]}
    assert "exclusive" in reasons[str(busy.pk)] and "Nurture" in reasons[str(busy.pk)]
    assert "30 days" in reasons[str(recent.pk)]


def test_assign_ten_thousand_contacts_in_one_request(
    client_for, rep, template, django_assert_max_num_queries
):
    """Bulk assignment is one request whose queries come in batches, not one per contact
    (SQLite's 999-parameter limit makes its insert batches small: about 220 queries here,
    about 60 on PostgreSQL)."""
    company = CompanyFactory(owner=rep)
    contacts = ContactFactory.build_batch(10_000, company=company, owner=rep)
    type(contacts[0]).objects.bulk_create(contacts, batch_size=1000)
    ids = [str(c.pk) for c in contacts]
    with django_assert_max_num_queries(300):
        response = client_for(rep).post(
            f"{API}/strategies/{template.pk}/assign/", {"contact_ids": ids}
        )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["enrolled"] == 10_000
    assert LeadContactPlan.objects.filter(strategy=template).count() == 10_000


def test_assign_refuses_archived_custom_and_empty(client_for, rep, template):
    client = client_for(rep)
    contact = contacts_of(rep, 1)[0]
    empty = client.post(f"{API}/strategies/{template.pk}/assign/", {})
    assert_field_error(empty, "contact_ids", "Give the contacts")
    custom = ContactStrategyFactory(created_by=rep, is_template=False)
    response = client.post(
        f"{API}/strategies/{custom.pk}/assign/", {"contact_ids": [str(contact.pk)]}
    )
    assert_field_error(response, "strategy_id", "template")
    template.archived_at = timezone.now()
    template.save()
    response = client.post(
        f"{API}/strategies/{template.pk}/assign/", {"contact_ids": [str(contact.pk)]}
    )
    assert_field_error(response, "strategy_id", "archived")


def test_assign_to_another_teams_user_is_refused(client_for, rep, outsider, template):
    contact = contacts_of(rep, 1)[0]
    response = client_for(rep).post(
        f"{API}/strategies/{template.pk}/assign/",
        {"contact_ids": [str(contact.pk)], "user_id": str(outsider.pk)},
    )
    assert_field_error(response, "user_id")


def test_manager_assigns_plans_to_a_rep(client_for, manager, rep, template):
    contact = contacts_of(rep, 1)[0]
    response = client_for(manager).post(
        f"{API}/strategies/{template.pk}/assign/",
        {"contact_ids": [str(contact.pk)], "user_id": str(rep.pk)},
    )
    assert response.json()["enrolled"] == 1
    assert LeadContactPlan.objects.get().user == rep


# -- Actions ----------------------------------------------------------------------------------


def test_plan_actions_move_the_plan_and_refuse_illegal_ones(client_for, rep, template):
    plan = LeadContactPlanFactory(contact=contacts_of(rep, 1)[0], strategy=template, user=rep)
    client = client_for(rep)
    url = f"{PLANS}{plan.pk}/"
    assert client.post(f"{url}pause/").json()["status"] == "Paused"
    resumed = client.post(f"{url}resume/")
    assert resumed.json()["status"] == "Not Started"
    assert client.post(f"{url}start/").json()["status"] == "In Progress"
    skipped = client.post(f"{url}skip/").json()
    assert skipped["current_step_number"] == 2
    aborted = client.post(f"{url}abort/").json()
    assert (aborted["status"], aborted["exit_reason"], aborted["next_step_due_date"]) == (
        "Aborted",
        "manual",
        None,
    )
    refused = client.post(f"{url}resume/")
    assert refused.status_code == 400
    assert "final" in refused.json()["status"][0]


def test_actions_on_someone_elses_plan_are_404(client_for, rep, outsider, template):
    plan = LeadContactPlanFactory(contact=contacts_of(outsider, 1)[0], strategy=template)
    assert client_for(rep).post(f"{PLANS}{plan.pk}/pause/").status_code == 404
    plan.refresh_from_db()
    assert plan.status == "Not Started"


# -- Logging activities -----------------------------------------------------------------------


def test_logging_the_current_step_advances_the_plan(client_for, rep, template):
    plan = LeadContactPlanFactory(contact=contacts_of(rep, 1)[0], strategy=template, user=rep)
    step1 = template.steps.get(step_number=1)
    response = client_for(rep).post(
        f"{API}/activities/",
        {
            "plan_id": str(plan.pk),
            "step_id": str(step1.pk),
            "activity_type": "Email",
            "outcome": "Sent",
            "occurred_at": "2030-03-04T10:00:00Z",
        },
    )
    assert response.status_code == 201, response.content
    body = client_for(rep).get(f"{PLANS}{plan.pk}/").json()
    assert body["status"] == "In Progress"
    assert body["current_step_number"] == 2
    assert body["next_step_due_date"] == "2030-03-05T10:00:00Z"


def test_logging_a_later_step_needs_skip_to(client_for, rep, template):
    plan = LeadContactPlanFactory(contact=contacts_of(rep, 1)[0], strategy=template, user=rep)
    step3 = template.steps.get(step_number=3)
    data = {"plan_id": str(plan.pk), "step_id": str(step3.pk), "activity_type": "Call"}
    client = client_for(rep)
    assert_field_error(client.post(f"{API}/activities/", data), "step_id", "skip_to")
    response = client.post(f"{API}/activities/", {**data, "skip_to": True})
    assert response.status_code == 201, response.content
    assert client.get(f"{PLANS}{plan.pk}/").json()["status"] == "Completed"


def test_a_logged_reply_ends_the_plan(client_for, rep, template):
    plan = LeadContactPlanFactory(contact=contacts_of(rep, 1)[0], strategy=template, user=rep)
    client_for(rep).post(
        f"{API}/activities/",
        {
            "contact_id": str(plan.contact_id),
            "activity_type": "Email",
            "direction": "inbound",
            "outcome": "Replied",
        },
    )
    body = client_for(rep).get(f"{PLANS}{plan.pk}/").json()
    assert (body["status"], body["exit_reason"]) == ("Completed", "replied")


def test_an_activity_that_completed_a_step_keeps_its_plan(client_for, rep, template):
    plan = LeadContactPlanFactory(contact=contacts_of(rep, 1)[0], strategy=template, user=rep)
    client = client_for(rep)
    step1 = template.steps.get(step_number=1)
    activity = client.post(
        f"{API}/activities/",
        {"plan_id": str(plan.pk), "step_id": str(step1.pk), "activity_type": "Email"},
    ).json()
    response = client.patch(f"{API}/activities/{activity['activity_id']}/", {"step_id": None})
    assert_field_error(response, "step_id", "completed a step")
    assert (
        client.patch(
            f"{API}/activities/{activity['activity_id']}/", {"description": "fixed typo"}
        ).status_code
        == 200
    )


# -- Custom plans -----------------------------------------------------------------------------


def test_custom_plan_has_its_own_private_steps(client_for, rep):
    contact = contacts_of(rep, 1)[0]
    response = client_for(rep).post(
        f"{PLANS}custom/",
        {
            "contact_id": str(contact.pk),
            "plan_start_date": "2030-01-01T08:00:00Z",
            "steps": [
                {"activity_type": "Call", "delay_days": 1},
                {"activity_type": "Email", "delay_days": 3},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["next_step_due_date"] == "2030-01-02T08:00:00Z"
    strategy = LeadContactPlan.objects.get(pk=body["plan_id"]).strategy
    assert strategy.is_template is False
    assert list(strategy.steps.values_list("activity_type", flat=True)) == ["Call", "Email"]
    templates = client_for(rep).get(f"{API}/strategies/", {"is_template": True}).json()
    assert strategy.pk not in {row["strategy_id"] for row in templates["results"]}


def test_custom_plan_needs_steps(client_for, rep):
    contact = contacts_of(rep, 1)[0]
    response = client_for(rep).post(
        f"{PLANS}custom/", {"contact_id": str(contact.pk), "steps": []}, format="json"
    )
    assert_field_error(response, "steps", "")


# -- Tasks ------------------------------------------------------------------------------------


def test_task_list_windows(client_for, rep, template):
    """Overdue, today and upcoming by the user's own calendar day, each with its lead, step and
    rendered subject."""
    rep.time_zone = "UTC"
    rep.save()
    now = timezone.now()
    today_noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    contacts = contacts_of(rep, 4, first_name="Ada")
    dues = {
        "overdue": today_noon - datetime.timedelta(days=2),
        "today": today_noon,
        "upcoming": today_noon + datetime.timedelta(days=3),
        "far": today_noon + datetime.timedelta(days=30),
    }
    plans = {
        key: LeadContactPlanFactory(
            contact=contact, strategy=template, user=rep, next_step_due_date=due
        )
        for (key, due), contact in zip(dues.items(), contacts, strict=True)
    }
    client = client_for(rep)

    def ids(**params):
        response = client.get(f"{API}/tasks/", params)
        assert response.status_code == 200, response.content
        return [row["plan_id"] for row in response.json()]

    assert ids(window="due") == [str(plans["overdue"].pk)]
    assert ids(window="today") == [str(plans["today"].pk)]
    assert ids(window="upcoming") == [str(plans["upcoming"].pk)]
    assert ids(window="upcoming", days=40) == [str(plans["upcoming"].pk), str(plans["far"].pk)]
    everything = client.get(f"{API}/tasks/").json()
    assert [row["window"] for row in everything] == ["due", "today", "upcoming"]
    row = everything[0]
    assert row["subject"] == "Hello Ada from Acme"
    assert (row["step_number"], row["activity_type"], row["company_name"]) == (1, "Email", "Acme")


def test_task_list_leaves_out_paused_finished_and_others_plans(client_for, rep, outsider, template):
    past = timezone.now() - datetime.timedelta(days=1)
    contact = contacts_of(rep, 1)[0]
    LeadContactPlanFactory(
        contact=contact, strategy=template, user=rep, status="Paused", next_step_due_date=past
    )
    LeadContactPlanFactory(
        contact=contacts_of(outsider, 1)[0], strategy=template, next_step_due_date=past
    )
    assert client_for(rep).get(f"{API}/tasks/").json() == []


@pytest.mark.parametrize("query", ["window=soon", "days=-1", "days=x", "days=9999"])
def test_task_list_bad_parameters_are_400(client_for, rep, query):
    assert client_for(rep).get(f"{API}/tasks/?{query}").status_code == 400


def _overdue_plan(user, template, **kwargs):
    due = timezone.now() - datetime.timedelta(days=1)
    contact = contacts_of(user, 1, **kwargs)[0]
    return LeadContactPlanFactory(
        contact=contact, strategy=template, user=user, next_step_due_date=due
    )


def test_team_scope_lists_the_managers_team_labelled_by_owner(
    client_for, rep, teammate, manager, outsider, template
):
    """``scope=team``: the tasks of the manager's team and their own, each with its owner's
    ``user_id`` and window; another team's are not there."""
    mine = _overdue_plan(manager, template)
    reps = _overdue_plan(rep, template)
    teammates = _overdue_plan(teammate, template)
    _overdue_plan(outsider, template)

    response = client_for(manager).get(f"{API}/tasks/", {"scope": "team"})

    assert response.status_code == 200, response.content
    rows = {row["plan_id"]: row for row in response.json()}
    assert set(rows) == {str(mine.pk), str(reps.pk), str(teammates.pk)}
    assert rows[str(reps.pk)]["user_id"] == str(rep.pk)
    assert {row["window"] for row in rows.values()} == {"due"}
    assert (
        client_for(manager).get(f"{API}/tasks/", {"scope": "team", "window": "today"}).json() == []
    )
    # Without a scope, still only the manager's own.
    assert [row["plan_id"] for row in client_for(manager).get(f"{API}/tasks/").json()] == [
        str(mine.pk)
    ]


def test_a_rep_asking_for_the_team_scope_is_refused(client_for, rep, teammate, template):
    _overdue_plan(teammate, template)
    response = client_for(rep).get(f"{API}/tasks/", {"scope": "team"})
    assert response.status_code == 403
    assert "managers and admins" in response.json()["detail"]


def test_admins_see_every_team_or_pick_one(
    client_for, rep, outsider, manager, admin_user, other_team, template
):
    north = _overdue_plan(rep, template)
    south = _overdue_plan(outsider, template)
    client = client_for(admin_user)

    everyone = client.get(f"{API}/tasks/", {"scope": "team"}).json()
    assert {row["plan_id"] for row in everyone} == {str(north.pk), str(south.pk)}
    picked = client.get(f"{API}/tasks/", {"scope": "team", "team_id": str(other_team.pk)})
    assert [row["plan_id"] for row in picked.json()] == [str(south.pk)]

    # Only admins pick a team, and only for the team scope.
    refused = client_for(manager).get(
        f"{API}/tasks/", {"scope": "team", "team_id": str(other_team.pk)}
    )
    assert refused.status_code == 403
    assert_field_error(client.get(f"{API}/tasks/", {"team_id": str(other_team.pk)}), "team_id", "")


@pytest.mark.parametrize(
    "query", ["scope=everyone", "scope=team&team_id=nope", f"scope=team&team_id={'0' * 32}"]
)
def test_team_scope_bad_parameters_are_400(client_for, admin_user, query):
    assert client_for(admin_user).get(f"{API}/tasks/?{query}").status_code == 400


def test_team_scope_query_count_does_not_grow_with_tasks(
    client_for, team, manager, template, django_assert_max_num_queries
):
    from cadence.accounts.tests.factories import UserFactory

    for index, zone in enumerate(("Europe/Berlin", "Asia/Tokyo", "UTC")):
        person = UserFactory(username=f"member{index}", team=team, time_zone=zone)
        for _ in range(5):
            _overdue_plan(person, template)
    client = client_for(manager)

    # The people, their counts and one query per window.
    with django_assert_max_num_queries(5):
        response = client.get(f"{API}/tasks/", {"scope": "team"})

    assert len(response.json()) == 15
