"""The scheduler pass: one function that every trigger calls (Celery beat every minute,
``manage.py run_scheduler``), and that calls each app's own step in order.

Each step is idempotent and safe to run concurrently, so a pass may be repeated, overlap with
another on a second worker, or die half-way: the next pass finishes the work.
"""

from __future__ import annotations

import datetime
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from cadence.messaging.limits import counters_prune
from cadence.messaging.outbox import outbox_queue_due
from cadence.notifications.services import reminders_deliver_due
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.plans.services import plans_resume_due
from cadence.suggestions.services import suggestions_generate_due

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassResult:
    reminders_created: int
    reminders_delivered: int
    seconds: float
    plans_resumed: int = 0
    emails_queued: int = 0
    suggestions_made: int = 0
    failed_steps: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.plans_resumed} plan(s) resumed, {self.reminders_created} plan(s) reminded, "
            f"{self.emails_queued} automated email(s) queued, {self.suggestions_made} "
            f"suggestion(s) made, {self.reminders_delivered} reminder(s) delivered in "
            f"{self.seconds:.2f} s"
        )
        if self.failed_steps:
            text += f"; failed: {', '.join(self.failed_steps)} (see the log)"
        return text


def scheduler_pass(*, now: datetime.datetime | None = None) -> PassResult:
    """Resume plans whose pause ends, make the reminders of steps falling due, queue the
    automated emails that are due, make the suggestions of the time rules, then deliver the
    reminders that are due. (Sending the queued emails is the ``messaging.send_outbox`` task's
    job, so a slow mail server never holds up reminders.)"""
    now = now or timezone.now()
    started = time.perf_counter()
    failed: list[str] = []

    def run(step, name: str) -> int:
        # Each app's step is isolated: a failure in one (whatever its cause) is logged and the
        # others still run, so reminders go out even when queueing emails fails.
        try:
            # Inside a caller's transaction, a savepoint keeps a failed step's SQL from
            # poisoning the steps after it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                return step(now=now)
        except Exception:
            logger.exception("Scheduler pass: %s failed", name)
            failed.append(name)
            return 0

    resumed = run(plans_resume_due, "resuming plans")
    created = run(plans_create_due_reminders, "making reminders")
    queued = run(outbox_queue_due, "queueing emails")
    suggested = run(suggestions_generate_due, "making suggestions")
    delivered = run(reminders_deliver_due, "delivering reminders")
    run(counters_prune, "pruning send counters")
    result = PassResult(
        created,
        delivered,
        time.perf_counter() - started,
        plans_resumed=resumed,
        emails_queued=queued,
        suggestions_made=suggested,
        failed_steps=tuple(failed),
    )
    if created or delivered or resumed or queued or suggested or failed:
        logger.info("Scheduler pass: %s", result)
    return result
