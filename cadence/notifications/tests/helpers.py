"""Builders shared by the notification tests: a user's plan with a step coming due, and the
reminder the scheduler would have made for it."""

import datetime

from cadence.activities.tests.factories import ReminderFactory
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

#: A Tuesday morning, 09:00 UTC (10:00 in Berlin, the factories' time zone).
NOW = datetime.datetime(2025, 11, 25, 9, 0, tzinfo=datetime.UTC)


def due_plan(
    user,
    *,
    due=NOW,
    status="In Progress",
    activity_type="Call",
    first_name="Ada",
    last_name="Lovelace",
    company_name="Acme",
):
    """A plan of ``user`` on Ada Lovelace of Acme whose step 1 is due at ``due``."""
    company = CompanyFactory(owner=user, name=company_name)
    contact = ContactFactory(
        owner=user, company=company, first_name=first_name, last_name=last_name
    )
    strategy = ContactStrategyFactory(created_by=user, name="Outbound Q3")
    step = StrategyStepFactory(
        strategy=strategy,
        step_number=1,
        activity_type=activity_type,
        subject_template="Hello {{ contact.first_name }}",
    )
    plan = LeadContactPlanFactory(
        user=user,
        contact=contact,
        company=company,
        strategy=strategy,
        current_step=step,
        status=status,
    )
    # The factory dates the step by the plan engine's rules; these tests want a fixed time.
    LeadContactPlan.objects.filter(pk=plan.pk).update(next_step_due_date=due)
    plan.refresh_from_db()
    return plan


def plan_reminder(plan, *, remind_at=None, channels=("in_app", "email"), **fields):
    """The reminder of the plan's due step, delivered on ``channels``."""
    due = plan.next_step_due_date
    return ReminderFactory(
        user=plan.user,
        plan=plan,
        step=plan.current_step,
        due_at=due,
        remind_at=remind_at or due,
        channels=list(channels),
        message=fields.pop("message", ""),
        **fields,
    )
