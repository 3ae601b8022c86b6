"""Tuning the suggestion rules and acting on suggestions, called directly: what ``test_rules``
leaves out. Who may tune or reset which team's rules, how a change merges with the current
settings, each parameter's bounds; who may accept, dismiss or close a suggestion's task, and the
state errors, on ``status``, when it is not open or no longer applies."""

import datetime
import uuid

import pytest
from django.utils import timezone

from cadence.activities.choices import ActivityType, ReminderStatus
from cadence.activities.models import Reminder
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.choices import EmailStatus
from cadence.crm.tests.factories import ContactFactory
from cadence.suggestions.actions import (
    SuggestionStateError,
    suggestion_accept,
    suggestion_dismiss,
    suggestion_task_done,
)
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import Suggestion, SuggestionRule
from cadence.suggestions.selectors import rule_settings
from cadence.suggestions.services import suggestion_rule_reset, suggestion_rule_set

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def suggest(user, *, activity_type=ActivityType.CALL, **fields):
    """An open suggestion for ``user`` about a contact of theirs, due tomorrow."""
    contact = fields.pop("contact", None) or ContactFactory(company__owner=user, first_name="Ann")
    return Suggestion.objects.create(
        **{
            "kind": SuggestionKind.VOICEMAIL_RETRY,
            "user": user,
            "company": contact.company,
            "contact": contact,
            "activity_type": activity_type,
            "due_at": timezone.now() + DAY,
            "title": "Call Ann again",
            "reason": "You left a voicemail.",
            "dedupe_key": f"test:{uuid.uuid4()}",
            **fields,
        }
    )


def team_settings(team, kind):
    return rule_settings([team.pk])[team.pk][kind]


# -- Tuning the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "which", "refusal"),
    [
        ("manager", "team", None),
        ("admin_user", "other_team", None),
        ("rep", "team", "Only managers and admins tune"),
        ("other_manager", "team", "their own team only"),
    ],
)
def test_who_may_tune_and_reset_a_teams_rules(request, actor, which, refusal):
    """A manager tunes and resets their own team's rules, an admin any team's; a rep or another
    team's manager is refused both, on no field, and the team keeps its settings."""
    user, team = request.getfixturevalue(actor), request.getfixturevalue(which)
    kind = SuggestionKind.EMAIL_NO_REPLY
    if refusal is None:
        suggestion_rule_set(actor=user, team=team, kind=kind, enabled=False, params={"days": 9})
        assert team_settings(team, kind) == (False, {"days": 9})
        suggestion_rule_reset(actor=user, team=team, kind=kind)
    else:
        for change in (suggestion_rule_set, suggestion_rule_reset):
            with pytest.raises(PermissionDeniedError, match=refusal) as refused:
                change(actor=user, team=team, kind=kind)
            assert refused.value.field is None
    assert team_settings(team, kind) == (True, {"days": 3})
    assert not SuggestionRule.objects.exists()


def test_a_reset_returns_one_kind_of_one_team_to_the_organisation_default(
    manager, admin_user, team, other_team
):
    """The organisation default stays, and so do the team's other kinds and other teams'."""
    calls, voicemail = SuggestionKind.UNANSWERED_CALLS, SuggestionKind.VOICEMAIL_RETRY
    suggestion_rule_set(actor=admin_user, team=None, kind=calls, params={"calls": 5})
    suggestion_rule_set(actor=manager, team=team, kind=calls, params={"calls": 2})
    suggestion_rule_set(actor=manager, team=team, kind=voicemail, params={"days": 7})
    suggestion_rule_set(actor=admin_user, team=other_team, kind=calls, params={"calls": 4})
    suggestion_rule_reset(actor=manager, team=team, kind=calls)
    assert team_settings(team, calls) == (True, {"calls": 5, "channel": "Email"})
    assert team_settings(team, voicemail) == (True, {"days": 7})
    assert team_settings(other_team, calls)[1]["calls"] == 4


def test_a_change_keeps_what_it_does_not_name(manager, admin_user, team):
    """A team's first change starts from the organisation default (on/off and parameters);
    parameters or switch not given keep their current values."""
    kind = SuggestionKind.UNANSWERED_CALLS
    suggestion_rule_set(actor=admin_user, team=None, kind=kind, enabled=False, params={"calls": 6})
    rule = suggestion_rule_set(actor=manager, team=team, kind=kind, params={"channel": "SMS"})
    assert (rule.enabled, rule.params) == (False, {"calls": 6, "channel": "SMS"})
    suggestion_rule_set(actor=manager, team=team, kind=kind, enabled=True)
    suggestion_rule_set(actor=manager, team=team, kind=kind, params={"calls": 2})
    assert team_settings(team, kind) == (True, {"calls": 2, "channel": "SMS"})
    assert SuggestionRule.objects.filter(team=team).count() == 1


@pytest.mark.parametrize(
    ("kind", "params", "stored"),
    [
        ("email_no_reply", {"days": 60}, {"days": 60}),
        ("email_no_reply", {"days": " 7 "}, {"days": 7}),
        ("voicemail_retry", {"days": 0}, {"days": 0}),
        ("meeting_no_show", {"days": 30}, {"days": 30}),
        ("paused_stale", {"days": 365}, {"days": 365}),
        ("unanswered_calls", {"calls": 20}, {"calls": 20, "channel": "Email"}),
        ("email_no_reply", {"days": 61}, "between 1 and 60"),
        ("voicemail_retry", {"days": -1}, "between 0 and 60"),
        ("meeting_no_show", {"days": 31}, "between 0 and 30"),
        ("paused_stale", {"days": 366}, "between 1 and 365"),
        ("unanswered_calls", {"calls": 1}, "between 2 and 20"),
        ("unanswered_calls", {"channel": "Call"}, "must be one of"),
        ("email_no_reply", {"days": 2.5}, "whole number"),
        ("email_no_reply", {"days": True}, "whole number"),
        ("recommendation", {"days": 3}, "Unknown parameter: days."),
    ],
)
def test_each_parameter_is_kept_within_its_bounds(admin_user, team, kind, params, stored):
    """Values at a bound are taken (numbers given as text too); past it, or not whole, or not a
    choice, a CadenceError on ``params`` names the bound, and no rule is saved."""
    if isinstance(stored, dict):
        rule = suggestion_rule_set(actor=admin_user, team=team, kind=kind, params=params)
        assert SuggestionRule.objects.get(pk=rule.pk).params == stored
        return
    with pytest.raises(CadenceError, match=stored) as refused:
        suggestion_rule_set(actor=admin_user, team=team, kind=kind, params=params)
    assert refused.value.field == "params"
    assert not SuggestionRule.objects.exists()


def test_an_unknown_kind_is_refused_on_kind(admin_user, team):
    with pytest.raises(CadenceError, match="Unknown rule kind: fax_blast") as refused:
        suggestion_rule_set(actor=admin_user, team=team, kind="fax_blast", enabled=False)
    assert refused.value.field == "kind"
    assert not SuggestionRule.objects.exists()


# -- Acting on a suggestion ----------------------------------------------------------------------

ACTORS = [("rep", True), ("manager", True), ("admin_user", True)]
ACTORS += [("teammate", False), ("outsider", False), ("other_manager", False)]


@pytest.mark.parametrize(("actor", "allowed"), ACTORS)
def test_the_owner_their_manager_or_an_admin_act_on_a_suggestion(request, rep, actor, allowed):
    """They accept (a task for the owner, whoever accepts), dismiss and close the task; anyone
    else is refused each, on no field, and nothing changes."""
    user = request.getfixturevalue(actor)
    accepted, dismissed = suggest(rep), suggest(rep)
    if allowed:
        accepted = suggestion_accept(suggestion=accepted, actor=user)
        assert (accepted.decided_by, accepted.reminder.user) == (user, rep)
        assert suggestion_dismiss(suggestion=dismissed, actor=user).decided_by == user
        suggestion_task_done(suggestion=accepted, actor=user)
        assert Reminder.objects.get().status == ReminderStatus.DISMISSED
        return
    for act in (suggestion_accept, suggestion_dismiss, suggestion_task_done):
        with pytest.raises(PermissionDeniedError, match="owner or their manager") as refused:
            act(suggestion=accepted, actor=user)
        assert refused.value.field is None
    assert set(Suggestion.objects.values_list("status", flat=True)) == {SuggestionStatus.OPEN}
    assert not Reminder.objects.exists()


def test_a_decided_suggestion_is_a_state_error_on_status_that_says_why(rep):
    """Accepted: it cannot be dismissed. Withdrawn: the refusal repeats why it was withdrawn."""
    accepted = suggestion_accept(suggestion=suggest(rep), actor=rep)
    withdrawn = suggest(
        rep, status=SuggestionStatus.WITHDRAWN, withdrawn_reason="The contact opted out."
    )
    with pytest.raises(SuggestionStateError, match="it is accepted") as on_accepted:
        suggestion_dismiss(suggestion=accepted, actor=rep)
    with pytest.raises(SuggestionStateError, match=r"withdrawn \(The contact opted out\.\)") as w:
        suggestion_accept(suggestion=withdrawn, actor=rep)
    assert on_accepted.value.field == w.value.field == "status"
    assert Suggestion.objects.get(pk=accepted.pk).status == SuggestionStatus.ACCEPTED


@pytest.mark.parametrize(
    ("unreachable", "why"),
    [
        ({"opted_out": True, "opted_out_at": timezone.now()}, "The contact opted out."),
        ({"email_status": EmailStatus.BOUNCED}, "The contact's email address bounced."),
    ],
)
def test_an_email_suggestion_to_an_unreachable_contact_is_withdrawn_on_accept(
    rep, unreachable, why
):
    """An email to a contact who opted out or bounced no longer applies: accepting withdraws it
    with that reason and raises a state error on ``status``; no task is made."""
    contact = ContactFactory(company__owner=rep, **unreachable)
    suggestion = suggest(rep, contact=contact, activity_type=ActivityType.EMAIL)
    with pytest.raises(SuggestionStateError, match="no longer applies") as refused:
        suggestion_accept(suggestion=suggestion, actor=rep)
    assert refused.value.field == "status"
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.withdrawn_reason) == (SuggestionStatus.WITHDRAWN, why)
    assert suggestion.decided_at is not None and not Reminder.objects.exists()


def test_an_opt_out_stops_a_call_suggestion_too(rep):
    """An opt-out is from every channel: accepting a call suggestion withdraws it, no task."""
    contact = ContactFactory(company__owner=rep, opted_out=True, opted_out_at=timezone.now())
    suggestion = suggest(rep, contact=contact, activity_type=ActivityType.CALL)
    with pytest.raises(SuggestionStateError, match="no longer applies"):
        suggestion_accept(suggestion=suggestion, actor=rep)
    suggestion.refresh_from_db()
    assert suggestion.withdrawn_reason == "The contact opted out."
    assert not Reminder.objects.exists()


def test_a_bounced_address_does_not_stop_a_call_suggestion(rep):
    contact = ContactFactory(company__owner=rep, email_status=EmailStatus.BOUNCED)
    accepted = suggestion_accept(suggestion=suggest(rep, contact=contact), actor=rep)
    assert accepted.status == SuggestionStatus.ACCEPTED and accepted.reminder is not None


def test_the_due_time_of_the_task(rep):
    """A suggestion already past its date makes a task due now, not in the past; a chosen time
    a few minutes ago (a form filled in just now) is taken; ten minutes ago is refused."""
    start = timezone.now()
    overdue = suggestion_accept(suggestion=suggest(rep, due_at=start - 3 * DAY), actor=rep)
    assert start <= overdue.reminder.due_at <= timezone.now()
    recent = start - datetime.timedelta(minutes=2)
    chosen = suggestion_accept(suggestion=suggest(rep), actor=rep, due_at=recent)
    assert chosen.reminder.due_at == recent
    late = suggest(rep)
    with pytest.raises(CadenceError, match="in the past") as refused:
        suggestion_accept(suggestion=late, actor=rep, due_at=start - datetime.timedelta(minutes=10))
    assert refused.value.field == "due_at"
    assert Suggestion.objects.get(pk=late.pk).status == SuggestionStatus.OPEN


def test_closing_a_task_needs_one(rep):
    """An open or dismissed suggestion has no task to close: a state error on ``status``."""
    for suggestion in (suggest(rep), suggestion_dismiss(suggestion=suggest(rep), actor=rep)):
        with pytest.raises(SuggestionStateError, match="no open task") as refused:
            suggestion_task_done(suggestion=suggestion, actor=rep)
        assert refused.value.field == "status"


def test_only_a_teams_known_rule_is_reset(admin_user, team):
    """The organisation's settings are changed, not reset; an unknown kind is refused on its
    field; the organisation's row stays."""
    kind = SuggestionKind.UNANSWERED_CALLS
    suggestion_rule_set(actor=admin_user, team=None, kind=kind, params={"calls": 5})
    with pytest.raises(CadenceError, match="cannot be reset, only changed"):
        suggestion_rule_reset(actor=admin_user, team=None, kind=kind)
    with pytest.raises(CadenceError, match="Unknown rule kind") as refused:
        suggestion_rule_reset(actor=admin_user, team=team, kind="no_such_kind")
    assert refused.value.field == "kind"
    assert SuggestionRule.objects.filter(team=None, kind=kind).exists()
