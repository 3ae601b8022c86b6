"""Rule-based suggestions: made from activities and silences, once each, withdrawn when moot,
accepted as tasks or steps, dismissed for good."""

import datetime

import pytest
from django.utils import timezone

from cadence.activities.choices import ActivityType, Direction, Outcome, ReminderStatus
from cadence.activities.models import Activity
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.tests.factories import ContactFactory
from cadence.ops.scheduler import scheduler_pass
from cadence.plans import exits
from cadence.plans import services as plan_services
from cadence.plans.choices import PlanStatus
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.suggestions import services
from cadence.suggestions.actions import (
    SuggestionStateError,
    suggestion_accept,
    suggestion_dismiss,
)
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion
from cadence.suggestions.services import suggestion_rule_set, suggestions_generate_due

pytestmark = pytest.mark.django_db
NOW = timezone.now()
#: An email this old has waited past the default three days (due half a day ago).
DAYS_3_5 = datetime.timedelta(days=3, hours=12)


@pytest.fixture
def contact(rep):
    return ContactFactory(company__owner=rep, first_name="Ann", last_name="Lee")


def log(user, contact, activity_type, outcome="", *, at=None, direction=Direction.OUTBOUND, **more):
    return plan_services.activity_log(
        actor=user,
        contact=contact,
        activity_type=activity_type,
        outcome=outcome,
        direction=direction,
        occurred_at=at or timezone.now(),
        **more,
    )


def open_of(kind=None):
    qs = Suggestion.objects.filter(status=SuggestionStatus.OPEN)
    return list(qs.filter(kind=kind) if kind else qs)


# -- Event rules -------------------------------------------------------------------------------


def test_voicemail_suggests_another_call_after_the_set_days(rep, contact):
    """A voicemail makes one suggestion, a call two days later, that says why."""
    call = log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    [suggestion] = open_of()
    assert suggestion.kind == SuggestionKind.VOICEMAIL_RETRY
    assert suggestion.title == "Call Ann Lee again"
    assert suggestion.activity_type == ActivityType.CALL
    assert suggestion.due_at == call.occurred_at + datetime.timedelta(days=2)
    assert "voicemail" in suggestion.reason and suggestion.user == rep
    assert suggestion.trigger_activity == call


def test_the_same_activity_never_makes_a_second_suggestion(rep, contact):
    """Running the rules again on an activity (a retry, a second listener call) adds nothing."""
    call = log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    assert services.suggestions_on_activities([call]) == 0
    assert services.suggestions_on_activities([Activity.objects.get(pk=call.pk)]) == 0
    assert Suggestion.objects.count() == 1


def test_a_later_call_withdraws_the_call_again_suggestion(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(1))
    log(rep, contact, ActivityType.CALL, Outcome.CONNECTED)
    first = Suggestion.objects.get()
    assert first.status == SuggestionStatus.WITHDRAWN
    assert "answered" in first.withdrawn_reason


def test_an_earlier_activity_logged_late_does_not_withdraw(rep, contact):
    """Back-filling yesterday's email does not make today's voicemail suggestion moot."""
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER, at=NOW - datetime.timedelta(days=2))
    assert [s.kind for s in open_of()] == [SuggestionKind.VOICEMAIL_RETRY]


def test_an_email_does_not_withdraw_a_call_again_suggestion(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(1))
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT)
    assert [s.kind for s in open_of()] == [SuggestionKind.VOICEMAIL_RETRY]


def test_a_reply_withdraws_every_open_suggestion_about_the_contact(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(5))
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    suggestions_generate_due(now=NOW)
    assert len(open_of()) == 2
    log(rep, contact, ActivityType.EMAIL, Outcome.REPLIED, direction=Direction.INBOUND)
    assert open_of() == []
    assert Suggestion.objects.filter(status=SuggestionStatus.WITHDRAWN).count() == 2


def test_unanswered_calls_in_a_row_suggest_another_channel(rep, contact):
    """The third unanswered call suggests an email instead, and no fourth call."""
    for days, outcome in ((3, Outcome.NO_ANSWER), (2, Outcome.NO_ANSWER)):
        log(rep, contact, ActivityType.CALL, outcome, at=NOW - datetime.timedelta(days))
    assert open_of(SuggestionKind.UNANSWERED_CALLS) == []
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    [suggestion] = open_of()
    assert suggestion.kind == SuggestionKind.UNANSWERED_CALLS
    assert suggestion.activity_type == ActivityType.EMAIL
    assert suggestion.title == "Email Ann Lee instead of calling"
    assert suggestion.reason.startswith("3 calls in a row")


def test_an_answered_call_restarts_the_count(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER, at=NOW - datetime.timedelta(4))
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER, at=NOW - datetime.timedelta(3))
    log(rep, contact, ActivityType.CALL, Outcome.CONNECTED, at=NOW - datetime.timedelta(2))
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER)
    assert open_of(SuggestionKind.UNANSWERED_CALLS) == []


def test_a_team_sets_its_own_threshold_and_channel(rep, manager, contact):
    suggestion_rule_set(
        actor=manager,
        team=rep.team,
        kind=SuggestionKind.UNANSWERED_CALLS,
        params={"calls": 2, "channel": ActivityType.LINKEDIN_MESSAGE},
    )
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER, at=NOW - datetime.timedelta(1))
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER)
    [suggestion] = open_of()
    assert suggestion.activity_type == ActivityType.LINKEDIN_MESSAGE
    assert suggestion.title == "Send Ann Lee a LinkedIn message instead of calling"


def test_meeting_no_show_suggests_rescheduling(rep, contact):
    meeting = log(rep, contact, ActivityType.MEETING, Outcome.NO_SHOW)
    [suggestion] = open_of()
    assert suggestion.title == "Reschedule the meeting with Ann Lee"
    assert suggestion.due_at == meeting.occurred_at + datetime.timedelta(days=1)


def test_a_disabled_rule_makes_nothing(rep, manager, contact):
    suggestion_rule_set(
        actor=manager, team=rep.team, kind=SuggestionKind.VOICEMAIL_RETRY, enabled=False
    )
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    assert Suggestion.objects.count() == 0


def test_a_failing_rule_never_fails_the_activity(rep, contact, monkeypatch, caplog):
    """Suggestions are advice: a broken rule is logged, the activity is kept."""

    def broken(*args, **kwargs):
        raise RuntimeError("rule bug")

    monkeypatch.setattr(services, "_withdraw_moot", broken)
    call = log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    assert Activity.objects.filter(pk=call.pk).exists()
    assert Suggestion.objects.count() == 0
    assert "rule bug" in caplog.text


# -- Time rules (the scheduler pass) -------------------------------------------------------------


def test_email_without_reply_suggests_a_call_once(rep, contact):
    email = log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    log(rep, ContactFactory(company__owner=rep), ActivityType.EMAIL, Outcome.SENT)
    assert suggestions_generate_due(now=NOW) == 1
    [suggestion] = open_of()
    assert suggestion.kind == SuggestionKind.EMAIL_NO_REPLY
    assert suggestion.trigger_activity == email
    assert suggestion.title == "Call Ann Lee"
    assert suggestion.reason.startswith("No reply logged 3 days after your email")
    # The pass runs every minute: it never makes the same suggestion again.
    assert suggestions_generate_due(now=NOW) == 0
    assert scheduler_pass(now=NOW).suggestions_made == 0
    assert Suggestion.objects.count() == 1


def test_email_no_reply_waits_for_the_team_threshold(rep, manager, contact):
    suggestion_rule_set(
        actor=manager, team=rep.team, kind=SuggestionKind.EMAIL_NO_REPLY, params={"days": 5}
    )
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    assert suggestions_generate_due(now=NOW) == 0
    assert suggestions_generate_due(now=NOW + datetime.timedelta(days=1.5, minutes=1)) == 1


def test_email_no_reply_skips_answered_opted_out_and_old_emails(rep, contact):
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    log(
        rep,
        contact,
        ActivityType.EMAIL,
        Outcome.REPLIED,
        direction=Direction.INBOUND,
        at=NOW - datetime.timedelta(days=3),
    )
    gone = ContactFactory(company__owner=rep, opted_out=True, opted_out_at=NOW)
    log(rep, gone, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    bounced = ContactFactory(company__owner=rep, email_status="bounced")
    log(rep, bounced, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    ancient = ContactFactory(company__owner=rep)
    log(rep, ancient, ActivityType.EMAIL, Outcome.SENT, at=NOW - datetime.timedelta(days=90))
    assert suggestions_generate_due(now=NOW) == 0


def test_a_reply_withdraws_the_call_suggestion(rep, contact):
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    suggestions_generate_due(now=NOW)
    log(rep, contact, ActivityType.EMAIL, Outcome.REPLIED, direction=Direction.INBOUND)
    suggestion = Suggestion.objects.get()
    assert suggestion.status == SuggestionStatus.WITHDRAWN
    # A withdrawn suggestion is not made again by the next pass.
    assert suggestions_generate_due(now=NOW) == 0


def test_no_call_suggested_when_the_plan_calls_next(rep, contact):
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type=ActivityType.CALL)
    LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    assert suggestions_generate_due(now=NOW) == 0


def _paused_plan(rep, contact, *, days_ago):
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1)
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    return plan_services.plan_pause(plan=plan, now=NOW - datetime.timedelta(days=days_ago))


def test_paused_plan_gone_quiet_suggests_resume_or_close(rep, contact):
    plan = _paused_plan(rep, contact, days_ago=20)
    fresh = _paused_plan(rep, ContactFactory(company__owner=rep), days_ago=3)
    assert suggestions_generate_due(now=NOW) == 1
    [suggestion] = open_of()
    assert suggestion.plan == plan and suggestion.plan != fresh
    assert suggestion.title == "Resume or close the plan for Ann Lee"
    assert "no touch for 20 days" in suggestion.reason
    assert suggestions_generate_due(now=NOW) == 0


def test_a_recent_touch_keeps_a_paused_plan_from_being_stale(rep, contact):
    _paused_plan(rep, contact, days_ago=20)
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - datetime.timedelta(days=2))
    assert suggestions_generate_due(now=NOW) == 0


def test_resuming_the_plan_withdraws_the_suggestion(rep, contact):
    plan = _paused_plan(rep, contact, days_ago=20)
    suggestions_generate_due(now=NOW)
    plan_services.plan_resume(plan=plan)
    suggestions_generate_due(now=NOW)
    suggestion = Suggestion.objects.get()
    assert suggestion.status == SuggestionStatus.WITHDRAWN
    assert suggestion.withdrawn_reason == "The plan is no longer paused."


# -- Accepting and dismissing --------------------------------------------------------------------


def test_accepting_makes_a_task_with_a_due_date_and_a_reminder(rep, contact):
    call = log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    suggestion = suggestion_accept(suggestion=Suggestion.objects.get(), actor=rep)
    assert suggestion.status == SuggestionStatus.ACCEPTED and suggestion.decided_by == rep
    reminder = suggestion.reminder
    assert reminder.user == rep and reminder.step is None
    assert reminder.due_at == call.occurred_at + datetime.timedelta(days=2)
    assert reminder.remind_at == reminder.due_at
    assert reminder.message.startswith("Call Ann Lee again.")
    assert reminder.status == ReminderStatus.PENDING


def test_logging_the_suggested_call_closes_the_task(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(1))
    suggestion = suggestion_accept(suggestion=Suggestion.objects.get(), actor=rep)
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER)
    suggestion.reminder.refresh_from_db()
    assert suggestion.reminder.status == ReminderStatus.DISMISSED


def test_accepting_with_a_chosen_due_date(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    due = NOW + datetime.timedelta(days=5)
    suggestion = suggestion_accept(suggestion=Suggestion.objects.get(), actor=rep, due_at=due)
    assert suggestion.reminder.due_at == due


def test_a_decided_suggestion_cannot_be_decided_again(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    suggestion = suggestion_dismiss(suggestion=Suggestion.objects.get(), actor=rep)
    assert suggestion.status == SuggestionStatus.DISMISSED
    with pytest.raises(SuggestionStateError, match="it is dismissed"):
        suggestion_accept(suggestion=suggestion, actor=rep)
    with pytest.raises(SuggestionStateError, match="it is dismissed"):
        suggestion_dismiss(suggestion=suggestion, actor=rep)


def test_a_dismissed_suggestion_is_not_made_again(rep, contact):
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - DAYS_3_5)
    suggestions_generate_due(now=NOW)
    suggestion_dismiss(suggestion=Suggestion.objects.get(), actor=rep)
    assert suggestions_generate_due(now=NOW + datetime.timedelta(hours=1)) == 0
    assert Suggestion.objects.count() == 1


def test_another_rep_may_not_act_on_my_suggestion(rep, teammate, manager, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    suggestion = Suggestion.objects.get()
    with pytest.raises(PermissionDeniedError):
        suggestion_dismiss(suggestion=suggestion, actor=teammate)
    assert suggestion_dismiss(suggestion=suggestion, actor=manager).decided_by == manager


def test_accepting_a_stale_plan_suggestion_after_resume_withdraws_it(rep, contact):
    plan = _paused_plan(rep, contact, days_ago=20)
    suggestions_generate_due(now=NOW)
    plan_services.plan_resume(plan=plan)
    with pytest.raises(SuggestionStateError, match="no longer applies"):
        suggestion_accept(suggestion=Suggestion.objects.get(), actor=rep)
    assert Suggestion.objects.get().status == SuggestionStatus.WITHDRAWN


def test_accepting_as_a_step_of_a_custom_plan(rep, contact):
    plan = plan_services.plan_create_custom(
        actor=rep,
        user=rep,
        contact=contact,
        steps=[
            {"step_number": 1, "delay_days": 0, "activity_type": "Email"},
            {"step_number": 2, "delay_days": 3, "activity_type": "Email"},
        ],
    )
    log(
        rep,
        contact,
        ActivityType.EMAIL,
        Outcome.SENT,
        plan=plan,
        step=plan.current_step,
    )
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    suggestion = Suggestion.objects.get(kind=SuggestionKind.VOICEMAIL_RETRY)
    suggestion = suggestion_accept(suggestion=suggestion, actor=rep, as_step=True)
    plan.refresh_from_db()
    step = suggestion.step
    assert plan.current_step == step
    assert step.step_number == 2 and step.activity_type == ActivityType.CALL
    assert step.subject_template == "Call Ann Lee again"
    assert [s.step_number for s in plan.strategy.steps.order_by("step_number")] == [1, 2, 3]
    assert plan.next_step_due_date.date() >= (NOW + datetime.timedelta(days=1)).date()


def test_a_shared_strategy_takes_no_step_of_its_own(rep, contact):
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type=ActivityType.EMAIL)
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    log(rep, contact, ActivityType.MEETING, Outcome.NO_SHOW, plan=plan)
    suggestion = Suggestion.objects.get()
    with pytest.raises(CadenceError, match="only a custom plan"):
        suggestion_accept(suggestion=suggestion, actor=rep, as_step=True)
    assert Suggestion.objects.get().status == SuggestionStatus.OPEN
    assert strategy.steps.count() == 1


# -- Rule settings -------------------------------------------------------------------------------


def test_rule_parameters_are_checked(manager):
    with pytest.raises(CadenceError, match="between 1 and 60"):
        suggestion_rule_set(
            actor=manager, team=manager.team, kind="email_no_reply", params={"days": 0}
        )
    with pytest.raises(CadenceError, match="Unknown parameter"):
        suggestion_rule_set(
            actor=manager, team=manager.team, kind="email_no_reply", params={"weeks": 2}
        )
    with pytest.raises(CadenceError, match="one of"):
        suggestion_rule_set(
            actor=manager, team=manager.team, kind="unanswered_calls", params={"channel": "Fax"}
        )


def test_who_may_tune_rules(rep, manager, other_manager, admin_user):
    with pytest.raises(PermissionDeniedError):
        suggestion_rule_set(actor=rep, team=rep.team, kind="email_no_reply", enabled=False)
    with pytest.raises(PermissionDeniedError):
        suggestion_rule_set(actor=other_manager, team=rep.team, kind="email_no_reply")
    with pytest.raises(PermissionDeniedError):
        suggestion_rule_set(actor=manager, team=None, kind="email_no_reply")
    rule = suggestion_rule_set(
        actor=admin_user, team=None, kind="email_no_reply", params={"days": 4}
    )
    assert rule.params == {"days": 4}


def test_organisation_defaults_apply_until_a_team_overrides(rep, manager, admin_user, contact):
    suggestion_rule_set(actor=admin_user, team=None, kind="voicemail_retry", params={"days": 5})
    call = log(
        rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(1)
    )
    assert Suggestion.objects.get().due_at == call.occurred_at + datetime.timedelta(days=5)
    suggestion_rule_set(actor=manager, team=rep.team, kind="voicemail_retry", params={"days": 1})
    second = log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    assert Suggestion.objects.get(trigger_activity=second).due_at == (
        second.occurred_at + datetime.timedelta(days=1)
    )


# -- Recommendations -----------------------------------------------------------------------------


@pytest.fixture
def finding(db):
    run = AnalysisRun.objects.create(status="done", started_at=NOW, finished_at=NOW)
    return Finding.objects.create(
        run=run,
        industry="Technology",
        size_band="",
        prev_channel=ActivityType.EMAIL,
        prev_outcome=Outcome.SENT,
        channel=ActivityType.LINKEDIN_MESSAGE,
        delay_bucket="3-5",
        n=240,
        responses=43,
        rate=0.181,
        ci_low=0.135,
        ci_high=0.235,
        baseline_n=2000,
        baseline_responses=150,
        baseline_rate=0.075,
        ratio=2.4,
        p_value=1e-6,
        q_value=1e-5,
        sentence="Technology leads reply 2.4x more often to a LinkedIn message 3-5 days after "
        "an email (18.1% vs 7.5%, n = 240, 95% CI 13.5-23.5%).",
    )


def test_a_finding_suggests_the_next_touch_for_a_matching_lead(rep, contact, finding):
    email = log(rep, contact, ActivityType.EMAIL, Outcome.SENT)
    [suggestion] = open_of(SuggestionKind.RECOMMENDATION)
    assert suggestion.finding == finding
    assert suggestion.activity_type == ActivityType.LINKEDIN_MESSAGE
    assert suggestion.due_at == email.occurred_at + datetime.timedelta(days=3)
    assert suggestion.title == "LinkedIn Message to Ann Lee in 3-5 days"
    assert suggestion.reason == finding.sentence


def test_no_recommendation_for_other_profiles_or_weaker_choices(rep, finding):
    other = ContactFactory(company__owner=rep, company__industry="Retail")
    log(rep, other, ActivityType.EMAIL, Outcome.SENT)
    Finding.objects.filter(pk=finding.pk).update(ratio=0.5)
    log(rep, ContactFactory(company__owner=rep), ActivityType.EMAIL, Outcome.SENT)
    assert open_of(SuggestionKind.RECOMMENDATION) == []


def test_no_recommendation_when_the_plan_already_does_it(rep, contact, finding):
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type="LinkedIn Message")
    LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT)
    assert open_of(SuggestionKind.RECOMMENDATION) == []


def test_the_next_touch_withdraws_the_recommendation(rep, contact, finding):
    log(rep, contact, ActivityType.EMAIL, Outcome.SENT, at=NOW - datetime.timedelta(1))
    log(rep, contact, ActivityType.CALL, Outcome.NO_ANSWER)
    assert Suggestion.objects.get(kind=SuggestionKind.RECOMMENDATION).status == (
        SuggestionStatus.WITHDRAWN
    )


def test_outbox_sends_get_recommendations_too(rep, contact, finding):
    """The outbox records sent emails in bulk (``steps_log_done``); they reach the rules too."""
    strategy = ContactStrategyFactory()
    step = StrategyStepFactory(strategy=strategy, step_number=1, is_automated=True)
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    activity = Activity(
        company=contact.company,
        contact=contact,
        user=rep,
        activity_type=ActivityType.EMAIL,
        outcome=Outcome.SENT,
        plan=plan,
        step=step,
    )
    plan_services.steps_log_done(
        done=[plan_services.StepDone(plan_id=plan.pk, step=step, activity=activity)]
    )
    assert [s.trigger_activity_id for s in open_of()] == [activity.pk]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED


def test_open_suggestions_long_past_their_date_expire(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(20))
    fresh = ContactFactory(company__owner=rep)
    log(rep, fresh, ActivityType.CALL, Outcome.VOICEMAIL_LEFT, at=NOW - datetime.timedelta(10))
    suggestions_generate_due(now=NOW)
    expired = Suggestion.objects.get(contact=contact)
    assert expired.status == SuggestionStatus.WITHDRAWN
    assert expired.withdrawn_reason == "Not acted on within 14 days of its date."
    assert Suggestion.objects.get(contact=fresh).status == SuggestionStatus.OPEN


def test_ending_a_plan_by_hand_or_opting_out_withdraws_open_suggestions(rep, contact):
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1)
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    other = ContactFactory(company__owner=rep)
    log(rep, other, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    assert Suggestion.objects.get(contact=contact).plan == plan
    plan_services.plan_abort(plan=plan)
    exits.contact_opt_out(contact=other)
    suggestions_generate_due(now=NOW)
    assert dict(Suggestion.objects.values_list("contact_id", "withdrawn_reason")) == {
        contact.pk: "The plan was ended.",
        other.pk: "The contact opted out.",
    }


def test_a_task_cannot_be_due_in_the_past(rep, contact):
    log(rep, contact, ActivityType.CALL, Outcome.VOICEMAIL_LEFT)
    suggestion = Suggestion.objects.get()
    with pytest.raises(CadenceError, match="in the past"):
        suggestion_accept(
            suggestion=suggestion, actor=rep, due_at=timezone.now() - datetime.timedelta(days=1)
        )
    assert Suggestion.objects.get().status == SuggestionStatus.OPEN
