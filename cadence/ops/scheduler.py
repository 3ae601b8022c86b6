"""The scheduler pass: one function that every trigger calls (Celery beat every minute,
``manage.py run_scheduler``), and that calls each app's own step in order.

Each step is idempotent and safe to run concurrently, so a pass may be repeated, overlap with
another on a second worker, or die half-way: the next pass finishes the work.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from django.utils import timezone

from cadence.notifications.services import reminders_deliver_due
from cadence.plans.scheduler import plans_create_due_reminders

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassResult:
    reminders_created: int
    reminders_delivered: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.reminders_created} plan(s) reminded, {self.reminders_delivered} "
            f"reminder(s) delivered in {self.seconds:.2f} s"
        )


def scheduler_pass(*, now: datetime.datetime | None = None) -> PassResult:
    """Make the reminders of steps falling due, then deliver the reminders that are due."""
    now = now or timezone.now()
    started = time.perf_counter()
    created = plans_create_due_reminders(now=now)
    delivered = reminders_deliver_due(now=now)
    result = PassResult(created, delivered, time.perf_counter() - started)
    if created or delivered:
        logger.info("Scheduler pass: %s", result)
    return result
