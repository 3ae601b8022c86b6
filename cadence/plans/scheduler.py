"""The plans' part of the scheduler pass: a reminder for every step that falls due.

A plan owes a reminder when its ``reminder_due_at`` has passed. The pass reads only those plans
through a partial index, so its cost follows the work that is due, not the number of plans. The
database's unique constraint on (plan, step, due date) makes a second or concurrent pass create
nothing twice; on PostgreSQL, ``SKIP LOCKED`` lets concurrent passes share the work instead of
waiting on each other.
"""

from __future__ import annotations

import datetime

from django.db import transaction

from cadence.activities.models import Reminder
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan


def _message(plan: LeadContactPlan) -> str:
    step = plan.current_step
    lead = plan.contact.full_name if plan.contact_id else plan.company.name
    at = f" at {plan.company.name}" if plan.contact_id else ""
    return f"Step {step.step_number} ({step.activity_type}) for {lead}{at} is due."


def plans_create_due_reminders(*, now: datetime.datetime, batch_size: int = 1000) -> int:
    """Create the reminders owed at ``now``; returns how many plans were reminded."""
    handled = 0
    while True:
        with transaction.atomic():
            batch = list(
                LeadContactPlan.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    reminder_due_at__lte=now,
                    status__in=RUNNING_STATUSES,
                    current_step__isnull=False,
                    next_step_due_date__isnull=False,
                )
                .select_related("current_step", "contact", "company")
                .order_by("reminder_due_at")[:batch_size]
            )
            if not batch:
                return handled
            reminders = [
                Reminder(
                    user_id=plan.user_id,
                    plan_id=plan.pk,
                    step_id=plan.current_step_id,
                    due_at=plan.next_step_due_date,
                    remind_at=plan.reminder_due_at,
                    message=_message(plan),
                    created_at=now,
                    updated_at=now,
                )
                for plan in batch
            ]
            Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
            handled += len(reminders)
            # The rows are locked (PostgreSQL) or the database is (SQLite) until commit, so
            # what was read is still true: these plans owe nothing more for this due date.
            LeadContactPlan.objects.filter(pk__in=[plan.pk for plan in batch]).update(
                reminder_due_at=None
            )
        if len(batch) < batch_size:
            return handled
