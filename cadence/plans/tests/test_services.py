"""The plan engine: due dates, advancing by activities, actions, exit rules, template edits."""

import datetime

import pytest
from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.activities.rules import is_response
from cadence.core.errors import CadenceError
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans import exits, services
from cadence.plans.choices import ACTIVE_STATUSES, ExitReason, PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.plans.services import PlanStateError
from cadence.strategies import services as strategy_services
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# A Wednesday; Berlin is UTC+1 in November.
START = datetime.datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def owner(team):
    return UserFactory(username="owner", team=team, time_zone="UTC", country="DE")


@pytest.fixture
def strategy(owner):
    strategy = ContactStrategyFactory(created_by=owner)
    for number, (delay, kind) in enumerate([(0, "Email"), (2, "LinkedIn Message"), (3, "Call")], 1):
        StrategyStepFactory(
            strategy=strategy, step_number=number, delay_days=delay, activity_type=kind
        )
    return strategy


@pytest.fixture
def contact(owner):
    return ContactFactory(company=CompanyFactory(owner=owner), owner=owner)


@pytest.fixture
def plan(owner, contact, strategy):
    return services.plan_create(
        user=owner, contact=contact, strategy=strategy, plan_start_date=START
    )


def step(strategy, number):
    return strategy.steps.get(step_number=number)


def log(plan, number=None, *, at, outcome="Sent", kind="Email", **extra):
    return services.activity_log(
        actor=plan.user,
        plan=plan,
        step=step(plan.strategy, number) if number else None,
        activity_type=kind,
        outcome=outcome,
        occurred_at=at,
        **extra,
    )


def fresh(plan):
    return LeadContactPlan.objects.select_related("current_step").get(pk=plan.pk)


# -- Creating and advancing -------------------------------------------------------------------


def test_new_plan_is_at_step_one_due_its_delay_after_the_start(plan, strategy):
    assert plan.status == PlanStatus.NOT_STARTED
    assert plan.current_step == step(strategy, 1)
    assert plan.next_step_due_date == START
    assert plan.reminder_due_at == START - datetime.timedelta(minutes=15)


def test_logging_the_current_step_advances_the_plan(plan, strategy):
    """Step 1 done on Thursday: step 2 (two days later) is current and due Saturday."""
    done_at = START + DAY
    activity = log(plan, 1, at=done_at)
    plan = fresh(plan)
    assert plan.status == PlanStatus.IN_PROGRESS
    assert plan.current_step == step(strategy, 2)
    assert plan.next_step_due_date == done_at + 2 * DAY
    assert plan.started_at == done_at
    result = PlanStepResult.objects.get(plan=plan)
    assert (result.result, result.activity, result.due_at) == ("completed", activity, START)


def test_logging_the_last_step_completes_the_plan(plan):
    for number in (1, 2, 3):
        log(plan, number, at=START + number * DAY)
    plan = fresh(plan)
    assert plan.status == PlanStatus.COMPLETED
    assert plan.exit_reason == ExitReason.FINISHED
    assert plan.next_step_due_date is None
    assert plan.reminder_due_at is None
    assert plan.current_step.step_number == 3


def test_business_days_skip_weekends_and_the_owners_holidays(owner, contact, strategy):
    """Done on Wednesday 23 December 2026 in Germany, +2 business days: Thursday the 24th, then
    past Christmas (the 25th and 26th) and the weekend to Monday the 28th."""
    strategy.uses_business_days = True
    strategy.save()
    plan = services.plan_create(
        user=owner, contact=contact, strategy=strategy, plan_start_date=START
    )
    done_at = datetime.datetime(2026, 12, 23, 10, 0, tzinfo=UTC)
    log(plan, 1, at=done_at)
    assert fresh(plan).next_step_due_date == datetime.datetime(2026, 12, 28, 10, 0, tzinfo=UTC)


def test_a_step_that_is_not_current_is_refused(plan):
    with pytest.raises(PlanStateError, match="not this plan's current step"):
        log(plan, 2, at=START)
    assert not PlanStepResult.objects.exists()
    assert fresh(plan).current_step.step_number == 1


def test_a_later_step_with_skip_to_skips_the_steps_between(plan, strategy):
    log(plan, 3, at=START + DAY, skip_to=True)
    results = dict(PlanStepResult.objects.values_list("step_number", "result"))
    assert results == {1: StepResult.SKIPPED, 2: StepResult.SKIPPED, 3: StepResult.COMPLETED}
    assert fresh(plan).status == PlanStatus.COMPLETED


def test_each_result_records_when_the_plan_arrived_at_its_step(plan, strategy):
    """The first step arrived at the plan's start; the next ones when the step before was done,
    and steps skipped on the way (and the step skipped to) when the plan last moved on."""
    log(plan, 1, at=START + DAY)
    log(plan, 3, at=START + 4 * DAY, skip_to=True)
    arrivals = dict(PlanStepResult.objects.values_list("step_number", "arrived_at"))
    assert arrivals == {1: START, 2: START + DAY, 3: START + DAY}


def test_the_migration_backfills_arrival_from_the_previous_result(plan, strategy):
    """Results written before the column existed get what the funnel used to compute: the
    plan's previous result by completion, else its start (``started_at`` when set, which for
    this plan is when its first step was done)."""
    from importlib import import_module

    from django.db import connection

    backfill = import_module("cadence.plans.migrations.0006_step_result_arrived_at").BACKFILL
    for number in (1, 2):
        log(plan, number, at=START + number * DAY)
    PlanStepResult.objects.update(arrived_at=None)
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    arrivals = dict(PlanStepResult.objects.values_list("step_number", "arrived_at"))
    assert arrivals == {1: START + DAY, 2: START + DAY}


def test_a_done_step_cannot_be_logged_again(plan):
    log(plan, 1, at=START)
    with pytest.raises(PlanStateError, match="done already"):
        log(plan, 1, at=START + DAY, skip_to=True)


def test_steps_of_a_paused_plan_are_refused(plan):
    services.plan_pause(plan=plan, now=START)
    with pytest.raises(PlanStateError, match="paused"):
        log(plan, 1, at=START)


# -- Actions ----------------------------------------------------------------------------------


def test_pause_then_resume_shifts_the_due_date_by_the_paused_time(plan):
    services.plan_pause(plan=plan, now=START - 3 * DAY)
    paused = fresh(plan)
    assert paused.status == PlanStatus.PAUSED
    assert paused.reminder_due_at is None
    services.plan_resume(plan=plan, now=START - DAY)
    resumed = fresh(plan)
    assert resumed.status == PlanStatus.NOT_STARTED
    assert resumed.next_step_due_date == START + 2 * DAY
    assert resumed.reminder_due_at is not None


def test_resume_returns_a_started_plan_to_in_progress(plan):
    log(plan, 1, at=START)
    services.plan_pause(plan=plan, now=START + DAY)
    services.plan_resume(plan=plan, now=START + 2 * DAY)
    plan = fresh(plan)
    assert plan.status == PlanStatus.IN_PROGRESS
    assert plan.next_step_due_date == START + 3 * DAY


def test_start_begins_a_plan_scheduled_for_later(owner, contact, strategy):
    later = timezone.now() + 10 * DAY
    plan = services.plan_create(
        user=owner, contact=contact, strategy=strategy, plan_start_date=later
    )
    now = timezone.now()
    services.plan_start(plan=plan, now=now)
    plan = fresh(plan)
    assert plan.status == PlanStatus.IN_PROGRESS
    assert plan.next_step_due_date == now


def test_skip_moves_to_the_next_step_due_from_now(plan, strategy):
    services.plan_skip(plan=plan, actor=plan.user, now=START + DAY)
    plan = fresh(plan)
    assert plan.current_step == step(strategy, 2)
    assert plan.next_step_due_date == START + 3 * DAY
    assert PlanStepResult.objects.get().result == StepResult.SKIPPED


def test_abort_is_final(plan):
    services.plan_abort(plan=plan, now=START)
    plan = fresh(plan)
    assert (plan.status, plan.exit_reason, plan.next_step_due_date) == ("Aborted", "manual", None)
    for action in (services.plan_resume, services.plan_pause, services.plan_start):
        with pytest.raises(PlanStateError, match="final"):
            action(plan=plan)


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ("complete", "plan_resume", "Completed, which is final"),
        ("abort", "plan_pause", "Aborted, which is final"),
        (None, "plan_resume", "Not Started"),
        ("pause", "plan_pause", "Paused"),
        ("pause", "plan_skip", "Paused"),
    ],
)
def test_illegal_transitions_say_why(plan, setup, action, message):
    if setup == "complete":
        services.plan_complete(plan=plan)
    elif setup == "abort":
        services.plan_abort(plan=plan)
    elif setup == "pause":
        services.plan_pause(plan=plan)
    kwargs = {"actor": plan.user} if action == "plan_skip" else {}
    with pytest.raises(PlanStateError, match=message):
        getattr(services, action)(plan=plan, **kwargs)


# -- Exit rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        ("Replied", PlanStatus.COMPLETED, ExitReason.REPLIED),
        ("Meeting Booked", PlanStatus.COMPLETED, ExitReason.MEETING_BOOKED),
        ("Bounced", PlanStatus.ABORTED, ExitReason.BOUNCED),
    ],
)
def test_outcomes_end_the_plan_by_the_exit_rules(plan, outcome, status, reason):
    log(plan, 1, at=START, outcome=outcome)
    plan = fresh(plan)
    assert (plan.status, plan.exit_reason) == (status, reason)
    assert plan.next_step_due_date is None


def test_a_reply_logged_without_a_plan_ends_the_contacts_plans(plan, contact):
    services.activity_log(
        actor=plan.user,
        contact=contact,
        activity_type="Email",
        direction="inbound",
        outcome="Replied",
        occurred_at=START,
    )
    assert fresh(plan).exit_reason == ExitReason.REPLIED


def test_exit_rule_switched_off_keeps_the_plan_running(plan, strategy):
    strategy.exit_on_reply = False
    strategy.save()
    log(plan, 1, at=START, outcome="Replied")
    assert fresh(plan).status == PlanStatus.IN_PROGRESS


def test_a_bounce_marks_the_address_bounced(plan, contact):
    log(plan, 1, at=START, outcome="Bounced")
    contact.refresh_from_db()
    assert contact.email_status == "bounced"
    with pytest.raises(CadenceError, match="bounced"):
        services.plan_create(user=plan.user, contact=contact, strategy=ContactStrategyFactory())


def test_an_unsubscribe_opts_out_and_ends_every_plan(plan, contact, owner):
    other = services.plan_create(user=owner, contact=contact, strategy=ContactStrategyFactory())
    log(plan, None, at=START, outcome="Unsubscribed", direction="inbound")
    contact.refresh_from_db()
    assert contact.opted_out and contact.opted_out_at == START
    for p in (plan, other):
        p = fresh(p)
        assert (p.status, p.exit_reason) == (PlanStatus.ABORTED, ExitReason.OPTED_OUT)


def test_a_reply_pauses_colleagues_plans_where_the_strategy_asks(plan, contact, strategy, owner):
    strategy.pause_company_on_reply = True
    strategy.save()
    colleague = ContactFactory(company=contact.company, owner=owner)
    theirs = services.plan_create(user=owner, contact=colleague, strategy=strategy)
    log(plan, 1, at=START, outcome="Replied")
    assert fresh(theirs).status == PlanStatus.PAUSED


# -- Template edits ---------------------------------------------------------------------------


def test_deleting_the_current_step_moves_the_plan_to_the_next(plan, strategy):
    strategy_services.step_delete(step=step(strategy, 1))
    plan = fresh(plan)
    assert plan.current_step.activity_type == "LinkedIn Message"
    assert plan.next_step_due_date == START + 2 * DAY


def test_deleting_the_last_remaining_step_completes_the_plan(plan, strategy):
    log(plan, 1, at=START)
    log(plan, 2, at=START + DAY)
    strategy_services.step_delete(step=step(strategy, 3))
    plan = fresh(plan)
    assert (plan.status, plan.exit_reason) == (PlanStatus.COMPLETED, ExitReason.FINISHED)


def test_a_new_delay_moves_the_due_date_of_plans_on_that_step(plan, strategy):
    log(plan, 1, at=START)
    strategy_services.step_update(step=step(strategy, 2), data={"delay_days": 5})
    assert fresh(plan).next_step_due_date == START + 5 * DAY


def test_done_steps_are_history_a_reorder_changes_only_what_follows(plan, strategy):
    log(plan, 1, at=START)
    s1, s2, s3 = (step(strategy, n) for n in (1, 2, 3))
    strategy_services.steps_reorder(strategy=strategy, step_ids=[s3.pk, s1.pk, s2.pk])
    plan = fresh(plan)
    assert plan.current_step == s2
    log(plan, None, at=START, outcome="")  # unrelated activity changes nothing
    services.activity_log(
        actor=plan.user, plan=plan, step=s2, activity_type="Call", occurred_at=START + DAY
    )
    # s3 now comes before s2 by number; s1 was done: nothing is left after s2.
    assert fresh(plan).status == PlanStatus.COMPLETED


def test_a_step_added_to_an_empty_strategy_starts_its_plans(owner, contact):
    empty = ContactStrategyFactory(created_by=owner)
    plan = services.plan_create(user=owner, contact=contact, strategy=empty, plan_start_date=START)
    assert plan.current_step is None
    strategy_services.step_create(strategy=empty, activity_type="Call", delay_days=1)
    plan = fresh(plan)
    assert plan.current_step is not None
    assert plan.next_step_due_date == START + DAY


def test_a_template_edit_leaves_finished_plans_alone(plan, strategy):
    services.plan_abort(plan=plan)
    strategy_services.step_delete(step=step(strategy, 1))
    plan = fresh(plan)
    assert plan.status == PlanStatus.ABORTED
    assert plan.next_step_due_date is None


# -- Scheduler --------------------------------------------------------------------------------


def test_the_pass_creates_one_reminder_per_due_step_however_often_it_runs(plan, strategy):
    now = START + DAY
    assert plans_create_due_reminders(now=now) == 1
    assert plans_create_due_reminders(now=now) == 0
    reminder = Reminder.objects.get()
    assert (reminder.plan_id, reminder.step, reminder.due_at) == (plan.pk, step(strategy, 1), START)
    assert reminder.user == plan.user
    assert reminder.remind_at == START - datetime.timedelta(minutes=15)
    assert (reminder.status, reminder.channels, reminder.message) == ("pending", ["in_app"], "")


def test_the_pass_reminds_within_the_lead_time_not_before(plan, settings):
    settings.CADENCE_REMINDER_LEAD_MINUTES = 60
    services.plan_pause(plan=plan, now=START - DAY)
    services.plan_resume(plan=plan, now=START - DAY)  # recomputes the owed reminder
    assert plans_create_due_reminders(now=START - datetime.timedelta(minutes=61)) == 0
    assert plans_create_due_reminders(now=START - datetime.timedelta(minutes=59)) == 1


def test_paused_and_finished_plans_get_no_reminders(owner, strategy):
    plans = [
        services.plan_create(
            user=owner,
            contact=ContactFactory(owner=owner),
            strategy=strategy,
            plan_start_date=START,
        )
        for _ in range(3)
    ]
    services.plan_pause(plan=plans[0], now=START)
    services.plan_abort(plan=plans[1], now=START)
    services.plan_complete(plan=plans[2], now=START)
    assert plans_create_due_reminders(now=START + 10 * DAY) == 0
    assert not Reminder.objects.exists()


def test_each_new_due_date_gets_its_own_reminder(plan):
    plans_create_due_reminders(now=START)
    log(plan, 1, at=START)
    plans_create_due_reminders(now=START + 3 * DAY)
    assert Reminder.objects.count() == 2


def test_the_pass_reads_only_plans_owed_a_reminder(owner, strategy, django_assert_max_num_queries):
    """However many plans are not due, a pass with nothing due is one statement (two on
    SQLite, in a savepoint); with due work it is the same per batch, not per plan."""
    for _ in range(30):
        services.plan_create(
            user=owner,
            contact=ContactFactory(owner=owner),
            strategy=strategy,
            plan_start_date=START + 100 * DAY,
        )
    with django_assert_max_num_queries(4):
        assert plans_create_due_reminders(now=START) == 0
    with django_assert_max_num_queries(4):
        assert plans_create_due_reminders(now=START + 200 * DAY, batch_size=100) == 30


def test_reminders_of_steps_no_longer_awaited_are_dismissed(plan):
    """A reminder not yet delivered is dismissed when its step is done, or the plan pauses or
    ends: the rep would be told about something that is no longer due."""
    plans_create_due_reminders(now=START)
    log(plan, 1, at=START)
    first = Reminder.objects.get()
    assert first.status == "dismissed"
    plans_create_due_reminders(now=START + 5 * DAY)
    second = Reminder.objects.exclude(pk=first.pk).get()
    assert second.status == "pending"
    services.plan_pause(plan=plan, now=START + 5 * DAY)
    second.refresh_from_db()
    assert second.status == "dismissed"


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        ("Bounced", PlanStatus.ABORTED, ExitReason.BOUNCED),
        ("Meeting Booked", PlanStatus.COMPLETED, ExitReason.MEETING_BOOKED),
    ],
)
def test_an_exit_outcome_on_the_last_step_is_the_exit_reason(plan, outcome, status, reason):
    """The last step bouncing ends the plan as bounced, not as finished: the step is recorded
    done and the exit rule decides how the plan ends."""
    log(plan, 1, at=START)
    log(plan, 2, at=START + DAY)
    log(plan, 3, at=START + 2 * DAY, outcome=outcome)
    plan = fresh(plan)
    assert (plan.status, plan.exit_reason) == (status, reason)
    assert PlanStepResult.objects.filter(plan=plan, result="completed").count() == 3


def test_a_step_reached_by_skip_to_has_no_due_date_of_its_own(plan):
    log(plan, 3, at=START + DAY, skip_to=True)
    results = {r.step_number: r.due_at for r in PlanStepResult.objects.all()}
    assert results == {1: START, 2: None, 3: None}


def test_a_paused_plan_on_an_empty_strategy_picks_up_the_first_step_added(owner, contact):
    """Found by the state machine (test_stateful): a paused plan kept no step when its empty
    strategy got one, and after resuming it ran with nothing to do, never due."""
    empty = ContactStrategyFactory(created_by=owner)
    plan = services.plan_create(user=owner, contact=contact, strategy=empty, plan_start_date=START)
    services.plan_pause(plan=plan, now=START)
    strategy_services.step_create(strategy=empty, activity_type="Call", delay_days=1)
    paused = fresh(plan)
    assert paused.current_step is not None
    assert paused.reminder_due_at is None
    services.plan_resume(plan=plan, now=START + DAY)
    plan = fresh(plan)
    assert plan.status == PlanStatus.NOT_STARTED
    assert plan.current_step is not None
    assert plan.next_step_due_date == START + 2 * DAY
    assert plan.reminder_due_at == START + 2 * DAY - datetime.timedelta(minutes=15)


def test_a_plan_resumed_at_once_gets_back_the_reminder_its_pause_retired(plan):
    """Found by the state machine (test_stateful): pausing dismissed the reminder of the due
    step; resumed at the same instant, the step was due at the same time again, but the
    scheduler could not make a second reminder for it, and the rep was never reminded."""
    assert plans_create_due_reminders(now=START) == 1
    services.plan_pause(plan=plan, now=START)
    assert Reminder.objects.get().status == "dismissed"
    services.plan_resume(plan=plan, now=START)
    plans_create_due_reminders(now=START)
    assert list(Reminder.objects.values_list("due_at", "status")) == [(START, "pending")]
    assert fresh(plan).reminder_due_at is None


def test_an_undone_template_edit_brings_back_the_reminder_it_retired(plan, strategy):
    log(plan, 1, at=START)
    plans_create_due_reminders(now=START + 3 * DAY)
    strategy_services.step_update(step=step(strategy, 2), data={"delay_days": 5})
    assert Reminder.objects.get().status == "dismissed"
    strategy_services.step_update(step=step(strategy, 2), data={"delay_days": 2})
    plans_create_due_reminders(now=START + 3 * DAY)
    assert list(Reminder.objects.values_list("due_at", "status")) == [(START + 2 * DAY, "pending")]


def test_a_delivered_reminder_stays_delivered_through_a_pause(plan):
    plans_create_due_reminders(now=START)
    Reminder.objects.update(status="sent", sent_at=START)
    services.plan_pause(plan=plan, now=START)
    services.plan_resume(plan=plan, now=START)
    assert list(Reminder.objects.values_list("status", flat=True)) == ["sent"]


# -- Rules the service holds for every way in -------------------------------------------------


@pytest.mark.parametrize("status", [PlanStatus.IN_PROGRESS, PlanStatus.PAUSED, "Completed"])
def test_a_new_plan_starts_not_started(owner, contact, strategy, status):
    with pytest.raises(CadenceError, match="starts as Not Started") as refused:
        services.plan_create(user=owner, contact=contact, strategy=strategy, status=status)
    assert refused.value.field == "status"
    assert not LeadContactPlan.objects.exists()


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("contact", "contact_id"),
        ("company", "company_id"),
        ("strategy", "strategy_id"),
        ("plan_start_date", "plan_start_date"),
    ],
)
def test_a_plans_lead_strategy_and_start_cannot_change(plan, owner, name, field):
    other = {
        "contact": ContactFactory(company=plan.company, owner=owner),
        "company": CompanyFactory(owner=owner),
        "strategy": ContactStrategyFactory(created_by=owner),
        "plan_start_date": START + DAY,
    }[name]
    with pytest.raises(CadenceError, match="cannot change once the plan exists") as refused:
        services.plan_update(plan=plan, data={name: other})
    assert refused.value.field == field
    # The same value again is no change.
    services.plan_update(plan=plan, data={name: getattr(plan, name), "user": owner})
    assert getattr(fresh(plan), name) == getattr(plan, name)


@pytest.mark.parametrize("reason", [ExitReason.BOUNCED, ExitReason.OPTED_OUT, "bored"])
def test_a_plan_is_aborted_by_hand_only_for_a_persons_reasons(plan, reason):
    with pytest.raises(CadenceError, match="Abort with one of the reasons") as refused:
        services.plan_abort(plan=plan, reason=reason)
    assert refused.value.field == "reason"
    assert fresh(plan).status == PlanStatus.NOT_STARTED
    assert services.plan_abort(plan=plan, reason=ExitReason.REPLIED).exit_reason == "replied"


def test_the_strategies_app_spells_the_active_statuses_as_the_plans_app_does():
    assert tuple(ACTIVE_STATUSES) == strategy_services.ACTIVE_PLAN_STATUSES


# -- Exit on reply: the named rule ------------------------------------------------------------


def test_the_exit_rules_name_a_strategy_flag_each_and_the_response_reasons():
    for outcome, rule in exits.EXITS.items():
        assert hasattr(ContactStrategyFactory.build(), rule.flag), outcome
    assert exits.RESPONSE_EXIT_REASONS == (ExitReason.REPLIED, ExitReason.MEETING_BOOKED)
    assert exits.exit_reason_of("Replied") == ExitReason.REPLIED
    assert exits.exit_reason_of("Meeting Booked") == ExitReason.MEETING_BOOKED
    # A bounce aborts: it is not a conversion; a connected call is a response that ends nothing.
    assert exits.exit_reason_of("Bounced") is None
    assert exits.exit_reason_of("Connected") is None


def test_a_connected_call_is_a_response_but_ends_no_plan(plan, contact):
    activity = services.activity_log(
        actor=plan.user,
        contact=contact,
        activity_type="Call",
        outcome="Connected",
        occurred_at=START,
    )
    assert is_response(activity)
    assert fresh(plan).status == PlanStatus.NOT_STARTED


def test_a_reply_pauses_the_colleagues_plans_where_the_strategy_says_so(plan, owner, strategy):
    strategy.pause_company_on_reply = True
    strategy.save()
    colleague = ContactFactory(company=plan.company, owner=owner)
    theirs = services.plan_create(user=owner, contact=colleague, strategy=strategy)
    elsewhere = services.plan_create(
        user=owner, contact=ContactFactory(owner=owner), strategy=strategy
    )
    log(plan, 1, at=START, outcome="Replied")
    assert fresh(plan).exit_reason == ExitReason.REPLIED
    theirs = fresh(theirs)
    assert (theirs.status, theirs.paused_at, theirs.resume_at) == (PlanStatus.PAUSED, START, None)
    assert fresh(elsewhere).status == PlanStatus.NOT_STARTED
