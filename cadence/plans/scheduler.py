"""The plans' part of the scheduler pass: a reminder for every step that falls due.

A plan owes a reminder when its ``reminder_due_at`` has passed. The pass reads only those plans
through a partial index, so its cost follows the work that is due, not the number of plans. The
database's unique constraint on (plan, step, due date) makes a second or concurrent pass create
nothing twice; on PostgreSQL, ``SKIP LOCKED`` lets concurrent passes share the work instead of
waiting on each other.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction

from cadence.activities.services import reminders_insert_sql
from cadence.plans.automation import not_sent_by_cadence_sql

# Plans owed a reminder at %(now)s, oldest first: the partial index on reminder_due_at serves it.
# No status condition is needed: a check constraint keeps reminder_due_at empty unless the plan
# runs, and naming the status would lead SQLite's planner to the status index instead.
_OWED = """
    SELECT plan_id FROM lead_contact_plans
    WHERE reminder_due_at <= %(now)s
      AND current_step_id IS NOT NULL AND next_step_due_date IS NOT NULL
    ORDER BY reminder_due_at
    LIMIT %(limit)s
"""

# One statement a batch: lock the owed plans (skipping those another pass holds), insert their
# reminders (the activities app's statement: a reminder that exists is left alone; a step Cadence
# sends itself gets none, see plans.automation), and clear what they owe. Nothing passes through
# Python, which is what keeps the pass close to the cost of the SQL itself.
_INSERT_POSTGRESQL = reminders_insert_sql(
    source="batch", vendor="postgresql", where=not_sent_by_cadence_sql("batch")
)
_POSTGRESQL = f"""
    WITH batch AS (
        SELECT plan_id, user_id, contact_id, current_step_id, next_step_due_date, reminder_due_at
        FROM lead_contact_plans
        WHERE plan_id IN ({_OWED} FOR UPDATE SKIP LOCKED)
    ),
    made AS ({_INSERT_POSTGRESQL})
    UPDATE lead_contact_plans AS plan SET reminder_due_at = NULL
    FROM batch WHERE plan.plan_id = batch.plan_id
"""

# SQLite has one writer at a time, so the batch cannot change between these two statements.
_SQLITE = (
    reminders_insert_sql(
        source="lead_contact_plans",
        vendor="sqlite",
        where=f"plan_id IN ({_OWED}) AND {not_sent_by_cadence_sql('lead_contact_plans')}",
    ),
    f"""
    UPDATE lead_contact_plans SET reminder_due_at = NULL WHERE plan_id IN ({_OWED})
    """,
)


def plans_create_due_reminders(*, now: datetime.datetime, batch_size: int = 5000) -> int:
    """Create the reminders owed at ``now``; returns how many plans were reminded."""
    params = {"now": now, "limit": batch_size}
    if connection.vendor == "sqlite":
        # Django stores SQLite date-times as naive UTC text; compare like with like.
        params["now"] = connection.ops.adapt_datetimefield_value(now)
    handled = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_POSTGRESQL, params)
                count = cursor.rowcount
            else:
                cursor.execute(_SQLITE[0], params)
                cursor.execute(_SQLITE[1], params)
                count = cursor.rowcount
        handled += count
        if count < batch_size:
            return handled
