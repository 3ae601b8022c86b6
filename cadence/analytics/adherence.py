"""The adherence report: planned steps that fell due in the period, done on time, late,
skipped or still overdue, per user, per team and per week (definitions: ``reports``)."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from cadence.accounts.models import User
from cadence.analytics import sql as rawsql
from cadence.analytics import stats
from cadence.analytics.common import (
    NO_TEAM,
    check_period,
    grace_period,
    scoped_plans,
)
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


def adherence(
    *,
    viewer: User,
    filters: ReportFilter,
    grace_hours: float | None = None,
    now: datetime.datetime | None = None,
) -> Adherence:
    """Planned steps that fell due in the period, per user, per team and per week: on time,
    late, skipped and still overdue. Five queries."""
    check_period(filters)
    grace = grace_period(grace_hours)
    now = now or timezone.now()
    plans = scoped_plans(viewer=viewer, filters=filters)
    results = PlanStepResult.objects.filter(
        plan__in=plans.values("pk"), due_at__gte=filters.start, due_at__lt=filters.end
    ).order_by()
    done = Q(result=StepResult.COMPLETED)
    # Compared in seconds, the same way on every backend: SQLite's timestamp arithmetic yields
    # text, whose comparison at the exact boundary depends on how each side was formatted.
    lateness = rawsql.EpochSeconds("completed_at", "due_at")
    on_time = done & Q(LessThanOrEqual(lateness, grace.total_seconds()))
    late = done & Q(GreaterThan(lateness, grace.total_seconds()))
    overdue = plans.filter(
        status__in=RUNNING_STATUSES,
        next_step_due_date__gte=filters.start,
        next_step_due_date__lt=min(filters.end, now - grace),
    )
    per_user: dict[uuid.UUID, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in results.values("plan__user_id").annotate(
        on_time=Count("pk", filter=on_time),
        late=Count("pk", filter=late),
        skipped=Count("pk", filter=Q(result=StepResult.SKIPPED)),
        late_seconds=Sum(lateness, filter=late),
    ):
        counts = per_user[row["plan__user_id"]]
        for key in ("on_time", "late", "skipped", "late_seconds"):
            counts[key] += row[key] or 0
    for row in overdue.values("user_id").annotate(n=Count("pk")):
        per_user[row["user_id"]]["overdue"] += row["n"]

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
        weekly=_adherence_weeks(filters, results, on_time, overdue),
    )


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


def _adherence_weeks(filters, results, on_time, overdue) -> list[AdherenceWeek]:
    """Due and on-time steps per week. The database groups by day (at most one row per day of
    the period); folding days into weeks here avoids week arithmetic that differs per backend."""
    utc = datetime.UTC
    weeks: dict[datetime.date, list[int]] = {}
    first = week_start(filters.start.astimezone(utc).date())
    last = week_start((filters.end - datetime.timedelta(microseconds=1)).astimezone(utc).date())
    day = first
    while day <= last:
        weeks[day] = [0, 0]
        day += datetime.timedelta(days=7)
    by_day = (
        results.annotate(day=TruncDate("due_at", tzinfo=utc))
        .values("day")
        .annotate(due=Count("pk"), on_time=Count("pk", filter=on_time))
    )
    for row in by_day:
        week = weeks.setdefault(week_start(row["day"]), [0, 0])
        week[0] += row["due"]
        week[1] += row["on_time"]
    overdue_by_day = (
        overdue.annotate(day=TruncDate("next_step_due_date", tzinfo=utc))
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in overdue_by_day:
        weeks.setdefault(week_start(row["day"]), [0, 0])[0] += row["n"]
    return [
        AdherenceWeek(week_start=week, due=due, on_time=ok, adherence=stats.ratio(ok, due))
        for week, (due, ok) in sorted(weeks.items())
    ]
