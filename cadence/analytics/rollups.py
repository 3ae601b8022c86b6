"""Refreshing the rollup tables the reports read (see ``models``).

- Adherence (``AdherenceDay``): per UTC day of the due date, plan user and strategy, the step
  results counted at the configured grace period.
- Email outcomes (``EmailDay``): per UTC send day, plan user, strategy and step, the automated
  emails by what became of them.

A refresh recounts only the days touched since shortly before the previous refresh (results
written; emails, their plans or their inbound messages changed); a rebuild recounts everything.
The reports count live whatever a rollup cannot vouch for, so a refresh that has not run yet
costs time, not correctness. What a refresh cannot see (a deleted plan's rows, a deleted
strategy or step) the nightly rebuild takes in.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from cadence.analytics import sql as rawsql
from cadence.analytics.adherence import (
    ADHERENCE_ROLLUP,
    adherence_touched_days,
    due_result_counts,
)
from cadence.analytics.common import (
    REFRESH_OVERLAP,
    DayRange,
    day_ranges,
    day_runs,
    grace_period,
    in_days,
    in_ranges,
)
from cadence.analytics.email_report import (
    EMAIL_ROLLUP,
    email_touched_days,
    outcome_sql,
    scoped_messages,
)
from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.plans.models import PlanStepResult


@dataclass(frozen=True)
class RefreshSummary:
    name: str
    rebuilt: bool
    days: int  # days recounted; 0 for a rebuild
    rows: int  # rows in the rollup afterwards
    seconds: float

    def __str__(self) -> str:
        what = "rebuilt" if self.rebuilt else f"{self.days} day(s) recounted"
        return (
            f"{self.name.capitalize()} rollup {what}: {self.rows:,} rows in {self.seconds:.2f} s."
        )


@dataclass(frozen=True)
class _Rollup:
    name: str
    model: type[models.Model]
    uses_grace: bool
    touched: Callable[[datetime.datetime], list[datetime.date]]
    # Writes the rows of the given runs of days (every day for None) at the grace period.
    insert: Callable[[list[DayRange] | None, datetime.timedelta], None]


def _insert_adherence(runs: list[DayRange] | None, grace: datetime.timedelta) -> None:
    results = PlanStepResult.objects.filter(due_at__isnull=False).order_by()
    if runs is not None:
        results = results.filter(in_ranges("due_at", day_ranges(runs)))
    _insert_select(
        AdherenceDay,
        ["day", "user_id", "strategy_id", "on_time", "late", "skipped", "late_seconds"],
        *rawsql.queryset_sql(due_result_counts(results, grace)),
        ["r_day", "r_user", "r_strategy", "r_on_time", "r_late", "r_skipped", "r_late_seconds"],
    )


def _insert_email(runs: list[DayRange] | None, grace: datetime.timedelta) -> None:
    messages = scoped_messages(viewer=None, filters=None)
    if runs is not None:
        messages = messages.filter(in_ranges("m_at", day_ranges(runs)))
    keys = ["m_day", "m_user", "m_strategy", "m_step"]
    _insert_select(
        EmailDay,
        ["day", "user_id", "strategy_id", "step_id", "sent", "replied", "bounced", "opted_out",
         "uncertain"],
        *outcome_sql(messages, keys),
        [*keys, "n_sent", "n_replied", "n_bounced", "n_opted_out", "n_uncertain"],
    )  # fmt: skip


ROLLUPS = [
    _Rollup(ADHERENCE_ROLLUP, AdherenceDay, True, adherence_touched_days, _insert_adherence),
    _Rollup(EMAIL_ROLLUP, EmailDay, False, email_touched_days, _insert_email),
]


def rollups_refresh(*, rebuild: bool = False) -> list[RefreshSummary]:
    """Bring every rollup up to date (see ``_refresh``)."""
    return [_refresh(rollup, rebuild=rebuild) for rollup in ROLLUPS]


def adherence_rollup_refresh(*, rebuild: bool = False) -> RefreshSummary:
    return _refresh(ROLLUPS[0], rebuild=rebuild)


def email_rollup_refresh(*, rebuild: bool = False) -> RefreshSummary:
    return _refresh(ROLLUPS[1], rebuild=rebuild)


def _refresh(rollup: _Rollup, *, rebuild: bool) -> RefreshSummary:
    """Bring one rollup up to date. It rebuilds when asked, when it was never built, or when
    the configured grace period it was built at changed; otherwise it recounts the touched
    days. One transaction: a report sees the rollup before or after, never half of it."""
    began = time.monotonic()
    grace = grace_period()
    grace_seconds = grace.total_seconds() if rollup.uses_grace else None
    with transaction.atomic():
        RollupState.objects.bulk_create([RollupState(name=rollup.name)], ignore_conflicts=True)
        # Two refreshes at once would each delete and insert the same days: take turns.
        state = RollupState.objects.select_for_update().get(name=rollup.name)
        started = timezone.now()
        rebuild = rebuild or state.refreshed_at is None or state.grace_seconds != grace_seconds
        runs: list[DayRange] = []
        if rebuild:
            rollup.model.objects.all().delete()
            rollup.insert(None, grace)
            state.rebuilt_at = started
        else:
            runs = day_runs(rollup.touched(state.refreshed_at - REFRESH_OVERLAP))
            if runs:
                rollup.model.objects.filter(in_days("day", runs)).delete()
                rollup.insert(runs, grace)
        state.refreshed_at = started
        state.grace_seconds = grace_seconds
        state.rows = rollup.model.objects.count()
        state.save()
    return RefreshSummary(
        name=rollup.name,
        rebuilt=rebuild,
        days=sum((last - first).days + 1 for first, last in runs),
        rows=state.rows,
        seconds=time.monotonic() - began,
    )


def _insert_select(
    model: type[models.Model],
    columns: list[str],
    select_sql: str,
    params,
    aliases: list[str],
) -> None:
    """``INSERT ... SELECT`` of grouped counts, the select's ``aliases`` into ``columns``: the
    rows never pass through Python."""
    table = connection.ops.quote_name(model._meta.db_table)
    picked = ", ".join(f"s.{alias}" for alias in aliases)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM ({select_sql}) s",
            params,
        )
