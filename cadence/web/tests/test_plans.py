"""The plans pages: the filtered list, one plan's timeline with its actions and activity log,
and the custom plan builder."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.crm.tests.factories import ContactFactory
from cadence.plans import services
from cadence.plans.choices import ExitReason, PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.scheduling.due import local_day_bounds
from cadence.strategies.models import ContactStrategy
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_strategy(user, *, types=("Email", "Call", "Email"), name=None):
    strategy = ContactStrategyFactory(created_by=user, **({"name": name} if name else {}))
    for number, activity_type in enumerate(types, start=1):
        StrategyStepFactory(
            strategy=strategy, step_number=number, activity_type=activity_type, delay_days=3
        )
    return strategy


def make_plan(user, *, strategy=None, first_name="Ada", company="Acme", due=None):
    contact = ContactFactory(
        first_name=first_name, last_name="Lovelace", company__name=company, company__owner=user
    )
    kwargs = {"next_step_due_date": due} if due else {}
    return LeadContactPlanFactory(
        contact=contact, strategy=strategy or make_strategy(user), user=user, **kwargs
    )


# -- The list -----------------------------------------------------------------------------------


def test_each_role_lists_the_plans_it_may_see(
    rep, teammate, manager, outsider, admin_user, web_client
):
    make_plan(rep, first_name="Mine")
    make_plan(teammate, first_name="Teammates")
    make_plan(outsider, first_name="Outsiders")

    def names(user):
        html = web_client(user).get("/plans/").content.decode()
        return {name for name in ("Mine", "Teammates", "Outsiders") if f"{name} Lovelace" in html}

    assert names(rep) == {"Mine"}
    assert names(manager) == {"Mine", "Teammates"}
    assert names(admin_user) == {"Mine", "Teammates", "Outsiders"}


def test_the_list_shows_lead_strategy_owner_status_step_and_due(rep, web_client):
    strategy = make_strategy(rep, name="Outbound Q3")
    plan = make_plan(rep, strategy=strategy, company="Acme GmbH")

    html = web_client(rep).get("/plans/").content.decode()

    assert f'href="/contacts/{plan.contact_id}/">Ada Lovelace</a>' in html
    assert f'href="/companies/{plan.company_id}/"' in html and "Acme GmbH" in html
    assert f'href="/strategies/{strategy.pk}/">Outbound Q3</a>' in html
    assert f"<td>{rep}</td>" in html
    assert '<span class="status NotStarted">Not Started</span>' in html
    assert "Step 1 · Email" in html
    assert f'href="/plans/{plan.pk}/" aria-label="Open plan for Ada Lovelace at Acme GmbH"' in html


def test_overdue_plans_are_highlighted(rep, web_client):
    make_plan(rep, due=timezone.now() - datetime.timedelta(days=1), first_name="Late")
    make_plan(rep, first_name="Fine")

    html = web_client(rep).get("/plans/").content.decode()

    late_row = html[html.rindex("<tr", 0, html.index("Late Lovelace")) :].split("</tr>")[0]
    fine_row = html[html.rindex("<tr", 0, html.index("Fine Lovelace")) :].split("</tr>")[0]
    assert 'class="overdue"' in late_row
    assert "overdue" not in fine_row


def test_filters_by_status_strategy_owner_and_search(rep, teammate, manager, web_client):
    template = make_strategy(rep, name="Template A")
    make_plan(rep, strategy=template, first_name="Alpha", company="Acme")
    paused = make_plan(rep, first_name="Bravo", company="Bolt")
    services.plan_pause(plan=paused)
    make_plan(teammate, first_name="Charlie", company="Crane")
    custom = services.plan_create_custom(
        actor=rep,
        user=rep,
        contact=ContactFactory(first_name="Delta", last_name="Lovelace", company__owner=rep),
        steps=[{"activity_type": "Call"}],
    )
    client = web_client(manager)

    def names(query):
        html = client.get("/plans/", query).content.decode()
        return {n for n in ("Alpha", "Bravo", "Charlie", "Delta") if f"{n} Lovelace" in html}

    assert names({"status": "Paused"}) == {"Bravo"}
    assert names({"strategy": str(template.pk)}) == {"Alpha"}
    assert names({"strategy": "custom"}) == {"Delta"}
    assert custom.strategy.is_template is False
    assert names({"owner": str(teammate.pk)}) == {"Charlie"}
    assert names({"q": "crane"}) == {"Charlie"}
    assert names({"q": "alpha acme"}) == {"Alpha"}
    assert names({"q": "alpha bolt"}) == set()


def test_filters_by_due(rep, web_client):
    now = timezone.now()
    make_plan(rep, due=now - datetime.timedelta(days=3), first_name="Overdue")
    make_plan(rep, due=now + datetime.timedelta(days=4), first_name="Thisweek")
    make_plan(rep, due=now + datetime.timedelta(days=20), first_name="Later")
    ended = make_plan(rep, first_name="Ended")
    services.plan_abort(plan=ended)
    client = web_client(rep)

    def names(due):
        html = client.get("/plans/", {"due": due}).content.decode()
        return {n for n in ("Overdue", "Thisweek", "Later", "Ended") if f"{n} Lovelace" in html}

    assert names("overdue") == {"Overdue"}
    assert names("week") == {"Thisweek"}
    assert names("none") == {"Ended"}
    assert names("") == {"Overdue", "Thisweek", "Later", "Ended"}


def test_filter_due_today_uses_the_users_day(rep, web_client):
    start, end = local_day_bounds(timezone.now(), time_zone=rep.time_zone)
    make_plan(rep, due=start + datetime.timedelta(minutes=5), first_name="Today")
    make_plan(rep, due=end + datetime.timedelta(minutes=5), first_name="Tomorrow")

    html = web_client(rep).get("/plans/", {"due": "today"}).content.decode()

    assert "Today Lovelace" in html
    assert "Tomorrow Lovelace" not in html


def test_a_bad_filter_value_shows_an_error_not_a_500(rep, web_client):
    make_plan(rep, first_name="Still")

    response = web_client(rep).get(
        "/plans/", {"status": "Sleeping", "strategy": "nope", "due": "someday"}
    )

    assert response.status_code == 200
    assert b"Select a valid choice. Sleeping is not one of the available choices." in (
        response.content
    )
    assert b"Still Lovelace" in response.content


def test_only_managers_and_admins_get_the_owner_filter(rep, manager, web_client):
    assert b'name="owner"' not in web_client(rep).get("/plans/").content
    assert b'<label for="id_owner">Owner</label>' in web_client(manager).get("/plans/").content


def test_htmx_gets_only_the_results(rep, web_client):
    make_plan(rep)

    response = web_client(rep).get("/plans/", {"q": "ada"}, **HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response.content.decode().strip().startswith('<div id="plan-results">')
    assert b"Ada Lovelace" in response.content


def test_the_list_is_paginated_in_a_fixed_number_of_queries(
    manager, teammate, web_client, django_assert_max_num_queries
):
    strategy = make_strategy(manager)
    for number in range(15):
        make_plan(teammate, strategy=strategy, first_name=f"T{number}")
    for number in range(15):
        make_plan(manager, strategy=strategy, first_name=f"M{number}")
    client = web_client(manager)

    with django_assert_max_num_queries(8):
        first = client.get("/plans/")
    second = client.get("/plans/", {"page": 2})

    assert first.content.count(b'aria-label="Open plan for') == 25
    assert second.content.count(b'aria-label="Open plan for') == 5
    assert b"Page 1 of 2" in first.content


# -- One plan ---------------------------------------------------------------------------------


def test_the_plan_page_shows_the_timeline_and_the_activities(rep, web_client):
    plan = make_plan(rep, strategy=make_strategy(rep, types=("Email", "Call", "Email", "SMS")))
    steps = list(plan.strategy.steps.order_by("step_number"))
    services.activity_log(
        actor=rep, plan=plan, step=steps[0], activity_type="Email", outcome="Sent"
    )
    services.plan_skip(plan=plan, actor=rep)
    services.activity_log(
        actor=rep, plan=plan, activity_type="Call", outcome="No Answer", subject="Tried"
    )

    html = web_client(rep).get(f"/plans/{plan.pk}/").content.decode()

    assert "<h1>Ada Lovelace at Acme</h1>" in html
    timeline = html[html.index('<ol class="timeline') : html.index("</ol>")]
    assert timeline.index("Step 1 · Email") < timeline.index("Step 2 · Call")
    step_one = timeline.split("<li")[1]
    assert 'class="done"' in step_one and "Done <time" in step_one and ": Sent" in step_one
    assert 'class="skipped"' in timeline.split("<li")[2] and "Skipped" in timeline
    current = timeline.split("<li")[3]
    assert 'class="current" aria-current="step"' in current and "Current step, due" in current
    assert "Upcoming: +3 days after the previous step" in timeline.split("<li")[4]
    # Activities, newest first.
    activities = html[html.index('<ol class="activity-list">') :]
    assert activities.index("No Answer") < activities.index("Sent")
    assert "(step 1)" in activities


def test_the_plan_page_costs_the_same_few_queries_however_long_its_history(
    rep, web_client, django_assert_max_num_queries
):
    plan = make_plan(rep, strategy=make_strategy(rep, types=["Email", "Call"] * 10))
    for _ in range(12):
        services.activity_log(
            actor=rep, plan=plan, step=plan.current_step, activity_type="Email", outcome="Sent"
        )
        plan.refresh_from_db()
    for _ in range(10):
        services.activity_log(actor=rep, plan=plan, activity_type="Call", outcome="No Answer")
    client = web_client(rep)

    with django_assert_max_num_queries(8):
        page = client.get(f"/plans/{plan.pk}/")

    assert page.content.count(b"Done <time") == 12
    assert page.content.count(b"No Answer</") >= 1


def test_an_ended_plan_shows_its_exit_reason_and_no_actions(rep, web_client):
    plan = make_plan(rep)
    services.plan_abort(plan=plan, reason=ExitReason.REPLIED)

    html = web_client(rep).get(f"/plans/{plan.pk}/").content.decode()

    assert '<span class="status Aborted">Aborted</span>' in html
    assert "<dt>Exit reason</dt><dd>Replied</dd>" in html
    assert "Not done" in html
    for button in ("Pause</button>", "Resume</button>", "Skip step</button>", "Abort</button>"):
        assert button not in html
    assert "This completes step" not in html


def test_another_teams_plan_is_a_404(rep, teammate, manager, outsider, web_client):
    plan = make_plan(teammate)

    assert web_client(outsider).get(f"/plans/{plan.pk}/").status_code == 404
    assert web_client(rep).get(f"/plans/{plan.pk}/").status_code == 404
    assert web_client(manager).get(f"/plans/{plan.pk}/").status_code == 200


def test_actions_are_offered_by_state(rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)

    running = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Start now</button>" in running
    assert "Pause</button>" in running and "Skip step</button>" in running
    assert "Abort</button>" in running and "Resume</button>" not in running
    assert '<label for="abort-reason">Abort reason</label>' in running

    services.plan_pause(plan=plan)
    paused = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "Resume</button>" in paused
    assert "Pause</button>" not in paused and "Skip step</button>" not in paused


def test_pause_resume_skip_start_and_abort(rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)

    response = client.post(f"/plans/{plan.pk}/start/", follow=True)
    assert response.redirect_chain == [(f"/plans/{plan.pk}/", 302)]
    assert b"The plan has started." in response.content
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS

    client.post(f"/plans/{plan.pk}/pause/", {"until": ""})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED and plan.resume_at is None

    client.post(f"/plans/{plan.pk}/resume/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS

    client.post(f"/plans/{plan.pk}/skip/", {"step": plan.current_step_id})
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    assert plan.results.get().result == StepResult.SKIPPED

    client.post(f"/plans/{plan.pk}/abort/", {"reason": "meeting_booked"})
    plan.refresh_from_db()
    assert (plan.status, plan.exit_reason) == (PlanStatus.ABORTED, ExitReason.MEETING_BOOKED)


def test_abort_without_a_reason_ends_the_plan_manually(rep, web_client):
    plan = make_plan(rep)

    web_client(rep).post(f"/plans/{plan.pk}/abort/")

    plan.refresh_from_db()
    assert (plan.status, plan.exit_reason) == (PlanStatus.ABORTED, ExitReason.MANUAL)


def test_pause_until_a_date_resumes_at_the_start_of_that_working_day(rep, web_client):
    plan = make_plan(rep)
    day = timezone.now().date() + datetime.timedelta(days=10)

    web_client(rep).post(f"/plans/{plan.pk}/pause/", {"until": day.isoformat()})

    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED
    local = plan.resume_at.astimezone(ZoneInfo(rep.time_zone))
    assert (local.date(), local.hour) == (day, rep.work_day_start.hour)


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("resume", {}, b"Cannot resume this plan: it is Not Started."),
        ("pause", {"until": "not-a-date"}, b"Resume automatically on: Enter a valid date."),
        ("pause", {"until": "2001-01-01"}, b"A pause must end in the future."),
        ("abort", {"reason": "bounced"}, b"Choose one of the reasons offered."),
    ],
)
def test_a_refused_action_is_a_message_not_a_500(action, data, message, rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)

    plain = client.post(f"/plans/{plan.pk}/{action}/", data, follow=True)
    htmx = client.post(f"/plans/{plan.pk}/{action}/", data, **HTMX)

    assert plain.status_code == 200 and message in plain.content
    assert htmx.status_code == 200 and message in htmx.content
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NOT_STARTED


def test_an_action_on_a_finished_plan_is_refused(rep, web_client):
    plan = make_plan(rep)
    services.plan_abort(plan=plan)

    response = web_client(rep).post(f"/plans/{plan.pk}/pause/", follow=True)

    assert b"Cannot pause this plan: it is Aborted, which is final." in response.content


def test_a_stale_skip_skips_nothing(rep, web_client):
    plan = make_plan(rep)
    first = plan.current_step_id
    client = web_client(rep)

    client.post(f"/plans/{plan.pk}/skip/", {"step": first})
    response = client.post(f"/plans/{plan.pk}/skip/", {"step": first}, follow=True)

    assert b"That step is no longer the current one; nothing was skipped." in response.content
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2


def test_htmx_actions_return_the_refreshed_plan_with_the_message(rep, web_client):
    plan = make_plan(rep)

    response = web_client(rep).post(f"/plans/{plan.pk}/pause/", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith('<div id="plan-detail">')
    assert "The plan is paused." in html
    assert "Resume</button>" in html


def test_a_rep_cannot_act_on_a_teammates_plan_but_their_manager_can(
    rep, teammate, manager, web_client
):
    plan = make_plan(teammate)

    for action in ("start", "pause", "skip", "abort", "log"):
        assert web_client(rep).post(f"/plans/{plan.pk}/{action}/").status_code == 404
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NOT_STARTED

    web_client(manager).post(f"/plans/{plan.pk}/pause/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAUSED


def test_actions_only_take_posts(rep, web_client):
    plan = make_plan(rep)

    assert web_client(rep).get(f"/plans/{plan.pk}/pause/").status_code == 405


# -- Logging an activity on the plan ----------------------------------------------------------


def test_the_log_form_is_prefilled_for_the_current_step(rep, web_client):
    plan = make_plan(rep, strategy=make_strategy(rep, types=("Call", "Email")))

    html = web_client(rep).get(f"/plans/{plan.pk}/").content.decode()

    assert '<label for="id_completes_step">This completes step 1</label>' in html
    assert 'name="completes_step" id="id_completes_step" checked' in html
    assert '<option value="Call" selected>Call</option>' in html
    assert 'value="Hello Ada"' in html


def test_logging_the_current_step_advances_the_plan(rep, web_client):
    plan = make_plan(rep)
    step = plan.current_step

    response = web_client(rep).post(
        f"/plans/{plan.pk}/log/",
        {
            "step": step.pk,
            "completes_step": "on",
            "activity_type": "Email",
            "outcome": "Sent",
            "subject": "Intro",
            "description": "First touch",
        },
        follow=True,
    )

    assert response.redirect_chain == [(f"/plans/{plan.pk}/", 302)]
    assert b"The activity is logged." in response.content
    activity = Activity.objects.get(plan=plan)
    assert (activity.step, activity.outcome, activity.subject) == (step, "Sent", "Intro")
    assert activity.contact == plan.contact
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2


def test_logging_without_completing_the_step_leaves_the_plan_where_it_is(rep, web_client):
    plan = make_plan(rep)

    web_client(rep).post(
        f"/plans/{plan.pk}/log/", {"activity_type": "Call", "outcome": "No Answer"}
    )

    activity = Activity.objects.get(plan=plan)
    assert activity.step is None
    plan.refresh_from_db()
    assert plan.current_step.step_number == 1


def test_a_bad_log_shows_the_error_next_to_the_field(rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)
    data = {"activity_type": "Email", "outcome": "Exploded", "completes_step": "on"}

    plain = client.post(f"/plans/{plan.pk}/log/", data)
    htmx = client.post(f"/plans/{plan.pk}/log/", data, **HTMX)

    assert plain.status_code == 400
    assert b'<ul class="errorlist" id="id_outcome_error"><li>Select a valid choice.' in (
        plain.content
    )
    assert htmx.status_code == 200
    assert b"<html" not in htmx.content and b'id="id_outcome_error"' in htmx.content
    assert not Activity.objects.exists()


def test_an_outcome_the_type_cannot_have_is_refused_next_to_the_field(rep, web_client):
    """The form offers every outcome; the activities' rule refuses a call that bounced."""
    plan = make_plan(rep)

    response = web_client(rep).post(
        f"/plans/{plan.pk}/log/", {"activity_type": "Call", "outcome": "Bounced"}
    )

    assert response.status_code == 400
    assert b'id="id_outcome_error"' in response.content
    assert b"cannot have the outcome" in response.content
    assert not Activity.objects.exists()


def test_logging_a_step_of_a_paused_plan_is_refused_by_the_service(rep, web_client):
    plan = make_plan(rep)
    step = plan.current_step_id
    services.plan_pause(plan=plan)

    response = web_client(rep).post(
        f"/plans/{plan.pk}/log/",
        {"step": step, "completes_step": "on", "activity_type": "Email", "outcome": "Sent"},
    )

    assert response.status_code == 400
    assert b"This plan is paused; resume it before logging its steps." in response.content
    assert not Activity.objects.exists()


def test_logging_a_step_that_has_moved_on_is_refused(rep, web_client):
    plan = make_plan(rep)
    first = plan.current_step_id
    services.plan_skip(plan=plan, actor=rep)

    response = web_client(rep).post(
        f"/plans/{plan.pk}/log/",
        {"step": first, "completes_step": "on", "activity_type": "Email", "outcome": "Sent"},
    )

    assert response.status_code == 400
    assert b"That step is no longer the current one" in response.content
    assert not Activity.objects.exists()


# -- Custom plan builder ----------------------------------------------------------------------


def step_rows(*rows, total=5):
    data = {
        "steps-TOTAL_FORMS": str(total),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "5",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"steps-{index}-{key}"] = value
    return data


def test_the_builder_offers_visible_contacts_and_preselects_one(rep, outsider, web_client):
    mine = ContactFactory(first_name="Ada", last_name="Lovelace", company__owner=rep)
    ContactFactory(first_name="Hidden", last_name="Person", company__owner=outsider)

    html = web_client(rep).get("/plans/new/", {"contact": str(mine.pk)}).content.decode()

    assert f'<option value="{mine.pk}" selected>Ada Lovelace ({mine.company.name})</option>' in (
        html
    )
    assert "Hidden Person" not in html
    assert '<label for="id_start_date">Start date</label>' in html
    assert html.count("<legend>Step ") == 5
    assert '<label for="id_steps-0-activity_type">Activity type</label>' in html
    assert '<label for="id_steps-4-description">Description</label>' in html


def test_the_builder_creates_the_plan_and_goes_to_it(rep, web_client):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace", company__owner=rep)
    data = {
        "contact": str(contact.pk),
        "start_date": (timezone.now().date() + datetime.timedelta(days=2)).isoformat(),
        "name": "",
        **step_rows(
            {"activity_type": "Email", "delay_days": "0", "subject": "Hi {{ contact.first_name }}"},
            {},
            {"activity_type": "Call", "delay_days": "3", "description": "Follow up"},
        ),
    }

    response = web_client(rep).post("/plans/new/", data)

    plan = LeadContactPlan.objects.get(contact=contact)
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert (plan.user, plan.company) == (rep, contact.company)
    assert plan.strategy.is_template is False
    assert plan.strategy.name == "Custom plan for Ada Lovelace"
    steps = list(plan.strategy.steps.order_by("step_number"))
    assert [(s.step_number, s.activity_type, s.delay_days) for s in steps] == [
        (1, "Email", 0),
        (2, "Call", 3),
    ]
    assert steps[0].subject_template == "Hi {{ contact.first_name }}"
    assert plan.current_step == steps[0]


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"start_date": "31/31/2020"}, b'id="id_start_date_error"><li>Enter a valid date.'),
        ({"contact": ""}, b'id="id_contact_error"><li>This field is required.'),
        (
            {"steps-0-activity_type": "", "steps-0-subject": "Hello"},
            b'id="id_steps-0-activity_type_error"><li>Choose the activity type of this step.',
        ),
        (
            {"steps-0-subject": "Hi {{ contact.shoe_size }}"},
            b"unknown placeholder &#x27;contact.shoe_size&#x27;",
        ),
        ({"steps-0-delay_days": "-1"}, b'id="id_steps-0-delay_days_error"'),
        (
            {"steps-0-activity_type": "", "steps-0-subject": ""},
            b"Add at least one step: choose its activity type.",
        ),
        ({"steps-TOTAL_FORMS": ""}, b"(Hidden field TOTAL_FORMS) This field is required."),
    ],
)
def test_bad_builder_input_is_shown_next_to_the_field(change, field_error, rep, web_client):
    contact = ContactFactory(company__owner=rep)
    data = {
        "contact": str(contact.pk),
        "start_date": timezone.now().date().isoformat(),
        **step_rows({"activity_type": "Email", "delay_days": "1", "subject": "Hi"}),
        **change,
    }

    response = web_client(rep).post("/plans/new/", data)

    assert response.status_code == 400
    assert field_error in response.content
    assert not LeadContactPlan.objects.exists()
    assert not ContactStrategy.objects.filter(is_template=False).exists()


def test_the_builder_refuses_a_contact_the_user_may_not_see(rep, outsider, web_client):
    hidden = ContactFactory(company__owner=outsider)

    response = web_client(rep).post(
        "/plans/new/",
        {
            "contact": str(hidden.pk),
            "start_date": timezone.now().date().isoformat(),
            **step_rows({"activity_type": "Email"}),
        },
    )

    assert response.status_code == 400
    assert b"Select a valid choice. That choice is not one of the available choices." in (
        response.content
    )
    assert not LeadContactPlan.objects.exists()


def test_the_services_refusal_shows_next_to_the_contact(rep, web_client):
    contact = ContactFactory(company__owner=rep, opted_out=True, opted_out_at=timezone.now())

    response = web_client(rep).post(
        "/plans/new/",
        {
            "contact": str(contact.pk),
            "start_date": timezone.now().date().isoformat(),
            **step_rows({"activity_type": "Email"}),
        },
    )

    assert response.status_code == 400
    assert b'id="id_contact_error"' in response.content
    assert not LeadContactPlan.objects.exists()


@pytest.mark.parametrize("path", ["/plans/", "/plans/new/", "plan"])
def test_pages_carry_no_inline_script_or_style(path, rep, web_client):
    """The CSP forbids inline script and style: the pages use classes and app.js only."""
    plan = make_plan(rep)
    response = web_client(rep).get(f"/plans/{plan.pk}/" if path == "plan" else path)

    assert response.status_code == 200
    for forbidden in (b" style=", b"<script>", b"hx-on", b"onclick", b"javascript:"):
        assert forbidden not in response.content
