"""The suggestions API: who sees and acts on what, rule settings per team, recommendations."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadence.activities.choices import ActivityType, Outcome
from cadence.activities.models import Reminder
from cadence.crm.tests.factories import ContactFactory
from cadence.plans import services as plan_services
from cadence.suggestions.choices import SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion

pytestmark = pytest.mark.django_db
URL = "/api/v1/suggestions/"
RULES = "/api/v1/suggestion-rules/"


def voicemail(user, **contact):
    contact = ContactFactory(company__owner=user, **contact)
    plan_services.activity_log(
        actor=user,
        contact=contact,
        activity_type=ActivityType.CALL,
        outcome=Outcome.VOICEMAIL_LEFT,
    )
    return Suggestion.objects.get(contact=contact)


def test_reps_see_their_own_managers_their_team(client_for, rep, teammate, manager, outsider):
    mine, theirs, foreign = voicemail(rep), voicemail(teammate), voicemail(outsider)
    ids = lambda user: {row["suggestion_id"] for row in client_for(user).get(URL).json()["results"]}  # noqa: E731
    assert ids(rep) == {str(mine.pk)}
    assert ids(manager) == {str(mine.pk), str(theirs.pk)}
    assert str(foreign.pk) not in ids(manager)


def test_list_filters_and_fields(client_for, rep):
    suggestion = voicemail(rep, first_name="Ann", last_name="Lee")
    body = client_for(rep).get(URL, {"status": "open", "contact_id": suggestion.contact_id}).json()
    [row] = body["results"]
    assert row["title"] == "Call Ann Lee again"
    assert row["kind"] == "voicemail_retry"
    assert row["contact_name"] == "Ann Lee"
    assert "voicemail" in row["reason"]
    assert client_for(rep).get(URL, {"status": "dismissed"}).json()["results"] == []
    assert client_for(rep).get(URL, {"status": "nonsense"}).status_code == 400


def test_list_query_budget(client_for, rep):
    for _ in range(15):
        voicemail(rep)
    client = client_for(rep)
    with CaptureQueriesContext(connection) as queries:
        assert len(client.get(URL).json()["results"]) == 15
    assert len(queries) <= 4


def test_accept_makes_a_task(client_for, rep):
    suggestion = voicemail(rep)
    due = (timezone.now() + datetime.timedelta(days=4)).replace(microsecond=0)
    response = client_for(rep).post(
        f"{URL}{suggestion.pk}/accept/", {"due_at": due.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "accepted"
    reminder = Reminder.objects.get(pk=body["reminder_id"])
    assert reminder.due_at == due and reminder.user == rep


def test_accept_twice_is_a_clear_400(client_for, rep):
    suggestion = voicemail(rep)
    client = client_for(rep)
    assert client.post(f"{URL}{suggestion.pk}/accept/").status_code == 200
    response = client.post(f"{URL}{suggestion.pk}/accept/")
    assert response.status_code == 400
    assert "it is accepted" in response.json()["status"][0]
    assert Reminder.objects.count() == 1


def test_accept_as_step_of_a_shared_strategy_is_refused(client_for, rep):
    suggestion = voicemail(rep)
    response = client_for(rep).post(
        f"{URL}{suggestion.pk}/accept/", {"as_step": True}, format="json"
    )
    assert response.status_code == 400
    assert Suggestion.objects.get().status == SuggestionStatus.OPEN


def test_accept_with_a_bad_date_is_400(client_for, rep):
    suggestion = voicemail(rep)
    response = client_for(rep).post(
        f"{URL}{suggestion.pk}/accept/", {"due_at": "tomorrow-ish"}, format="json"
    )
    assert response.status_code == 400 and "due_at" in response.json()


def test_dismiss(client_for, rep):
    suggestion = voicemail(rep)
    response = client_for(rep).post(f"{URL}{suggestion.pk}/dismiss/")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"


def test_permissions_on_actions(client_for, rep, teammate, manager, outsider, api_client):
    suggestion = voicemail(rep)
    assert client_for(outsider).post(f"{URL}{suggestion.pk}/dismiss/").status_code == 404
    assert client_for(teammate).post(f"{URL}{suggestion.pk}/dismiss/").status_code == 404
    assert api_client.get(URL).status_code == 401
    assert client_for(manager).post(f"{URL}{suggestion.pk}/dismiss/").status_code == 200
    assert client_for(rep).get(f"{URL}not-a-uuid/").status_code == 404


def test_rules_list_shows_every_kind_with_its_settings(client_for, rep):
    rules = client_for(rep).get(RULES).json()
    kinds = {rule["kind"]: rule for rule in rules}
    assert set(kinds) == {
        "email_no_reply",
        "voicemail_retry",
        "unanswered_calls",
        "meeting_no_show",
        "paused_stale",
        "recommendation",
    }
    assert kinds["email_no_reply"]["params"] == {"days": 3}
    assert kinds["email_no_reply"]["enabled"] is True
    assert kinds["unanswered_calls"]["definitions"][1]["choices"][0] == "Email"


def test_manager_tunes_own_team(client_for, rep, manager):
    client = client_for(manager)
    response = client.patch(
        f"{RULES}email_no_reply/", {"params": {"days": 6}, "enabled": False}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["params"] == {"days": 6} and response.json()["enabled"] is False
    # A rep of the team reads the team's settings.
    rule = client_for(rep).get(f"{RULES}email_no_reply/").json()
    assert rule["params"] == {"days": 6} and rule["team_id"] == str(rep.team_id)
    # Back to the organisation defaults.
    assert client.delete(f"{RULES}email_no_reply/").json()["params"] == {"days": 3}


def test_rule_changes_refused_clearly(client_for, rep, manager, other_team, admin_user):
    assert client_for(rep).patch(f"{RULES}email_no_reply/", {"enabled": False}).status_code == 403
    response = client_for(manager).patch(
        f"{RULES}email_no_reply/", {"params": {"days": "many"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"params": ["Days without a reply must be a whole number."]}
    other = f"{RULES}email_no_reply/?team_id={other_team.pk}"
    assert client_for(manager).patch(other, {"enabled": False}).status_code == 404
    assert client_for(manager).get(f"{RULES}nope/").status_code == 404
    assert client_for(manager).get(f"{RULES}?team_id=garbage").status_code == 400
    default = f"{RULES}email_no_reply/?team_id=default"
    assert client_for(manager).patch(default, {"enabled": False}).status_code == 403
    assert client_for(admin_user).patch(other, {"enabled": False}).status_code == 200
    response = client_for(admin_user).patch(default, {"params": {"days": 2}}, format="json")
    assert response.json()["params"] == {"days": 2}


def test_recommendations_show_the_newest_run(client_for, rep):
    assert client_for(rep).get("/api/v1/recommendations/").json()["results"] == []
    old = AnalysisRun.objects.create(status="done", started_at=timezone.now())
    new = AnalysisRun.objects.create(
        status="done",
        started_at=timezone.now() + datetime.timedelta(seconds=1),
        summary="Read 10 activities; nothing is recommended.",
    )
    common = dict(
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
        p_value=0.001,
        q_value=0.01,
    )
    Finding.objects.create(run=old, sentence="old", **common)
    Finding.objects.create(run=new, sentence="new", **common)
    rows = client_for(rep).get("/api/v1/recommendations/").json()["results"]
    assert [row["sentence"] for row in rows] == ["new"]
    runs = client_for(rep).get("/api/v1/analysis-runs/").json()["results"]
    assert runs[0]["summary"] == "Read 10 activities; nothing is recommended."
