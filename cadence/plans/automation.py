"""Which steps Cadence sends itself.

A plan's current step is **sent by Cadence** when all of these hold:

- the plan is for a contact (a plan on a whole company has nobody to email: its email steps are
  the rep's);
- the step is an Email step marked automated;
- the strategy's automation is approved by a manager (``automation_approved_at`` is set).

An automated email step of a strategy whose automation is not approved yet still goes to the
outbox, where it waits for the approval (``is_automated_email``); only an approved one is the
outbox's alone (``is_sent_by_cadence``), so the rep gets no reminder to do what the outbox is doing.

The rule is written here three ways, for the three places that need it: Python over loaded
objects, a ``Q`` over plans for the ORM (the outbox), and a SQL condition for the scheduler's
set-based reminder statement. ``plans/tests/test_automation.py`` checks on generated plans that the
three always agree.
"""

from __future__ import annotations

from django.db.models import Q

from cadence.activities.choices import ActivityType


def is_automated_email(plan) -> bool:
    """The plan's current step is an automated email to its contact (approved or not)."""
    step = plan.current_step
    return (
        plan.contact_id is not None
        and step is not None
        and step.is_automated
        and step.activity_type == ActivityType.EMAIL
    )


def automation_approved(strategy) -> bool:
    """A manager has approved the strategy's automated steps."""
    return strategy is not None and strategy.automation_approved_at is not None


def is_sent_by_cadence(plan) -> bool:
    """Cadence sends the plan's current step itself: the rep is not reminded of it."""
    return is_automated_email(plan) and automation_approved(plan.strategy)


def automated_email_q() -> Q:
    """``is_automated_email`` as a filter on plans."""
    return Q(
        contact__isnull=False,
        current_step__is_automated=True,
        current_step__activity_type=ActivityType.EMAIL,
    )


def sent_by_cadence_q() -> Q:
    """``is_sent_by_cadence`` as a filter on plans."""
    return automated_email_q() & Q(strategy__automation_approved_at__isnull=False)


def not_sent_by_cadence_sql(table: str) -> str:
    """``not is_sent_by_cadence`` as a SQL condition on the plan row ``table`` (a table name or
    alias with the plans' columns), for statements that never load the plans."""
    return f"""
    ({table}.contact_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM strategy_steps AS step
        JOIN contact_strategies AS strategy ON strategy.strategy_id = step.strategy_id
        WHERE step.step_id = {table}.current_step_id
          AND step.is_automated AND step.activity_type = '{ActivityType.EMAIL.value}'
          AND strategy.automation_approved_at IS NOT NULL
    ))
    """
