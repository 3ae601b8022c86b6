"""The adherence report: planned steps that fell due in the period, done on time, late,
skipped or still overdue, per user, per team and per week (definitions: ``reports``)."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from cadence.accounts.models import User
from cadence.analytics import sql as rawsql
from cadence.analytics import stats
from cadence.analytics.common import (
    NO_TEAM,
    UTC,
    check_period,
    grace_period,
    in_days,
    in_ranges,
    scoped_plans,
    scoped_rollup,
    split_period,
)
from cadence.analytics.models import AdherenceDay, RollupState
from cadence.analytics.types import (
    Adherence,
    AdherenceRow,
    AdherenceWeek,
    ReportFilter,
)
from cadence.plans.choices import (
    RUNNING_STATUSES,
    StepResult,
)
from cadence.plans.models import PlanStepResult

# --- Adherence --------------------------------------------------------------------------------

ADHERENCE_ROLLUP = "adherence"

# A row of counts: plan user, a UTC day (or the Monday of a week) of the due date, on time,
# late, skipped, seconds late (of the late ones), overdue.
Counts = tuple[uuid.UUID, datetime.date, int, int, int, float, int]


def adherence(
    *,
    viewer: User,
    filters: ReportFilter,
    grace_hours: float | None = None,
    now: datetime.datetime | None = None,
) -> Adherence:
    """Planned steps that fell due in the period, per user, per team and per week: on time,
    late, skipped and still overdue.

    Whole UTC days come from the daily rollup (``AdherenceDay``) when it was built at this
    grace period and nothing written since its last refresh falls due on them; the partial
    first and last days, the days with newer results, and any other grace are counted live from
    the step results. Either way the figures are the same (the tests compare them)."""
    check_period(filters)
    grace = grace_period(grace_hours)
    now = now or timezone.now()
    plans = scoped_plans(viewer=viewer, filters=filters)
    live_ranges = [(filters.start, filters.end)]
    rows: list[Counts] = []
    state = _usable_rollup(grace)
    if state is not None:
        whole_days, live_ranges = split_period(filters, state.refreshed_at, adherence_touched_days)
        if whole_days:
            rows += _rollup_counts(viewer, filters, whole_days)
    rows += _live_counts(plans, live_ranges, grace)
    rows += _overdue_counts(plans, filters, min(filters.end, now - grace))

    per_user: dict[uuid.UUID, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    weeks = _empty_weeks(filters)
    for user_id, day, on_time, late, skipped, late_seconds, overdue in rows:
        counts = per_user[user_id]
        counts["on_time"] += on_time
        counts["late"] += late
        counts["skipped"] += skipped
        counts["late_seconds"] += late_seconds
        counts["overdue"] += overdue
        week = weeks.setdefault(week_start(day), [0, 0])
        week[0] += on_time + late + skipped + overdue
        week[1] += on_time

    users = {user.pk: user for user in User.objects.filter(pk__in=per_user).select_related("team")}
    per_team: dict[uuid.UUID | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    team_names: dict[uuid.UUID | None, str] = {None: NO_TEAM}
    user_rows = []
    for user_id, counts in per_user.items():
        user = users[user_id]
        user_rows.append(_adherence_row(user_id, str(user), counts))
        team_names[user.team_id] = user.team.name if user.team else NO_TEAM
        for key, value in counts.items():
            per_team[user.team_id][key] += value
    team_rows = [_adherence_row(key, team_names[key], c) for key, c in per_team.items()]
    user_rows.sort(key=lambda row: (row.name.lower(), str(row.key)))
    team_rows.sort(key=lambda row: (row.key is None, row.name.lower(), str(row.key)))
    return Adherence(
        users=user_rows,
        teams=team_rows,
        weekly=[
            AdherenceWeek(week_start=week, due=due, on_time=ok, adherence=stats.ratio(ok, due))
            for week, (due, ok) in sorted(weeks.items())
        ],
    )


def classify(grace: datetime.timedelta) -> tuple[Any, Q, Q]:
    """The seconds a result was done after its due date, and the conditions "done on time"
    and "done late" at ``grace``. Compared in seconds, the same way on every backend: SQLite's
    timestamp arithmetic yields text, whose comparison at the exact boundary depends on how
    each side was formatted."""
    lateness = rawsql.EpochSeconds("completed_at", "due_at")
    done = Q(result=StepResult.COMPLETED)
    on_time = done & Q(LessThanOrEqual(lateness, grace.total_seconds()))
    late = done & Q(GreaterThan(lateness, grace.total_seconds()))
    return lateness, on_time, late


def due_result_counts(results: QuerySet[PlanStepResult], grace: datetime.timedelta) -> QuerySet:
    """``results`` counted per plan user, UTC day of the due date and plan strategy: the
    shape of the rollup, and of the live part of the report."""
    lateness, on_time, late = classify(grace)
    return (
        results.annotate(
            r_user=F("plan__user_id"),
            r_day=TruncDate("due_at", tzinfo=UTC),
            r_strategy=F("plan__strategy_id"),
        )
        .values("r_user", "r_day", "r_strategy")
        .annotate(
            r_on_time=Count("pk", filter=on_time),
            r_late=Count("pk", filter=late),
            r_skipped=Count("pk", filter=Q(result=StepResult.SKIPPED)),
            r_late_seconds=Coalesce(Sum(lateness, filter=late), Value(0.0)),
        )
        .order_by()
    )


def _usable_rollup(grace: datetime.timedelta) -> RollupState | None:
    """The rollup's state if it has been built at this grace period."""
    state = RollupState.objects.filter(name=ADHERENCE_ROLLUP).first()
    if state is None or state.refreshed_at is None:
        return None
    if state.grace_seconds != grace.total_seconds():
        return None
    return state


def adherence_touched_days(
    since: datetime.datetime,
    first: datetime.datetime | None = None,
    last: datetime.datetime | None = None,
) -> list[datetime.date]:
    """The UTC days (between ``first`` and ``last`` when given) on which step results written
    or touched since ``since`` fall due: what the rollup may not hold yet."""
    results = PlanStepResult.objects.filter(updated_at__gte=since, due_at__isnull=False)
    if first is not None:
        results = results.filter(due_at__gte=first, due_at__lt=last)
    return list(
        results.annotate(day=TruncDate("due_at", tzinfo=UTC))
        .values_list("day", flat=True)
        .distinct()
        .order_by()
    )


def _rollup_counts(viewer: User, filters: ReportFilter, days: list[tuple]) -> list[Counts]:
    rows = scoped_rollup(AdherenceDay, viewer=viewer, filters=filters)
    return [
        (row[0], row[1], row[2], row[3], row[4], row[5], 0)
        # Summed per week (its Monday), not per day: the caller folds days into weeks anyway,
        # and a year of (user, day) rows is tens of thousands of rows to convert in Python.
        for row in rows.filter(in_days("day", days))
        .annotate(week=rawsql.WeekStart("day"))
        .values("user_id", "week")
        .annotate(
            on_time=Sum("on_time"),
            late=Sum("late"),
            skipped=Sum("skipped"),
            late_seconds=Sum("late_seconds"),
        )
        .values_list("user_id", "week", "on_time", "late", "skipped", "late_seconds")
        .order_by()
    ]


def _live_counts(plans, ranges: list[tuple], grace: datetime.timedelta) -> list[Counts]:
    if not ranges:
        return []
    results = PlanStepResult.objects.filter(
        in_ranges("due_at", ranges), plan__in=plans.values("pk")
    ).order_by()
    return [
        (
            row["r_user"],
            row["r_day"],
            row["r_on_time"],
            row["r_late"],
            row["r_skipped"],
            row["r_late_seconds"],
            0,
        )
        for row in due_result_counts(results, grace)
    ]


def _overdue_counts(plans, filters: ReportFilter, before: datetime.datetime) -> list[Counts]:
    """Running plans whose step fell due in the period and is more than the grace period late."""
    overdue = plans.filter(
        status__in=RUNNING_STATUSES,
        next_step_due_date__gte=filters.start,
        next_step_due_date__lt=before,
    )
    return [
        (user_id, day, 0, 0, 0, 0.0, n)
        for user_id, day, n in overdue.annotate(day=TruncDate("next_step_due_date", tzinfo=UTC))
        .values("user_id", "day")
        .annotate(n=Count("pk"))
        .values_list("user_id", "day", "n")
    ]


def _adherence_row(key, name: str, counts: dict[str, float]) -> AdherenceRow:
    on_time, late = int(counts["on_time"]), int(counts["late"])
    skipped, overdue = int(counts["skipped"]), int(counts["overdue"])
    due = on_time + late + skipped + overdue
    lateness = counts["late_seconds"] / 3600 / late if late else None
    return AdherenceRow(
        key=key,
        name=name,
        due=due,
        on_time=on_time,
        late=late,
        average_lateness_hours=round(lateness, 2) if lateness is not None else None,
        skipped=skipped,
        overdue=overdue,
        adherence=stats.ratio(on_time, due),
    )


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of ``day``'s ISO week."""
    return day - datetime.timedelta(days=day.weekday())


def _empty_weeks(filters: ReportFilter) -> dict[datetime.date, list[int]]:
    """Every week (by its Monday, UTC) that overlaps the period, with nothing counted yet. The
    database groups by day; folding days into weeks here avoids week arithmetic that differs
    per backend."""
    weeks: dict[datetime.date, list[int]] = {}
    day = week_start(filters.start.astimezone(UTC).date())
    last = week_start((filters.end - datetime.timedelta(microseconds=1)).astimezone(UTC).date())
    while day <= last:
        weeks[day] = [0, 0]
        day += datetime.timedelta(days=7)
    return weeks
