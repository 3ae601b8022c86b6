"""The suggestions selectors on the database: suggestions by scope, the viewer's open ones and a
lead's, each team's rule settings (own row, else the organisation's, else the code's defaults),
and the current analysis run."""

import datetime
import uuid

import pytest
from django.utils import timezone

from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.suggestions import rules
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Suggestion, SuggestionRule
from cadence.suggestions.selectors import (
    current_run,
    rule_list,
    rule_overrides,
    rule_settings,
    suggestion_list,
    suggestions_of_lead,
    suggestions_open,
)
from cadence.suggestions.services import suggestion_rule_set

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = datetime.timedelta(days=1)
#: The code's defaults of each kind (``suggestions.rules``).
DEFAULTS = {
    "email_no_reply": {"days": 3},
    "unanswered_calls": {"calls": 3, "channel": "Email"},
    "voicemail_retry": {"days": 2},
    "meeting_no_show": {"days": 1},
    "paused_stale": {"days": 14},
    "recommendation": {},
}


def lead_of(user):
    return ContactFactory(owner=user, company=CompanyFactory(owner=user))


def suggestion(user, *, contact=None, due_in=1, status=SuggestionStatus.OPEN, **fields):
    contact = contact or lead_of(user)
    return Suggestion.objects.create(
        kind=SuggestionKind.MEETING_NO_SHOW,
        user=user,
        company=contact.company,
        contact=contact,
        status=status,
        due_at=NOW + due_in * DAY,
        title="Reschedule the meeting",
        reason="They did not show up.",
        dedupe_key=f"test:{uuid.uuid4()}",
        **fields,
    )


def ids(rows):
    return {row.pk for row in rows}


def test_suggestion_list_is_scoped_by_role(
    rep, teammate, manager, outsider, other_manager, admin_user
):
    made = {u.username: suggestion(u).pk for u in (rep, teammate, manager, outsider, admin_user)}
    assert ids(suggestion_list(viewer=rep)) == {made["rep"]}
    assert ids(suggestion_list(viewer=manager)) == {made["rep"], made["teammate"], made["manager"]}
    assert ids(suggestion_list(viewer=other_manager)) == {made["outsider"]}
    assert ids(suggestion_list(viewer=admin_user)) == set(made.values())


def test_open_suggestions_are_the_viewers_own_soonest_first(rep, manager):
    later, soonest, middle = (suggestion(rep, due_in=days) for days in (3, -1, 2))
    for status in ("accepted", "dismissed", "withdrawn"):
        suggestion(rep, due_in=-5, status=status)
    tied = [suggestion(rep, due_in=5, contact=later.contact).pk for _ in range(2)]
    own = suggestion(manager, due_in=4)

    listed = [s.pk for s in suggestions_open(viewer=rep)]
    assert listed == [soonest.pk, middle.pk, later.pk, *sorted(tied)]
    assert [s.pk for s in suggestions_open(viewer=rep, limit=2)] == [soonest.pk, middle.pk]
    # A manager's own open suggestions: not the team's.
    assert [s.pk for s in suggestions_open(viewer=manager)] == [own.pk]


def test_suggestions_of_a_lead_or_a_plan(rep, teammate, manager, outsider):
    contact = lead_of(rep)
    plan = LeadContactPlanFactory(user=rep, contact=contact)
    other_plan = LeadContactPlanFactory(user=rep, contact=contact, status="Completed")
    on_contact = suggestion(rep, contact=contact)
    on_plan = suggestion(rep, contact=contact, plan=plan)
    suggestion(rep, contact=contact, plan=plan, status="dismissed")
    on_other_plan = suggestion(rep, contact=contact, plan=other_plan)
    by_teammate = suggestion(teammate, contact=contact)
    another = lead_of(rep)
    elsewhere = suggestion(
        rep, contact=another, plan=LeadContactPlanFactory(user=rep, contact=another)
    )

    everything = {on_contact.pk, on_plan.pk, on_other_plan.pk}
    assert ids(suggestions_of_lead(viewer=rep, contact=contact)) == everything
    assert ids(suggestions_of_lead(viewer=rep, plan=plan)) == {on_contact.pk, on_plan.pk}
    assert ids(suggestions_of_lead(viewer=rep, plan=other_plan)) == {
        on_contact.pk,
        on_other_plan.pk,
    }
    assert ids(suggestions_of_lead(viewer=rep, plan=elsewhere.plan)) == {elsewhere.pk}
    assert ids(suggestions_of_lead(viewer=manager, contact=contact)) == {
        *everything,
        by_teammate.pk,
    }
    assert ids(suggestions_of_lead(viewer=manager, plan=plan)) == {
        on_contact.pk,
        on_plan.pk,
        by_teammate.pk,
    }
    assert suggestions_of_lead(viewer=outsider, contact=contact) == []
    assert suggestions_of_lead(viewer=outsider, plan=plan) == []


@pytest.fixture
def tuned(team, other_team, manager, admin_user):
    """Organisation defaults for two kinds; Team North's own rows for two kinds (one of them
    with a stale parameter the code no longer knows, and one left partial)."""
    suggestion_rule_set(actor=admin_user, team=None, kind="email_no_reply", params={"days": 5})
    SuggestionRule.objects.filter(team=None, kind="email_no_reply").update(enabled=False)
    suggestion_rule_set(actor=admin_user, team=None, kind="paused_stale", params={"days": 30})
    suggestion_rule_set(
        actor=manager, team=team, kind="email_no_reply", enabled=True, params={"days": 6}
    )
    SuggestionRule.objects.create(
        team=team, kind="unanswered_calls", enabled=False, params={"calls": 5, "gone": 1}
    )


def test_rule_settings_fall_back_from_team_to_organisation_to_code(
    tuned, team, other_team, django_assert_num_queries
):
    with django_assert_num_queries(1):
        settings = rule_settings(iter([team.pk, other_team.pk, None, team.pk]))

    assert set(settings) == {team.pk, other_team.pk, None}
    organisation = {kind: (True, params) for kind, params in DEFAULTS.items()}
    organisation["email_no_reply"] = (False, {"days": 5})
    organisation["paused_stale"] = (True, {"days": 30})
    assert settings[None] == organisation
    assert settings[other_team.pk] == organisation
    assert settings[team.pk] == {
        **organisation,
        "email_no_reply": (True, {"days": 6}),
        "unanswered_calls": (False, {"calls": 5, "channel": "Email"}),
    }


def test_rule_settings_without_rows_are_the_codes_defaults(team):
    expected = {kind: (True, params) for kind, params in DEFAULTS.items()}
    assert rule_settings([team.pk, None]) == {team.pk: expected, None: expected}
    assert rule_settings([]) == {}


def test_rule_list_and_overrides(tuned, team, other_team):
    listed = rule_list(team=team)
    assert [rule["kind"] for rule in listed] == list(rules.KINDS)
    by_kind = {rule["kind"]: rule for rule in listed}
    assert (by_kind["email_no_reply"]["enabled"], by_kind["email_no_reply"]["params"]) == (
        True,
        {"days": 6},
    )
    assert by_kind["paused_stale"]["params"] == {"days": 30}
    assert by_kind["unanswered_calls"]["label"] == "Unanswered calls"
    assert by_kind["unanswered_calls"]["definitions"] == rules.KINDS["unanswered_calls"].params
    assert {rule["team"] for rule in listed} == {team}
    default = {rule["kind"]: rule for rule in rule_list(team=None)}
    assert (default["email_no_reply"]["enabled"], default["email_no_reply"]["params"]) == (
        False,
        {"days": 5},
    )
    assert {rule["team"] for rule in default.values()} == {None}

    assert rule_overrides(team=team) == {"email_no_reply", "unanswered_calls"}
    assert rule_overrides(team=other_team) == set()
    assert rule_overrides(team=None) == set()


def test_current_run_is_the_newest_finished_one():
    assert current_run() is None
    old = AnalysisRun.objects.create(status="done", started_at=NOW - 2 * DAY)
    newest = AnalysisRun.objects.create(status="done", started_at=NOW - DAY)
    AnalysisRun.objects.create(status="done", started_at=NOW - 3 * DAY)
    assert current_run().pk == newest.pk
    AnalysisRun.objects.create(status="running", started_at=NOW)
    AnalysisRun.objects.create(status="failed", started_at=NOW - DAY / 2)
    assert current_run().pk == newest.pk
    AnalysisRun.objects.filter(pk=newest.pk).update(status="failed")
    assert current_run().pk == old.pk
