"""Rate limits on automated sends: counted in the database, reserved before each send.

A send reserves one unit in every scope that applies to it (the sender's day and hour, the
recipient domain's hour, the company's week) in one transaction, each with a conditional
``UPDATE ... SET count = count + 1 WHERE count < limit``: the first scope that is full rolls the
others back and says when its window ends, which is when the message may try again. Several
workers therefore never overshoot a limit together, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from cadence.activities.choices import Direction
from cadence.activities.models import Activity
from cadence.messaging.models import SendCounter, Sender
from cadence.scheduling.due import local_day_bounds
from cadence.scheduling.zones import resolve_zone, to_local


class OverLimit(Exception):
    """A send over one of its limits: it waits until ``retry_at``."""

    def __init__(self, reason: str, retry_at: datetime.datetime):
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at


@dataclass(frozen=True)
class Window:
    scope: str
    start: datetime.datetime
    end: datetime.datetime
    limit: int
    reason: str


def hour_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    start = now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(hours=1)


def week_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The ISO week (Monday 00:00 to Monday 00:00, UTC) containing ``now``."""
    day = now.astimezone(datetime.UTC).date()
    monday = day - datetime.timedelta(days=day.weekday())
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=datetime.UTC)
    return start, start + datetime.timedelta(days=7)


def daily_limit(sender: Sender, *, today: datetime.date) -> int:
    """The sender's limit for ``today``: the ramp-up for a new mailbox, capped by the daily
    limit."""
    cap = (
        sender.daily_limit if sender.daily_limit is not None else settings.CADENCE_SEND_DAILY_LIMIT
    )
    start = sender.ramp_start if sender.ramp_start is not None else settings.CADENCE_SEND_RAMP_START
    step = sender.ramp_step if sender.ramp_step is not None else settings.CADENCE_SEND_RAMP_STEP
    days = max((today - sender.ramp_started_on).days, 0)
    return min(cap, start + step * days)


def hourly_limit(sender: Sender) -> int:
    if sender.hourly_limit is not None:
        return sender.hourly_limit
    return settings.CADENCE_SEND_HOURLY_LIMIT


def touches_by_hand(*, company_id, now: datetime.datetime) -> int:
    """Outbound activities logged by people (not by the outbox) at a company this week."""
    week_start, week_end = week_bounds(now)
    return (
        Activity.objects.filter(
            company_id=company_id,
            direction=Direction.OUTBOUND,
            occurred_at__gte=week_start,
            occurred_at__lt=week_end,
            outbound_messages__isnull=True,
        )
        .values("pk")
        .count()
    )


def send_windows(
    *,
    sender: Sender,
    to_email: str,
    company_id,
    now: datetime.datetime,
    by_hand: int | None = None,
) -> list[Window]:
    """Every limit one send to ``to_email`` at ``company_id`` counts against at ``now``."""
    user = sender.user
    day_start, day_end = local_day_bounds(now, time_zone=user.time_zone)
    today = to_local(now, resolve_zone(user.time_zone)).date()
    hour_start, hour_end = hour_bounds(now)
    week_start, week_end = week_bounds(now)
    domain = to_email.rpartition("@")[2].lower()
    if by_hand is None:
        by_hand = touches_by_hand(company_id=company_id, now=now)
    return [
        Window(
            f"user:{user.pk}:day",
            day_start,
            day_end,
            daily_limit(sender, today=today),
            "The sender's daily limit is reached",
        ),
        Window(
            f"user:{user.pk}:hour",
            hour_start,
            hour_end,
            hourly_limit(sender),
            "The sender's hourly limit is reached",
        ),
        Window(
            f"domain:{domain}:hour",
            hour_start,
            hour_end,
            settings.CADENCE_DOMAIN_HOURLY_LIMIT,
            f"The hourly limit for {domain} is reached",
        ),
        Window(
            f"company:{company_id}:week",
            week_start,
            week_end,
            settings.CADENCE_COMPANY_WEEKLY_TOUCHES - by_hand,
            "The company has had its touches for this week",
        ),
    ]


_TAKE = (
    "UPDATE send_counters SET count = count + 1 "
    "WHERE scope = %s AND window_start = %s AND count < %s"
)
_OPEN = {
    "postgresql": (
        "INSERT INTO send_counters (scope, window_start, count) VALUES (%s, %s, 0) "
        "ON CONFLICT DO NOTHING"
    ),
    "sqlite": "INSERT OR IGNORE INTO send_counters (scope, window_start, count) VALUES (%s, %s, 0)",
}


def reserve(windows: list[Window]) -> None:
    """Count one send in every window, or in none: ``OverLimit`` names the first full one.

    Plain SQL: this runs before every send, and the ORM's overhead was most of its cost.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        for window in windows:
            start = connection.ops.adapt_datetimefield_value(window.start)
            taken = 0
            if window.limit > 0:
                cursor.execute(_TAKE, [window.scope, start, window.limit])
                taken = cursor.rowcount
                if not taken:
                    # The window's first send: open its counter (a concurrent opener wins the
                    # race harmlessly), then count.
                    cursor.execute(_OPEN[connection.vendor], [window.scope, start])
                    cursor.execute(_TAKE, [window.scope, start, window.limit])
                    taken = cursor.rowcount
            if not taken:
                # Leaving the atomic block by an exception rolls back the windows counted so far.
                raise OverLimit(f"{window.reason}; it waits until the next window.", window.end)


def counters_prune(*, now: datetime.datetime) -> int:
    """Forget windows over a week old; no limit looks further back."""
    old = now - datetime.timedelta(days=8)
    return SendCounter.objects.filter(window_start__lt=old).delete()[0]
