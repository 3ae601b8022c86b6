"""Refreshing the rollup tables the reports read (see ``models``).

The adherence rollup holds, per UTC day of the due date, plan user and strategy, the step
results counted at the configured grace period. A refresh recounts only the days on which a
result written since shortly before the previous refresh falls due (results are written once,
usually within days of their due date); a rebuild recounts everything. The report counts live
whatever the rollup cannot vouch for, so a refresh that has not run yet costs time, not
correctness. What a refresh cannot see, a deleted plan's results, the nightly rebuild takes in.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cadence.analytics import sql as rawsql
from cadence.analytics.adherence import (
    ADHERENCE_ROLLUP,
    ONE_DAY,
    REFRESH_OVERLAP,
    UTC,
    due_result_counts,
)
from cadence.analytics.common import grace_period
from cadence.analytics.models import AdherenceDay, RollupState
from cadence.plans.models import PlanStepResult


@dataclass(frozen=True)
class RefreshSummary:
    rebuilt: bool
    days: int  # days recounted; 0 for a rebuild
    rows: int  # rows in the rollup afterwards
    seconds: float

    def __str__(self) -> str:
        what = "rebuilt" if self.rebuilt else f"{self.days} day(s) recounted"
        return f"Adherence rollup {what}: {self.rows:,} rows in {self.seconds:.2f} s."


def adherence_rollup_refresh(*, rebuild: bool = False) -> RefreshSummary:
    """Bring the adherence rollup up to date. It rebuilds when asked, when it was never built,
    or when the configured grace period changed since; otherwise it recounts the touched days.
    Runs in one transaction: a report sees the rollup before or after, never half of it."""
    began = time.monotonic()
    grace = grace_period()
    with transaction.atomic():
        RollupState.objects.bulk_create([RollupState(name=ADHERENCE_ROLLUP)], ignore_conflicts=True)
        # Two refreshes at once would each delete and insert the same days: take turns.
        state = RollupState.objects.select_for_update().get(name=ADHERENCE_ROLLUP)
        started = timezone.now()
        rebuild = (
            rebuild or state.refreshed_at is None or state.grace_seconds != grace.total_seconds()
        )
        source = PlanStepResult.objects.filter(due_at__isnull=False).order_by()
        days: list[datetime.date] = []
        if rebuild:
            AdherenceDay.objects.all().delete()
            state.rebuilt_at = started
        else:
            days = touched_days(since=state.refreshed_at - REFRESH_OVERLAP)
            if days:
                in_rows, in_results = _day_filters(days)
                AdherenceDay.objects.filter(in_rows).delete()
                source = source.filter(in_results)
        if rebuild or days:
            _insert(due_result_counts(source, grace))
        state.refreshed_at = started
        state.grace_seconds = grace.total_seconds()
        state.rows = AdherenceDay.objects.count()
        state.save()
    return RefreshSummary(
        rebuilt=rebuild, days=len(days), rows=state.rows, seconds=time.monotonic() - began
    )


def touched_days(*, since: datetime.datetime) -> list[datetime.date]:
    """The UTC days on which results written (or touched) since ``since`` fall due."""
    return sorted(
        PlanStepResult.objects.filter(updated_at__gte=since, due_at__isnull=False)
        .annotate(day=TruncDate("due_at", tzinfo=UTC))
        .values_list("day", flat=True)
        .distinct()
        .order_by()
    )


def _day_filters(days: list[datetime.date]) -> tuple[Q, Q]:
    """Conditions for the rollup rows of ``days`` and for the results due on them, with runs
    of consecutive days as one range each."""
    runs: list[list[datetime.date]] = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    in_rows, in_results = Q(), Q()
    for first, last in runs:
        in_rows |= Q(day__gte=first, day__lte=last)
        in_results |= Q(
            due_at__gte=datetime.datetime.combine(first, datetime.time(), tzinfo=UTC),
            due_at__lt=datetime.datetime.combine(last + ONE_DAY, datetime.time(), tzinfo=UTC),
        )
    return in_rows, in_results


def _insert(counts) -> None:
    """``INSERT ... SELECT`` of the grouped counts: the rows never pass through Python."""
    select_sql, params = rawsql.queryset_sql(counts)
    table = connection.ops.quote_name(AdherenceDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                (day, user_id, strategy_id, on_time, late, skipped, late_seconds)
            SELECT s.r_day, s.r_user, s.r_strategy, s.r_on_time, s.r_late, s.r_skipped,
                   s.r_late_seconds
            FROM ({select_sql}) s
            """,
            params,
        )
