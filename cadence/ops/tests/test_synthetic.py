"""The analytics benchmark's organisation generator (``cadence.ops.bench.synthetic``): the plans
it writes in bulk are in states the product could have left them in, its counts hold, it clears
what it made."""

import datetime
from collections import Counter

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from cadence.accounts.models import Team, User
from cadence.activities.choices import Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.ops.bench import synthetic
from cadence.plans.choices import ACTIVE_STATUSES, ExitReason, PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies.models import ContactStrategy

pytestmark = pytest.mark.django_db

PLANS = 200
NOW = timezone.now().replace(microsecond=0)

COMPLETED_REASONS = {ExitReason.FINISHED, ExitReason.REPLIED, ExitReason.MEETING_BOOKED}
ABORTED_REASONS = {ExitReason.MANUAL, ExitReason.BOUNCED, ExitReason.OPTED_OUT}


@pytest.fixture
def counts():
    return synthetic.org_generate(plans=PLANS, activities_per_plan=10, seed=3, now=NOW)


def test_the_counts_match_what_was_asked_and_what_was_written(counts):
    assert counts["plans"] == LeadContactPlan.objects.count() == PLANS
    assert counts["activities"] == Activity.objects.count()
    # The standalone touches top every lead up to the ratio; only a plan with more touches of
    # its own than that could overshoot it.
    assert PLANS * 10 <= counts["activities"] <= PLANS * 10 * 1.05
    assert counts["plan_activities"] == Activity.objects.filter(plan__isnull=False).count()
    assert counts["results"] == PlanStepResult.objects.count()
    assert counts["outbound"] == OutboundMessage.objects.count()
    assert counts["inbound"] == InboundMessage.objects.count()
    assert counts["contacts"] == Contact.objects.count() < PLANS
    assert counts["companies"] == Company.objects.count()
    assert Team.objects.filter(name__startswith=synthetic.TEAM_PREFIX).count() == synthetic.TEAMS
    assert User.objects.filter(role="admin", username__startswith=synthetic.USER_PREFIX).exists()
    assert ContactStrategy.objects.count() == synthetic.STRATEGIES


def test_plans_are_in_consistent_states(counts):
    plans = LeadContactPlan.objects.select_related("current_step")
    seen = Counter()
    for plan in plans:
        seen[plan.status, plan.exit_reason] += 1
        assert plan.current_step is not None
        assert plan.current_step.strategy_id == plan.strategy_id
        assert NOW - datetime.timedelta(days=synthetic.SPAN_DAYS) <= plan.plan_start_date <= NOW
        if plan.status in (PlanStatus.COMPLETED, PlanStatus.ABORTED):
            assert plan.ended_at is not None and plan.exit_reason
            assert plan.next_step_due_date is None and plan.reminder_due_at is None
            reasons = COMPLETED_REASONS if plan.status == PlanStatus.COMPLETED else ABORTED_REASONS
            assert plan.exit_reason in reasons
            assert plan.ended_at >= plan.plan_start_date
            assert plan.ended_at <= NOW
        else:
            assert plan.ended_at is None and plan.exit_reason == ""
            assert plan.next_step_due_date is not None
        if plan.status == PlanStatus.NOT_STARTED:
            assert plan.started_at is None and plan.current_step.step_number == 1
        if plan.status == PlanStatus.IN_PROGRESS:
            assert plan.started_at is not None
        if plan.status == PlanStatus.PAUSED:
            assert plan.paused_at is not None and plan.reminder_due_at is None
        if plan.reminder_due_at is not None:
            assert plan.reminder_due_at > NOW
        if plan.exit_reason == ExitReason.FINISHED:
            assert plan.current_step.step_number == plan.strategy.steps.count()
    statuses = {status for status, _ in seen}
    assert {PlanStatus.COMPLETED, PlanStatus.ABORTED, PlanStatus.IN_PROGRESS} <= statuses
    reasons = {reason for _, reason in seen}
    assert {ExitReason.FINISHED, ExitReason.REPLIED} <= reasons
    overdue = LeadContactPlan.objects.filter(status__in=ACTIVE_STATUSES, next_step_due_date__lt=NOW)
    assert overdue.exists()
    # A contact is active in a strategy at most once (the database holds it too).
    active = (
        LeadContactPlan.objects.filter(status__in=ACTIVE_STATUSES)
        .values("contact", "strategy")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not active.exists()


def test_step_results_are_once_per_step_and_match_their_activities(counts):
    results = PlanStepResult.objects.select_related("plan", "step", "activity")
    pairs = Counter((r.plan_id, r.step_id) for r in results)
    assert pairs and max(pairs.values()) == 1
    late = on_time = 0
    for result in results:
        assert result.step.strategy_id == result.plan.strategy_id
        assert result.step_number == result.step.step_number
        assert result.due_at is not None and result.completed_at <= NOW
        assert result.user_id == result.plan.user_id
        if result.result == StepResult.COMPLETED:
            activity = result.activity
            assert activity.plan_id == result.plan_id and activity.step_id == result.step_id
            assert activity.occurred_at == result.completed_at
            assert activity.activity_type == result.step.activity_type
        else:
            assert result.activity is None
        if result.completed_at > result.due_at + datetime.timedelta(hours=24):
            late += 1
        else:
            on_time += 1
    assert late and on_time
    # Results follow the steps in order: a plan's results never skip back.
    for plan in LeadContactPlan.objects.filter(status=PlanStatus.IN_PROGRESS):
        numbers = list(plan.results.order_by("completed_at").values_list("step_number", flat=True))
        assert numbers == sorted(numbers)
        assert not numbers or numbers[-1] < plan.current_step.step_number


def test_exits_have_the_events_that_caused_them(counts):
    for plan in LeadContactPlan.objects.exclude(exit_reason__in=["", ExitReason.FINISHED]):
        linked = Activity.objects.filter(plan=plan, step__isnull=True)
        if plan.exit_reason == ExitReason.REPLIED:
            assert linked.filter(direction=Direction.INBOUND, outcome=Outcome.REPLIED).exists()
        elif plan.exit_reason == ExitReason.MEETING_BOOKED:
            assert linked.filter(outcome=Outcome.MEETING_BOOKED).exists()
        elif plan.exit_reason == ExitReason.BOUNCED:
            assert linked.filter(outcome=Outcome.BOUNCED).exists()
            assert plan.contact.email_status == EmailStatus.BOUNCED
        elif plan.exit_reason == ExitReason.OPTED_OUT:
            assert plan.contact.opted_out and plan.contact.opted_out_at is not None
    # Standalone touches never claim a step or end a plan.
    standalone = Activity.objects.filter(plan__isnull=True)
    assert standalone.exists()
    assert not standalone.filter(
        Q(step__isnull=False)
        | Q(outcome__in=[Outcome.REPLIED, Outcome.BOUNCED, Outcome.UNSUBSCRIBED])
    ).exists()
    assert not Activity.objects.exclude(company=F("contact__company")).exists()


def test_the_outbox_rows_match_the_steps(counts):
    outbound = OutboundMessage.objects.select_related("step", "plan", "activity")
    assert outbound.filter(status=OutboundStatus.SENT).exists()
    for message in outbound:
        assert message.step.is_automated and message.strategy_id == message.plan.strategy_id
        if message.status == OutboundStatus.SENT:
            assert message.sent_at is not None and message.activity is not None
            assert message.activity.message_id == message.message_id != ""
            assert message.activity.step_id == message.step_id
        else:
            assert message.sent_at is None and message.activity is None
        if message.status == OutboundStatus.UNCERTAIN:
            assert message.handoff_at is not None
            assert message.plan.current_step_id == message.step_id
    for inbound in InboundMessage.objects.select_related("outbound_message"):
        assert inbound.outbound_message.status == OutboundStatus.SENT
        assert inbound.plan_id == inbound.outbound_message.plan_id


def test_a_seed_makes_the_same_history_and_clearing_removes_it(counts):
    statuses = sorted(LeadContactPlan.objects.values_list("status", "exit_reason"))
    deleted = synthetic.org_clear()
    assert deleted["lead_contact_plans"] == PLANS
    assert not LeadContactPlan.objects.exists() and not Activity.objects.exists()
    assert not synthetic.org_exists() and not ContactStrategy.objects.exists()
    assert not Team.objects.exists() and not Company.objects.exists()
    again = synthetic.org_generate(plans=PLANS, activities_per_plan=10, seed=3, now=NOW)
    assert again == counts
    assert sorted(LeadContactPlan.objects.values_list("status", "exit_reason")) == statuses
