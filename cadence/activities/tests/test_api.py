"""API tests for activities and reminders: who sees which, and what they may be linked to."""

import datetime

import pytest
from django.utils import timezone

from cadence.activities.models import Activity, Reminder
from cadence.activities.tests.factories import ActivityFactory, ReminderFactory
from cadence.core.tests.api_helpers import (
    API,
    UNKNOWN_ID,
    ScopedEndpointTests,
    as_role,
    assert_field_error,
    assert_hidden,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
    page_ids,
)
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

ACTIVITIES = f"{API}/activities/"
REMINDERS = f"{API}/reminders/"
OWNERS = ("rep", "teammate", "manager", "outsider", "admin_user")
ALL = set(OWNERS)
# Activities and reminders are seen like plans: a rep's own, a manager's team's, an admin's all.
# Keys are the fixture name of the user each object belongs to.
VISIBLE = {
    "rep": {"rep"},
    "teammate": {"teammate"},
    "manager": {"rep", "teammate", "manager"},
    "outsider": {"outsider"},
    "other_manager": {"outsider"},
    "admin_user": ALL,
}


def contact_of(user, **kwargs):
    return ContactFactory(owner=user, company=CompanyFactory(owner=user), **kwargs)


@pytest.fixture
def template(admin_user):
    """A template everyone sees, with two steps."""
    strategy = ContactStrategyFactory(created_by=admin_user, is_template=True)
    StrategyStepFactory(strategy=strategy, step_number=1)
    StrategyStepFactory(strategy=strategy, step_number=2)
    return strategy


@pytest.fixture
def plans(request, template):
    """One plan on the template per user, on a contact of theirs."""
    made = {}
    for role in OWNERS:
        user = as_role(request, role)
        made[role] = LeadContactPlanFactory(user=user, contact=contact_of(user), strategy=template)
    return made


@pytest.fixture
def hidden_step(outsider):
    """A step of a custom strategy of another team: no rep of Team North may see it."""
    strategy = ContactStrategyFactory(created_by=outsider, is_template=False)
    return StrategyStepFactory(strategy=strategy, step_number=1)


class TestActivityScope(ScopedEndpointTests):
    url = ACTIVITIES
    pk_field = "activity_id"
    visible = VISIBLE
    patch = {"subject": "Changed subject"}

    @pytest.fixture
    def objects(self, plans):
        return {
            role: ActivityFactory(
                plan=plan,
                contact=plan.contact,
                company=plan.company,
                user=plan.user,
                subject=f"Call with {role}",
                description=f"secret notes of {role}",
            )
            for role, plan in plans.items()
        }

    def secrets(self, obj):
        return [str(obj.pk), obj.subject, obj.description, str(obj.plan_id)]


class TestReminderScope(ScopedEndpointTests):
    url = REMINDERS
    pk_field = "reminder_id"
    visible = VISIBLE
    patch = {"message": "Changed message"}

    @pytest.fixture
    def objects(self, plans):
        return {
            role: ReminderFactory(user=plan.user, plan=plan, message=f"Remind {role} privately")
            for role, plan in plans.items()
        }

    def secrets(self, obj):
        return [str(obj.pk), obj.message, str(obj.plan_id)]


# -- Activities: creating ---------------------------------------------------------------------


def test_activity_on_a_plan_takes_its_lead(client_for, rep, plans, template):
    """An activity logged against the rep's plan and its step gets the plan's contact and
    company, belongs to the rep, and reads with the specification's names and offset
    timestamps."""
    plan = plans["rep"]
    step = template.steps.get(step_number=1)
    response = client_for(rep).post(
        ACTIVITIES,
        {
            "plan_id": str(plan.pk),
            "step_id": str(step.pk),
            "activity_type": "Email",
            "outcome": "Sent",
            "occurred_at": "2030-01-02T10:00:00+02:00",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert {"activity_id", "company_id", "contact_id", "user_id", "plan_id", "step_id"} <= set(data)
    assert data["activity_type"] == "Email"
    assert data["contact_id"] == str(plan.contact_id)
    assert data["company_id"] == str(plan.company_id)
    assert data["user_id"] == str(rep.pk)
    assert data["step_id"] == str(step.pk)
    assert_iso_with_offset(data["occurred_at"], data["created_at"], data["updated_at"])
    assert data["occurred_at"] in ("2030-01-02T08:00:00Z", "2030-01-02T08:00:00+00:00")


@pytest.mark.parametrize(
    ("field", "reference"),
    [
        ("plan_id", "teammate_plan"),
        ("plan_id", "outsider_plan"),
        ("contact_id", "outsider_contact"),
        ("company_id", "outsider_company"),
        ("user_id", "teammate"),
        ("step_id", "hidden_step"),
    ],
)
def test_activity_referencing_what_the_rep_may_not_see_does_not_exist(
    client_for, rep, plans, hidden_step, field, reference
):
    """An activity on another rep's plan, another team's contact or company, for another user,
    or at a step of a strategy the rep cannot see, is a 400 on that field saying it does not
    exist; nothing is logged."""
    refs = {
        "teammate_plan": plans["teammate"].pk,
        "outsider_plan": plans["outsider"].pk,
        "outsider_contact": plans["outsider"].contact_id,
        "outsider_company": plans["outsider"].company_id,
        "teammate": plans["teammate"].user_id,
        "hidden_step": hidden_step.pk,
    }
    data = {"activity_type": "Call"}
    if field == "user_id" or field == "step_id":
        data["plan_id"] = str(plans["rep"].pk)
    data[field] = str(refs[reference])
    response = client_for(rep).post(ACTIVITIES, data)
    assert_field_error(response, field)
    assert not Activity.objects.exists()


def test_activity_step_must_belong_to_the_plans_strategy(client_for, rep, plans):
    """A visible step of another strategy than the plan's is a 400 on ``step_id``."""
    other = StrategyStepFactory(strategy=ContactStrategyFactory(created_by=rep), step_number=1)
    LeadContactPlanFactory(user=rep, contact=contact_of(rep), strategy=other.strategy)
    response = client_for(rep).post(
        ACTIVITIES,
        {"plan_id": str(plans["rep"].pk), "step_id": str(other.pk), "activity_type": "Call"},
    )
    assert_field_error(response, "step_id", "not part of the plan")


def test_activity_needs_a_lead(client_for, rep):
    """An activity without a company, contact or plan is a 400 on ``company_id``."""
    response = client_for(rep).post(ACTIVITIES, {"activity_type": "Call"})
    assert_field_error(response, "company_id", "")


def test_activity_on_a_shared_contact(client_for, rep, teammate, team):
    """A rep logs an activity on a contact a teammate shared with the team; it is the rep's."""
    contact = contact_of(teammate, team=team)
    response = client_for(rep).post(
        ACTIVITIES, {"contact_id": str(contact.pk), "activity_type": "Call", "outcome": "Connected"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == str(rep.pk)
    assert response.json()["company_id"] == str(contact.company_id)


@pytest.mark.parametrize(
    ("actor", "for_user", "status"),
    [("manager", "rep", 201), ("admin_user", "outsider", 201), ("other_manager", "rep", 400)],
)
def test_activity_logged_for_a_team_member(request, client_for, plans, actor, for_user, status):
    """A manager logs an activity for a team member on their plan; an admin for anyone; a
    manager of another team cannot."""
    plan = plans[for_user]
    response = client_for(as_role(request, actor)).post(
        ACTIVITIES,
        {"plan_id": str(plan.pk), "user_id": str(plan.user_id), "activity_type": "Call"},
    )
    if status == 400:
        assert response.status_code == 400
        assert {"plan_id", "user_id"} <= set(response.json())
    else:
        assert response.status_code == 201, response.content
        assert response.json()["user_id"] == str(plan.user_id)


def test_activity_cannot_be_moved_to_a_hidden_plan(client_for, rep, plans):
    """Changing an activity's plan to another rep's plan is a 400; the activity stays put."""
    activity = ActivityFactory(
        plan=plans["rep"], contact=plans["rep"].contact, user=plans["rep"].user
    )
    response = client_for(rep).patch(
        f"{ACTIVITIES}{activity.pk}/", {"plan_id": str(plans["teammate"].pk)}
    )
    assert_field_error(response, "plan_id")
    activity.refresh_from_db()
    assert activity.plan == plans["rep"]


# -- Activities: filtering, ordering, query budget ------------------------------------------


def test_activities_filter_by_plan_and_type(client_for, rep, plans):
    """``?plan_id=`` lists a plan's activities; ``?activity_type=`` narrows by channel; another
    rep's plan gives nothing."""
    plan = plans["rep"]
    call = ActivityFactory(plan=plan, contact=plan.contact, user=rep, activity_type="Call")
    email = ActivityFactory(plan=plan, contact=plan.contact, user=rep, activity_type="Email")
    ActivityFactory(contact=contact_of(rep), user=rep)
    client = client_for(rep)
    assert list_ids(client, ACTIVITIES, "activity_id", plan_id=str(plan.pk)) == {
        str(call.pk),
        str(email.pk),
    }
    assert list_ids(
        client, ACTIVITIES, "activity_id", plan_id=str(plan.pk), activity_type="Email"
    ) == {str(email.pk)}
    teammate_plan = str(plans["teammate"].pk)
    assert list_ids(client, ACTIVITIES, "activity_id", plan_id=teammate_plan) == set()


def test_activities_are_newest_first_unless_asked(client_for, rep):
    """Activities list newest first; ``?ordering=occurred_at`` gives oldest first."""
    contact = contact_of(rep)
    now = timezone.now()
    made = [
        ActivityFactory(contact=contact, user=rep, occurred_at=now - datetime.timedelta(days=d))
        for d in (2, 0, 1)
    ]
    client = client_for(rep)
    newest_first = [str(made[i].pk) for i in (1, 2, 0)]
    assert page_ids(client.get(ACTIVITIES), "activity_id") == newest_first
    oldest_first = page_ids(client.get(ACTIVITIES, {"ordering": "occurred_at"}), "activity_id")
    assert oldest_first == newest_first[::-1]


def test_activity_list_is_paginated(client_for, rep):
    """``page_size`` splits the activities over pages with ``count`` and ``next``."""
    contact = contact_of(rep)
    ActivityFactory.create_batch(7, contact=contact, user=rep)
    page = client_for(rep).get(ACTIVITIES, {"page_size": 3, "page": 3}).json()
    assert page["count"] == 7
    assert len(page["results"]) == 1
    assert page["next"] is None
    assert "page=2" in page["previous"]


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_activity_list_query_budget(request, client_for, rep, django_assert_max_num_queries, role):
    """Listing activities costs a fixed number of queries, however many rows."""
    contact = contact_of(rep)
    assert_list_query_budget(
        client_for(as_role(request, role)),
        ACTIVITIES,
        make_rows=lambda n: ActivityFactory.create_batch(n, contact=contact, user=rep),
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


# -- Reminders ----------------------------------------------------------------------------


def test_personal_reminder(client_for, rep):
    """A reminder needs no plan: it goes to the requester, in-app by default, and reads with
    offset timestamps."""
    response = client_for(rep).post(
        REMINDERS, {"remind_at": "2030-05-06T07:08:09+00:00", "message": "Prepare the demo"}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert {"reminder_id", "user_id", "plan_id", "step_id", "activity_id"} <= set(data)
    assert data["user_id"] == str(rep.pk)
    assert data["channels"] == ["in_app"]
    assert data["status"] == "pending"
    assert_iso_with_offset(data["remind_at"], data["created_at"], data["updated_at"])


def test_reminder_on_a_plan_step(client_for, rep, plans, template):
    """A reminder for a step of the rep's plan names the plan, the step and the due date."""
    step = template.steps.get(step_number=1)
    response = client_for(rep).post(
        REMINDERS,
        {
            "plan_id": str(plans["rep"].pk),
            "step_id": str(step.pk),
            "remind_at": "2030-05-06T07:00:00Z",
            "due_at": "2030-05-06T09:00:00Z",
            "channels": ["in_app", "email"],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["step_id"] == str(step.pk)
    assert_iso_with_offset(response.json()["due_at"])


@pytest.mark.parametrize(
    ("field", "reference"),
    [
        ("plan_id", "teammate_plan"),
        ("plan_id", "outsider_plan"),
        ("user_id", "teammate"),
        ("activity_id", "teammate_activity"),
        ("step_id", "hidden_step"),
    ],
)
def test_reminder_referencing_what_the_rep_may_not_see_does_not_exist(
    client_for, rep, plans, hidden_step, field, reference
):
    """A reminder for another user, on another rep's plan or activity, or at a step of a
    strategy the rep cannot see, is a 400 on that field saying it does not exist."""
    teammate_plan = plans["teammate"]
    refs = {
        "teammate_plan": lambda: teammate_plan.pk,
        "outsider_plan": lambda: plans["outsider"].pk,
        "teammate": lambda: teammate_plan.user_id,
        "teammate_activity": lambda: (
            ActivityFactory(contact=teammate_plan.contact, user=teammate_plan.user).pk
        ),
        "hidden_step": lambda: hidden_step.pk,
    }
    data = {"remind_at": "2030-05-06T07:00:00Z", field: str(refs[reference]())}
    response = client_for(rep).post(REMINDERS, data)
    assert_field_error(response, field)
    assert not Reminder.objects.exists()


@pytest.mark.parametrize(("with_user", "status"), [(True, 201), (False, 400)])
def test_manager_reminds_a_team_member_of_their_plan(
    client_for, manager, rep, plans, with_user, status
):
    """A plan's reminders go to the plan's user: a manager creates one for a team member's
    plan by naming that member; without it the reminder would be the manager's, a 400."""
    data = {"plan_id": str(plans["rep"].pk), "remind_at": "2030-05-06T07:00:00Z"}
    if with_user:
        data["user_id"] = str(rep.pk)
    response = client_for(manager).post(REMINDERS, data)
    if status == 400:
        assert_field_error(response, "user_id", "plan's user")
    else:
        assert response.status_code == 201, response.content
        assert response.json()["user_id"] == str(rep.pk)


def test_one_reminder_per_plan_step_and_due_date(client_for, rep, plans, template):
    """A second reminder for the same plan, step and due date is refused with a 400."""
    data = {
        "plan_id": str(plans["rep"].pk),
        "step_id": str(template.steps.get(step_number=1).pk),
        "remind_at": "2030-05-06T07:00:00Z",
        "due_at": "2030-05-06T09:00:00Z",
    }
    client = client_for(rep)
    assert client.post(REMINDERS, data).status_code == 201
    assert_field_error(client.post(REMINDERS, data), "due_at", "exists already")
    assert Reminder.objects.count() == 1


def test_reminder_of_a_plan_cannot_move_to_another_user(client_for, manager, plans):
    """A plan's reminders stay with the plan's user, on update as on creation."""
    reminder = ReminderFactory(user=plans["rep"].user, plan=plans["rep"])
    response = client_for(manager).patch(f"{REMINDERS}{reminder.pk}/", {"user_id": str(manager.pk)})
    assert_field_error(response, "user_id", "plan's user")
    reminder.refresh_from_db()
    assert reminder.user == plans["rep"].user


def test_personal_reminder_is_handed_to_a_team_member(client_for, manager, rep):
    reminder = ReminderFactory(user=manager)
    response = client_for(manager).patch(f"{REMINDERS}{reminder.pk}/", {"user_id": str(rep.pk)})
    assert response.status_code == 200, response.content
    reminder.refresh_from_db()
    assert reminder.user == rep


def test_reminders_filter_by_plan_and_status(client_for, rep, plans):
    """``?plan_id=`` and ``?status=`` narrow the reminders."""
    plan = plans["rep"]
    on_plan = ReminderFactory(user=rep, plan=plan)
    dismissed = ReminderFactory(user=rep, status="dismissed")
    client = client_for(rep)
    assert list_ids(client, REMINDERS, "reminder_id", plan_id=str(plan.pk)) == {str(on_plan.pk)}
    assert list_ids(client, REMINDERS, "reminder_id", status="dismissed") == {str(dismissed.pk)}


def test_reminders_order_by_remind_at(client_for, rep):
    """Reminders come soonest first; ``?ordering=-remind_at`` reverses that."""
    now = timezone.now()
    made = [
        ReminderFactory(user=rep, remind_at=now + datetime.timedelta(hours=h)) for h in (3, 1, 2)
    ]
    client = client_for(rep)
    soonest = [str(made[i].pk) for i in (1, 2, 0)]
    assert page_ids(client.get(REMINDERS), "reminder_id") == soonest
    assert (
        page_ids(client.get(REMINDERS, {"ordering": "-remind_at"}), "reminder_id")
        == (soonest[::-1])
    )


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_reminder_list_query_budget(request, client_for, rep, django_assert_max_num_queries, role):
    """Listing reminders costs a fixed number of queries, however many rows."""
    assert_list_query_budget(
        client_for(as_role(request, role)),
        REMINDERS,
        make_rows=lambda n: ReminderFactory.create_batch(n, user=rep),
        budget=2,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


# -- Dismissing and snoozing a reminder --------------------------------------------------------


@pytest.fixture
def reminders(plans):
    """A reminder on the plan of the rep, of their teammate and of another team's rep."""
    return {
        role: ReminderFactory(
            user=plans[role].user, plan=plans[role], message=f"Private note of {role}"
        )
        for role in ("rep", "teammate", "outsider")
    }


def test_api_root_lists_reminders_once(client_for, rep):
    """The reminder actions are routes of the reminders' own viewset, listed once."""
    root = client_for(rep).get(f"{API}/").json()
    assert root["reminders"].endswith("/api/v1/reminders/")


def test_dismiss_own_reminder(client_for, rep, reminders):
    reminder = reminders["rep"]

    response = client_for(rep).post(f"{REMINDERS}{reminder.pk}/dismiss/")

    assert response.status_code == 200, response.content
    assert response.json()["reminder_id"] == str(reminder.pk)
    assert response.json()["status"] == "dismissed"
    reminder.refresh_from_db()
    assert reminder.status == "dismissed"


@pytest.mark.parametrize(("role", "owner"), [("rep", "teammate"), ("manager", "outsider")])
def test_acting_on_a_reminder_one_may_not_see_is_404(request, client_for, reminders, role, owner):
    """A rep's teammate's reminder, another team's for a manager: 404, nothing changes."""
    client = client_for(request.getfixturevalue(role))
    reminder = reminders[owner]
    until = (timezone.now() + datetime.timedelta(hours=2)).isoformat()

    for response in (
        client.post(f"{REMINDERS}{reminder.pk}/dismiss/"),
        client.post(f"{REMINDERS}{reminder.pk}/snooze/", {"until": until}),
    ):
        assert_hidden(response, reminder.pk, reminder.message, reminder.plan_id)
    reminder.refresh_from_db()
    assert reminder.status == "pending"
    assert client.post(f"{REMINDERS}{UNKNOWN_ID}/dismiss/").status_code == 404


def test_manager_may_dismiss_a_team_members_reminder(client_for, manager, reminders):
    """As with editing reminders, a manager may act on their team's."""
    response = client_for(manager).post(f"{REMINDERS}{reminders['rep'].pk}/dismiss/")
    assert response.status_code == 200
    assert response.json()["status"] == "dismissed"


def test_snooze_until_a_time(client_for, rep, reminders):
    reminder = reminders["rep"]
    until = (timezone.now() + datetime.timedelta(hours=3)).replace(microsecond=0)

    response = client_for(rep).post(
        f"{REMINDERS}{reminder.pk}/snooze/", {"until": until.isoformat()}
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "snoozed"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.remind_at) == ("snoozed", until)


def test_snooze_for_some_minutes(client_for, rep, reminders):
    reminder = reminders["rep"]
    before = timezone.now()

    response = client_for(rep).post(f"{REMINDERS}{reminder.pk}/snooze/", {"minutes": 90})

    assert response.status_code == 200, response.content
    reminder.refresh_from_db()
    expected = before + datetime.timedelta(minutes=90)
    assert expected <= reminder.remind_at <= expected + datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({}, "until", "either"),
        ({"minutes": 5, "until": "2100-01-01T00:00:00Z"}, "until", "either"),
        ({"until": "2001-01-01T00:00:00Z"}, "until", "future"),
        ({"until": "not a time"}, "until", "format"),
        ({"minutes": 0}, "minutes", "greater than or equal to 1"),
        ({"minutes": 10**9}, "minutes", "less than or equal to"),
    ],
)
def test_snooze_refuses_bad_input(client_for, rep, reminders, body, field, text):
    reminder = reminders["rep"]

    response = client_for(rep).post(f"{REMINDERS}{reminder.pk}/snooze/", body)

    assert_field_error(response, field, text)
    reminder.refresh_from_db()
    assert reminder.status == "pending"
