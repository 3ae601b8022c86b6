"""Small histories for the report tests, written straight to the tables (no services): the
reports must count what is recorded, whatever path recorded it."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.crm.models import Company
from cadence.messaging.choices import InboundStatus
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies.models import ContactStrategy, StrategyStep

UTC = datetime.UTC


def at(day: int, hour: int = 0, *, month: int = 1, year: int = 2025) -> datetime.datetime:
    """A UTC moment in January 2025 by default: the hand-computed fixtures live there."""
    return datetime.datetime(year, month, day, hour, tzinfo=UTC)


def strategy(name: str, *types: str, template: bool = True, owner=None) -> ContactStrategy:
    made = ContactStrategy.objects.create(name=name, is_template=template, created_by=owner)
    for number, activity_type in enumerate(types, start=1):
        StrategyStep.objects.create(
            strategy=made, step_number=number, activity_type=activity_type, delay_days=1
        )
    return made


def steps(of: ContactStrategy) -> list[StrategyStep]:
    return list(of.steps.order_by("step_number"))


def plan(user, of: ContactStrategy | None, start: datetime.datetime, **fields) -> LeadContactPlan:
    company = Company.objects.create(name=f"Lead of {user.username}", owner=user)
    fields.setdefault("started_at", start)
    return LeadContactPlan.objects.create(
        company=company, strategy=of, user=user, plan_start_date=start, **fields
    )


def result(plan_row, step, outcome: str, completed_at, due_at=None) -> PlanStepResult:
    """A result written in order after the plan's others: it arrived when the latest of them
    was finished, or when the plan started."""
    previous = (
        PlanStepResult.objects.filter(plan=plan_row)
        .filter(
            Q(completed_at__lt=completed_at)
            | Q(completed_at=completed_at, step_number__lt=step.step_number)
        )
        .order_by("-completed_at", "-step_number")
        .values_list("completed_at", flat=True)
        .first()
    )
    return PlanStepResult.objects.create(
        arrived_at=previous or plan_row.started_at or plan_row.plan_start_date,
        plan=plan_row,
        step=step,
        step_number=step.step_number,
        result=outcome,
        completed_at=completed_at,
        due_at=due_at,
        user=plan_row.user,
    )


def activity(plan_row, outcome: str, occurred_at) -> Activity:
    return Activity.objects.create(
        company=plan_row.company,
        user=plan_row.user,
        plan=plan_row,
        activity_type="Email",
        outcome=outcome,
        occurred_at=occurred_at,
    )


def email(plan_row, step, status: str, sent_at=None, handoff_at=None) -> OutboundMessage:
    return OutboundMessage.objects.create(
        plan=plan_row,
        step=step,
        strategy=plan_row.strategy,
        company=plan_row.company,
        user=plan_row.user,
        status=status,
        send_after=sent_at or handoff_at or timezone.now(),
        sent_at=sent_at,
        handoff_at=handoff_at or sent_at,
    )


def inbound(message: OutboundMessage, kind: str) -> InboundMessage:
    return InboundMessage.objects.create(
        source="test",
        kind=kind,
        status=InboundStatus.APPLIED,
        outbound_message=message,
        plan=message.plan,
    )
