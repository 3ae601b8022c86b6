"""Follow-up suggestions on the web: the dashboard's sections, the plan and contact boxes, the
full list, accepting, dismissing and closing tasks (htmx and plain posts), the rules settings
page, the recommendations page and the history notes in the strategy editor."""

import datetime
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cadence.activities.choices import ActivityType, Outcome, ReminderStatus
from cadence.activities.models import Reminder
from cadence.crm.tests.factories import ContactFactory
from cadence.plans import services as plan_services
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.suggestions import actions as suggestion_actions
from cadence.suggestions import services as suggestion_services
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion, SuggestionRule

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BERLIN = ZoneInfo("Europe/Berlin")


def voicemail(user, **contact):
    """A "call again" suggestion for ``user``, made the way the app makes it."""
    contact = ContactFactory(company__owner=user, owner=user, **contact)
    plan_services.activity_log(
        actor=user,
        contact=contact,
        activity_type=ActivityType.CALL,
        outcome=Outcome.VOICEMAIL_LEFT,
    )
    return Suggestion.objects.get(contact=contact)


def suggestion(user, *, title="Email Ada", due_at=None, **fields):
    contact = fields.pop("contact", None) or ContactFactory(company__owner=user, owner=user)
    return Suggestion.objects.create(
        kind=fields.pop("kind", SuggestionKind.MEETING_NO_SHOW),
        user=user,
        company=contact.company,
        contact=contact,
        due_at=due_at or timezone.now() + datetime.timedelta(days=1),
        title=title,
        reason=fields.pop("reason", "Ada did not show up to the meeting on 3 Jun."),
        dedupe_key=f"test:{uuid.uuid4()}",
        **fields,
    )


def accepted(user, **fields):
    return suggestion_actions.suggestion_accept(suggestion=suggestion(user, **fields), actor=user)


# -- Dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_lists_the_users_open_suggestions_in_plain_words(rep, teammate, web_client):
    mine = voicemail(rep, first_name="Ann", last_name="Lee")
    due = datetime.datetime(2031, 1, 2, 8, 30, tzinfo=datetime.UTC)
    Suggestion.objects.filter(pk=mine.pk).update(due_at=due)
    voicemail(teammate, first_name="Notmine")

    html = web_client(rep).get("/").content.decode()

    assert "Call Ann Lee again" in html
    assert "You left a voicemail on" in html
    assert "Voicemail left" in html
    assert f'href="/contacts/{mine.contact_id}/"' in html
    # 08:30 UTC is 09:30 in Berlin in winter.
    assert "Thu 2 Jan, 09:30" in html
    assert f'action="/suggestions/{mine.pk}/accept/"' in html
    assert f'hx-post="/suggestions/{mine.pk}/dismiss/"' in html
    assert "Notmine" not in html
    assert "No open follow-up tasks." in html


def test_accepting_from_the_dashboard_swaps_the_row_and_moves_it_to_the_follow_up_tasks(
    rep, web_client
):
    item = voicemail(rep, first_name="Ann", last_name="Lee")

    response = web_client(rep).post(
        f"/suggestions/{item.pk}/accept/", {"place": "dashboard", "next": "/"}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<li id="suggestion-{item.pk}"')
    assert "Accepted: a task is due" in html
    # The follow-up tasks section comes along, swapped out of band.
    assert 'id="followup-tasks" class="card" aria-labelledby="followups-heading" hx-swap-oob' in (
        html
    )
    assert f'id="task-suggestion-{item.pk}"' in html
    item.refresh_from_db()
    assert item.status == SuggestionStatus.ACCEPTED
    assert item.reminder.user == rep and item.reminder.status == ReminderStatus.PENDING


def test_accepting_without_javascript_redirects_back_with_the_chosen_day(rep, web_client):
    item = voicemail(rep)
    day = timezone.now().astimezone(BERLIN).date() + datetime.timedelta(days=5)
    client = web_client(rep)

    response = client.post(
        f"/suggestions/{item.pk}/accept/",
        {"place": "dashboard", "next": "/", "due_date": day.isoformat()},
    )

    assert response.status_code == 302 and response["Location"] == "/"
    reminder = Suggestion.objects.get(pk=item.pk).reminder
    # The start of the rep's working day (09:00) in Berlin.
    assert reminder.due_at == datetime.datetime.combine(
        day, datetime.time(9, 0), tzinfo=BERLIN
    ).astimezone(datetime.UTC)
    page = client.get("/").content.decode()
    assert "Accepted: a task is due" in page
    assert f'id="task-suggestion-{item.pk}"' in page


def test_a_foreign_next_address_is_not_followed(rep, web_client):
    item = voicemail(rep)

    response = web_client(rep).post(
        f"/suggestions/{item.pk}/dismiss/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


@pytest.mark.parametrize("value", ["2001-01-01", "tomorrow-ish"])
def test_a_bad_due_date_is_shown_next_to_the_field(rep, web_client, value):
    item = voicemail(rep)
    client = web_client(rep)
    data = {"place": "dashboard", "next": "/", "due_date": value}

    row = client.post(f"/suggestions/{item.pk}/accept/", data, **HTMX)
    page = client.post(f"/suggestions/{item.pk}/accept/", data)

    assert row.status_code == 200
    html = row.content.decode()
    assert f'id="suggestion-{item.pk}-due_date-error"' in html
    assert f'aria-describedby="suggestion-{item.pk}-due_date-error"' in html
    assert page.status_code == 400
    assert f'id="suggestion-{item.pk}-due_date-error"' in page.content.decode()
    assert Suggestion.objects.get(pk=item.pk).status == SuggestionStatus.OPEN
    assert not Reminder.objects.exists()


def test_accepting_twice_says_so_clearly_and_makes_one_task(rep, web_client):
    item = voicemail(rep)
    client = web_client(rep)
    url = f"/suggestions/{item.pk}/accept/"

    client.post(url, {"place": "dashboard"}, **HTMX)
    again = client.post(url, {"place": "dashboard"}, **HTMX)
    plain = client.post(url, {"place": "dashboard", "next": "/"}, follow=True)

    assert again.status_code == 200
    assert "Cannot accept this suggestion: it is accepted." in again.content.decode()
    assert 'role="alert"' in again.content.decode()
    assert "Cannot accept this suggestion: it is accepted." in plain.content.decode()
    assert Reminder.objects.count() == 1


def test_a_suggestion_that_no_longer_applies_is_withdrawn_with_the_reason(rep, web_client):
    contact = ContactFactory(
        owner=rep, company__owner=rep, opted_out=True, opted_out_at=timezone.now()
    )
    item = suggestion(rep, contact=contact, activity_type=ActivityType.EMAIL)

    response = web_client(rep).post(f"/suggestions/{item.pk}/accept/", {"place": "list"}, **HTMX)

    assert "This suggestion no longer applies: The contact opted out." in response.content.decode()
    assert Suggestion.objects.get(pk=item.pk).status == SuggestionStatus.WITHDRAWN


def test_dismissing_with_htmx_and_without(rep, web_client):
    first, second = voicemail(rep), voicemail(rep)
    client = web_client(rep)

    row = client.post(f"/suggestions/{first.pk}/dismiss/", {"place": "dashboard"}, **HTMX)
    plain = client.post(f"/suggestions/{second.pk}/dismiss/", {"next": "/suggestions/"})

    assert row.status_code == 200
    assert f"Dismissed “{first.title}”." in row.content.decode()
    assert "followup-tasks" not in row.content.decode()
    assert plain.status_code == 302 and plain["Location"] == "/suggestions/"
    assert set(Suggestion.objects.values_list("status", flat=True)) == {"dismissed"}
    assert "No suggestions right now." in client.get("/").content.decode()


def test_marking_a_follow_up_task_done(rep, web_client):
    item = accepted(rep, title="Reschedule with Ada")
    client = web_client(rep)
    assert f'id="task-suggestion-{item.pk}"' in client.get("/").content.decode()

    row = client.post(f"/suggestions/{item.pk}/done/", {"place": "dashboard"}, **HTMX)
    again = client.post(f"/suggestions/{item.pk}/done/", {"place": "dashboard"}, **HTMX)

    assert row.status_code == 200
    assert row.content.decode().strip().startswith(f'<li id="task-suggestion-{item.pk}"')
    assert "Done: “Reschedule with Ada”." in row.content.decode()
    assert "This task is already closed." in again.content.decode()
    assert Reminder.objects.get().status == ReminderStatus.DISMISSED
    assert f'id="task-suggestion-{item.pk}"' not in client.get("/").content.decode()


def test_the_dashboard_shows_twenty_of_each_and_links_to_the_rest(
    rep, web_client, django_assert_max_num_queries
):
    for number in range(22):
        suggestion(rep, title=f"Open {number}")
        accepted(rep, title=f"Task {number}")
    client = web_client(rep)

    with django_assert_max_num_queries(11):
        html = client.get("/").content.decode()

    assert html.count('class="suggestion"') == 20
    assert html.count('class="suggestion suggestion-task"') == 20
    assert "More suggestions in the full list" in html
    assert "/suggestions/?status=accepted" in html


# -- Permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["accept", "dismiss", "done"])
def test_another_teams_suggestion_is_a_404(rep, outsider, web_client, action):
    item = accepted(rep) if action == "done" else voicemail(rep)

    response = web_client(outsider).post(f"/suggestions/{item.pk}/{action}/", **HTMX)

    assert response.status_code == 404
    assert Suggestion.objects.get(pk=item.pk).status == item.status


def test_a_teammate_cannot_act_on_a_reps_suggestion_but_the_manager_can(
    rep, teammate, manager, web_client
):
    item = voicemail(rep)

    assert web_client(teammate).post(f"/suggestions/{item.pk}/dismiss/").status_code == 404
    response = web_client(manager).post(f"/suggestions/{item.pk}/dismiss/", **HTMX)

    assert response.status_code == 200
    assert Suggestion.objects.get(pk=item.pk).decided_by == manager


def test_actions_want_a_post(rep, web_client):
    item = voicemail(rep)
    assert web_client(rep).get(f"/suggestions/{item.pk}/accept/").status_code == 405


# -- The full list --------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_shows_managers_the_owner(
    rep, teammate, manager, outsider, web_client
):
    mine = voicemail(rep, first_name="Mine")
    theirs = voicemail(teammate, first_name="Theirs")
    voicemail(outsider, first_name="Foreign")
    gone = suggestion(rep, title="Old idea")
    suggestion_actions.suggestion_dismiss(suggestion=gone, actor=rep)

    rep_html = web_client(rep).get("/suggestions/").content.decode()
    manager_client = web_client(manager)
    manager_html = manager_client.get("/suggestions/").content.decode()
    dismissed = manager_client.get("/suggestions/?status=dismissed").content.decode()
    everything = manager_client.get("/suggestions/?status=all").content.decode()

    assert mine.title in rep_html and theirs.title not in rep_html
    assert "Old idea" not in rep_html
    assert 'Open <span class="count">(1)</span>' in rep_html
    assert mine.title in manager_html and theirs.title in manager_html
    assert "Foreign" not in manager_html
    assert f"Owner: {rep}" in manager_html and f"Owner: {teammate}" in manager_html
    assert "Old idea" in dismissed and mine.title not in dismissed
    assert "Old idea" in everything and mine.title in everything


def test_the_list_answers_htmx_with_its_results_only(rep, web_client):
    voicemail(rep)

    response = web_client(rep).get("/suggestions/?status=open", **HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'class="status-tabs"' in response.content
    assert "HX-Request" in response["Vary"]


def test_the_list_shows_what_became_of_accepted_and_withdrawn_ones(rep, web_client):
    task = accepted(rep, title="Reschedule with Ada")
    withdrawn = suggestion(
        rep, status=SuggestionStatus.WITHDRAWN, withdrawn_reason="The lead answered."
    )

    html = web_client(rep).get("/suggestions/?status=all").content.decode()

    assert "task due" in html
    assert f'action="/suggestions/{task.pk}/done/"' in html
    assert "The lead answered." in html
    assert f'action="/suggestions/{withdrawn.pk}/accept/"' not in html


def test_the_list_stays_within_a_query_budget(rep, web_client, django_assert_max_num_queries):
    for number in range(15):
        suggestion(rep, title=f"Open {number}")
        accepted(rep, title=f"Task {number}")
    client = web_client(rep)

    with django_assert_max_num_queries(7):
        open_page = client.get("/suggestions/")
    with django_assert_max_num_queries(7):
        all_page = client.get("/suggestions/?status=all")

    assert open_page.content.count(b'class="suggestion"') == 15
    assert all_page.content.count(b'class="suggestion"') == 25


# -- Plan and contact pages -----------------------------------------------------------------------


def custom_plan(user):
    strategy = ContactStrategyFactory(created_by=user, is_template=False, name="Ada's plan")
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type="Email")
    contact = ContactFactory(owner=user, company__owner=user, first_name="Ada")
    return LeadContactPlanFactory(contact=contact, strategy=strategy, user=user)


def test_the_plan_page_shows_its_suggestions_and_offers_a_step_for_a_custom_plan(rep, web_client):
    plan = custom_plan(rep)
    item = suggestion(rep, contact=plan.contact, plan=plan, title="Call Ada")

    html = web_client(rep).get(f"/plans/{plan.pk}/").content.decode()

    assert 'id="lead-suggestions-heading"' in html
    assert "Call Ada" in html
    assert 'name="place" value="plan"' in html
    assert "Add as next step" in html
    assert f'name="next" value="/plans/{plan.pk}/"' in html
    assert f'action="/suggestions/{item.pk}/dismiss/"' in html


def test_a_plan_on_a_shared_strategy_offers_no_step(rep, web_client):
    contact = ContactFactory(owner=rep, company__owner=rep)
    plan = LeadContactPlanFactory(contact=contact, user=rep)
    suggestion(rep, contact=contact, plan=plan, title="Call Ada")

    html = web_client(rep).get(f"/plans/{plan.pk}/").content.decode()

    assert "Call Ada" in html
    assert "Add as next step" not in html


def test_adding_a_suggestion_as_the_next_step_of_a_custom_plan(rep, web_client):
    plan = custom_plan(rep)
    item = suggestion(rep, contact=plan.contact, plan=plan, title="Call Ada")
    client = web_client(rep)

    response = client.post(
        f"/suggestions/{item.pk}/accept/",
        {"place": "plan", "next": f"/plans/{plan.pk}/", "as_step": "1"},
        **HTMX,
    )

    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    item.refresh_from_db()
    assert item.status == SuggestionStatus.ACCEPTED and item.step is not None
    plan.refresh_from_db()
    assert plan.current_step == item.step
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "as the plan&#x27;s next step" in page or "as the plan's next step" in page


def test_a_step_for_a_shared_strategy_is_refused_in_the_row(rep, web_client):
    contact = ContactFactory(owner=rep, company__owner=rep)
    plan = LeadContactPlanFactory(contact=contact, user=rep)
    item = suggestion(rep, contact=contact, plan=plan)

    response = web_client(rep).post(
        f"/suggestions/{item.pk}/accept/", {"place": "plan", "as_step": "1"}, **HTMX
    )

    assert response.status_code == 200
    assert "only a custom plan takes a step of its own" in response.content.decode()
    assert Suggestion.objects.get(pk=item.pk).status == SuggestionStatus.OPEN


def test_the_contact_page_shows_open_suggestions_about_the_contact(rep, web_client):
    item = voicemail(rep, first_name="Ann", last_name="Lee")
    other = voicemail(rep, first_name="Bob")

    html = web_client(rep).get(f"/contacts/{item.contact_id}/").content.decode()

    assert "Call Ann Lee again" in html
    assert other.title not in html
    assert 'name="place" value="lead"' in html
    assert f'name="next" value="/contacts/{item.contact_id}/"' in html
    assert "Add as next step" not in html


def test_the_plan_and_contact_pages_keep_their_query_budgets(
    rep, web_client, django_assert_max_num_queries
):
    plan = custom_plan(rep)
    for number in range(10):
        suggestion(rep, contact=plan.contact, plan=plan, title=f"Idea {number}")
    client = web_client(rep)

    with django_assert_max_num_queries(9):
        plan_page = client.get(f"/plans/{plan.pk}/")
    with django_assert_max_num_queries(11):
        contact_page = client.get(f"/contacts/{plan.contact_id}/")

    assert plan_page.content.count(b'class="suggestion"') == 10
    assert contact_page.content.count(b'class="suggestion"') == 10


# -- Rules settings -------------------------------------------------------------------------------

RULES = "/settings/suggestions/"


def test_a_rep_reads_the_rules_of_their_team_without_forms(rep, web_client):
    html = web_client(rep).get(RULES).content.decode()

    assert "Voicemail left" in html
    assert "Days until the next call" in html
    assert "Team North" in html
    assert '<form method="post"' not in html.split('id="main"')[1].split("Sign out")[0]
    assert 'class="rule-form"' not in html
    assert 'name="team"' not in html  # no team selector either


def test_a_rep_cannot_change_or_reset_rules(rep, team, web_client):
    client = web_client(rep)
    data = {"team": str(team.pk), "kind": "voicemail_retry", "voicemail_retry-days": "5"}

    assert client.post(RULES, data).status_code == 403
    assert client.post(f"{RULES}reset/", {"team": str(team.pk)}).status_code == 403
    assert not SuggestionRule.objects.exists()


def test_a_manager_changes_their_teams_rule_with_htmx_and_without(manager, team, web_client):
    client = web_client(manager)
    page = client.get(RULES).content.decode()
    assert 'class="rule-form"' in page
    assert 'name="voicemail_retry-days"' in page and 'min="0"' in page and 'max="60"' in page
    assert '<option value="SMS">SMS</option>' in page

    card = client.post(
        RULES,
        {
            "team": str(team.pk),
            "kind": "voicemail_retry",
            "voicemail_retry-enabled": "on",
            "voicemail_retry-days": "5",
        },
        **HTMX,
    )
    plain = client.post(
        RULES,
        {
            "team": str(team.pk),
            "kind": "unanswered_calls",
            "unanswered_calls-calls": "4",
            "unanswered_calls-channel": "SMS",
        },
    )

    assert card.status_code == 200
    assert card.content.decode().strip().startswith('<li id="rule-voicemail_retry"')
    assert "“Voicemail left” is saved." in card.content.decode()
    assert "The team's own setting" in card.content.decode()
    assert plain.status_code == 302 and plain["Location"] == f"{RULES}?team={team.pk}"
    voicemail_rule = SuggestionRule.objects.get(team=team, kind="voicemail_retry")
    assert voicemail_rule.enabled and voicemail_rule.params == {"days": 5}
    calls_rule = SuggestionRule.objects.get(team=team, kind="unanswered_calls")
    assert not calls_rule.enabled
    assert calls_rule.params == {"calls": 4, "channel": "SMS"}


@pytest.mark.parametrize(
    ("value", "message"),
    [("99", "must be between 0 and 60"), ("two", "must be a whole number"), ("", "whole number")],
)
def test_a_bad_parameter_is_shown_next_to_its_field(manager, team, web_client, value, message):
    client = web_client(manager)
    data = {
        "team": str(team.pk),
        "kind": "voicemail_retry",
        "voicemail_retry-enabled": "on",
        "voicemail_retry-days": value,
    }

    card = client.post(RULES, data, **HTMX)
    page = client.post(RULES, data)

    assert card.status_code == 200 and page.status_code == 400
    for response in (card, page):
        html = response.content.decode()
        field = html.index('name="voicemail_retry-days"')
        error = html.index(message)
        assert 0 < error - field < 400, "the error sits right after its field"
    assert not SuggestionRule.objects.exists()


def test_a_bad_choice_is_refused_next_to_its_field(manager, team, web_client):
    response = web_client(manager).post(
        RULES,
        {
            "team": str(team.pk),
            "kind": "unanswered_calls",
            "unanswered_calls-calls": "3",
            "unanswered_calls-channel": "Pigeon",
        },
        **HTMX,
    )

    assert response.status_code == 200
    assert "Channel to suggest must be one of" in response.content.decode()


def test_a_manager_cannot_see_or_change_another_team(manager, other_team, web_client):
    client = web_client(manager)

    assert client.get(f"{RULES}?team={other_team.pk}").status_code == 404
    assert client.get(f"{RULES}?team=default").status_code == 404
    assert client.get(f"{RULES}?team=not-a-uuid").status_code == 404
    response = client.post(
        RULES, {"team": str(other_team.pk), "kind": "voicemail_retry", "voicemail_retry-days": "5"}
    )
    assert response.status_code == 404
    assert client.post(f"{RULES}reset/", {"team": str(other_team.pk)}).status_code == 404
    assert not SuggestionRule.objects.exists()


def test_an_admin_chooses_a_team_or_the_defaults(admin_user, team, other_team, web_client):
    client = web_client(admin_user)

    html = client.get(RULES).content.decode()
    assert 'id="rules-team"' in html
    assert '<option value="default" selected>Organisation defaults</option>' in html
    assert f'<option value="{other_team.pk}">Team South</option>' in html
    assert "organisation defaults" in html

    client.post(RULES, {"team": "default", "kind": "meeting_no_show", "meeting_no_show-days": "3"})
    south = client.get(f"{RULES}?team={other_team.pk}").content.decode()

    assert SuggestionRule.objects.get(team=None).params == {"days": 3}
    # A team without its own row shows the new default.
    assert re.search(r'name="meeting_no_show-days" value="3"', south)
    assert "Organisation default" in south


def test_reset_returns_a_team_to_the_defaults(manager, team, web_client):
    suggestion_services.suggestion_rule_set(
        actor=manager, team=team, kind="voicemail_retry", params={"days": 9}
    )
    suggestion_services.suggestion_rule_set(
        actor=manager, team=team, kind="meeting_no_show", params={"days": 4}
    )
    client = web_client(manager)
    assert "Reset to defaults" in client.get(RULES).content.decode()

    one = client.post(f"{RULES}reset/", {"team": str(team.pk), "kind": "voicemail_retry"})
    assert one.status_code == 302
    assert list(SuggestionRule.objects.values_list("kind", flat=True)) == ["meeting_no_show"]
    client.post(f"{RULES}reset/", {"team": str(team.pk)})
    assert not SuggestionRule.objects.exists()
    assert "follows the organisation defaults again" in client.get(RULES).content.decode()


def test_the_defaults_cannot_be_reset(admin_user, web_client):
    response = web_client(admin_user).post(f"{RULES}reset/", {"team": "default"}, follow=True)
    assert "cannot be reset, only changed" in response.content.decode()


def test_the_settings_page_links_to_the_rules(rep, web_client):
    assert f'href="{RULES}"' in web_client(rep).get("/settings/").content.decode()


# -- Recommendations ------------------------------------------------------------------------------


def finding(run, **fields):
    values = dict(
        prev_channel="Email",
        prev_outcome="Sent",
        channel="Call",
        delay_bucket="1-2",
        n=200,
        responses=40,
        rate=0.2,
        ci_low=0.15,
        ci_high=0.26,
        baseline_n=800,
        baseline_responses=80,
        baseline_rate=0.1,
        ratio=2.0,
        p_value=0.00001,
        q_value=0.0002,
        sentence="After an email, a call 1-2 days later got replies twice as often.",
    )
    values.update(fields)
    return Finding.objects.create(run=run, **values)


def done_run(**fields):
    return AnalysisRun.objects.create(
        status="done", started_at=timezone.now(), finished_at=timezone.now(), **fields
    )


def test_without_a_run_the_page_says_how_to_run_it(rep, web_client):
    html = web_client(rep).get("/recommendations/").content.decode()
    assert "manage.py analyze_history" in html
    assert "every night" in html
    assert 'href="/suggestions/" aria-current="page"' in html


def test_a_run_without_findings_says_nothing_had_enough_evidence(rep, web_client):
    done_run(
        activities=12000,
        touches=3000,
        comparisons=42,
        summary="Read 12,000 activities: 3,000 follow-up touches, 42 comparisons with enough "
        "data; no comparison had enough evidence for a finding; nothing is recommended.",
    )

    html = web_client(rep).get("/recommendations/").content.decode()

    assert "12,000" in html and "3,000" in html and "42" in html
    assert "No comparison had enough evidence for a finding" in html
    assert "<table" not in html


def test_the_findings_table_shows_the_numbers(rep, web_client):
    old = done_run()
    finding(old, sentence="Stale finding")
    run = done_run(comparisons=10, findings_count=2)
    AnalysisRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() + datetime.timedelta(seconds=5)
    )
    finding(run)
    finding(run, ratio=0.5, rate=0.05, sentence="Texting the same day did worse.", q_value=0.02)
    AnalysisRun.objects.create(
        status="failed",
        started_at=timezone.now() + datetime.timedelta(minutes=1),
        summary="The analysis failed: OperationalError: gone",
    )

    html = web_client(rep).get("/recommendations/").content.decode()

    assert "Stale finding" not in html
    assert "a call 1-2 days later got replies twice as often" in html
    assert "20.0%" in html and "10.0%" in html and "15.0% to 26.0%" in html
    assert "2.00\u00d7" in html and "&lt; 0.001" in html and "0.020" in html
    assert 'class="finding-better"' in html and 'class="finding-worse"' in html
    assert "The analysis failed: OperationalError: gone" in html


# -- Strategy editor ------------------------------------------------------------------------------


def test_step_cards_show_what_history_says(rep, web_client, django_assert_max_num_queries):
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type="Email", delay_days=0)
    StrategyStepFactory(strategy=strategy, step_number=2, activity_type="Call", delay_days=2)
    for number in range(3, 26):
        StrategyStepFactory(strategy=strategy, step_number=number, activity_type="Task")
    run = done_run()
    finding(run, sentence="Calling 1-2 days after an email works.")
    finding(run, channel="SMS", sentence="A text after an email works better still.", ratio=3.0)
    finding(
        run,
        channel="Call",
        delay_bucket="1-2",
        prev_outcome="Sent",
        ratio=0.5,
        industry="Retail",
        sentence="For retail, calls after an email do worse.",
    )
    client = web_client(rep)

    with django_assert_max_num_queries(10):
        html = client.get(f"/strategies/{strategy.pk}/").content.decode()

    assert (
        '<li class="finding-note finding-supports"><strong>Supported by history:</strong> '
        "Calling 1-2 days after an email works.</li>"
    ) in html
    assert "History suggests otherwise:</strong> For retail, calls after an email do worse." in (
        html
    )
    assert "Better after this step:</strong> A text after an email works better still." in html
