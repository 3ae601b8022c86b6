"""What every report shares: settings, the viewer's scope and the filters, the cohort of
plans, and how plans are grouped by strategy."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import Case, CharField, F, Q, QuerySet, UUIDField, Value, When

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.analytics.types import (
    ReportFilter,
)
from cadence.core.errors import CadenceError
from cadence.plans.exits import RESPONSE_EXIT_REASONS, exit_reason_of
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy

DEFAULT_CONVERSION_OUTCOMES = ["Replied", "Meeting Booked"]
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 720
CUSTOM_PLANS = "Custom plans"
NO_STRATEGY = "(no strategy)"
NO_TEAM = "No team"

#: The exit reasons of plans that ended because the lead responded (``cadence.plans.exits``).
RESPONSE_REASONS = RESPONSE_EXIT_REASONS
EXIT_KEYS = ("finished", "opted_out", "bounced", "aborted")

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)
#: A rollup refresh recounts the days of rows written since shortly before the previous refresh
#: started, so a row whose transaction committed while that refresh ran is not missed; reports
#: count those days live.
REFRESH_OVERLAP = datetime.timedelta(minutes=10)

# How a plan's strategy is grouped: by template, or all custom plans together, or none.
_TEMPLATE, _CUSTOM, _NONE = "template", "custom", "none"


def conversion_outcomes() -> list[str]:
    """The activity outcomes that count as a conversion (``CADENCE_CONVERSION_OUTCOMES``)."""
    return list(getattr(settings, "CADENCE_CONVERSION_OUTCOMES", DEFAULT_CONVERSION_OUTCOMES))


def conversion_reasons() -> list[str]:
    """The exit reasons that mean a plan converted, from the conversion outcomes."""
    mapped = [exit_reason_of(outcome) for outcome in conversion_outcomes()]
    return [str(reason) for reason in mapped if reason]


def grace_period(grace_hours: float | None = None) -> datetime.timedelta:
    """The grace period: ``grace_hours`` if given, else ``CADENCE_ADHERENCE_GRACE_HOURS``."""
    if grace_hours is None:
        grace_hours = getattr(settings, "CADENCE_ADHERENCE_GRACE_HOURS", DEFAULT_GRACE_HOURS)
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise CadenceError(
            f"The grace period must lie between 0 and {MAX_GRACE_HOURS} hours.", field="grace_hours"
        )
    return datetime.timedelta(hours=grace_hours)


def check_period(filters: ReportFilter) -> None:
    if filters.start >= filters.end:
        raise CadenceError("The period must end after it starts.", field="end")


def scoped_plans(*, viewer: User, filters: ReportFilter) -> QuerySet[LeadContactPlan]:
    """The plans the viewer may see, narrowed by the filter's team, user and strategy (not by
    the period, whose meaning differs per report)."""
    plans = LeadContactPlan.objects.filter(scope_by_user(viewer, field="user"))
    if filters.team_id:
        plans = plans.filter(user__team_id=filters.team_id)
    if filters.user_id:
        plans = plans.filter(user_id=filters.user_id)
    if filters.strategy_id:
        plans = plans.filter(strategy_id=filters.strategy_id)
    return plans.order_by()


def scoped_rollup(model: type[models.Model], *, viewer: User, filters: ReportFilter) -> QuerySet:
    """A rollup's rows the viewer may see, narrowed by the filter (rollups keep the plan's user
    and strategy, so the same rules apply as to plans)."""
    rows = model.objects.filter(scope_by_user(viewer, field="user"))
    if filters.team_id:
        rows = rows.filter(user__team_id=filters.team_id)
    if filters.user_id:
        rows = rows.filter(user_id=filters.user_id)
    if filters.strategy_id:
        rows = rows.filter(strategy_id=filters.strategy_id)
    return rows.order_by()


def cohort(*, viewer: User, filters: ReportFilter) -> QuerySet[LeadContactPlan]:
    """The plans that started (``plan_start_date``) in the period."""
    check_period(filters)
    return scoped_plans(viewer=viewer, filters=filters).filter(
        plan_start_date__gte=filters.start, plan_start_date__lt=filters.end
    )


def strategy_group(prefix: str = "") -> tuple[Case, Case]:
    """The kind of a plan's strategy group and the template's ID (None for the other kinds)."""
    is_template = Q(**{f"{prefix}strategy__is_template": True})
    kind = Case(
        When(Q(**{f"{prefix}strategy__isnull": True}), then=Value(_NONE)),
        When(is_template, then=Value(_TEMPLATE)),
        default=Value(_CUSTOM),
        output_field=CharField(),
    )
    group = Case(
        When(is_template, then=F(f"{prefix}strategy_id")),
        default=Value(None),
        output_field=UUIDField(),
    )
    return kind, group


def group_name(kind: str, strategy_id: uuid.UUID | None, names: dict) -> str:
    if kind == _TEMPLATE:
        return names.get(strategy_id, "")
    return CUSTOM_PLANS if kind == _CUSTOM else NO_STRATEGY


def strategy_names(ids) -> dict[uuid.UUID, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(ContactStrategy.objects.filter(pk__in=ids).values_list("pk", "name"))


# --- Reading a rollup beside live counts ------------------------------------------------------

DayRange = tuple[datetime.date, datetime.date]  # first and last day, both included


def split_period(
    filters: ReportFilter,
    refreshed_at: datetime.datetime,
    touched: Callable[[datetime.datetime, datetime.datetime, datetime.datetime], list],
) -> tuple[list[DayRange], list[tuple[datetime.datetime, datetime.datetime]]]:
    """The period as runs of whole UTC days a rollup refreshed at ``refreshed_at`` can answer,
    and the time ranges to count live: the partial days at either end, and the whole days
    ``touched(since, first, last)`` names as changed since shortly before that refresh."""
    first = at_midnight(filters.start.astimezone(UTC).date())
    if first != filters.start:
        first += ONE_DAY
    last = at_midnight(filters.end.astimezone(UTC).date())
    if first >= last:
        return [], [(filters.start, filters.end)]
    live = [(filters.start, first), (last, filters.end)]
    dirty = sorted(set(touched(refreshed_at - REFRESH_OVERLAP, first, last)))
    whole = []
    day = first.date()
    for stale in [*dirty, last.date()]:
        if day < stale:
            whole.append((day, stale - ONE_DAY))
        day = stale + ONE_DAY
    live += [(at_midnight(day), at_midnight(day) + ONE_DAY) for day in dirty]
    return whole, [(a, b) for a, b in live if a < b]


def day_runs(days: list[datetime.date]) -> list[DayRange]:
    """Sorted days as runs of consecutive days."""
    runs: list[list[datetime.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def in_days(field: str, runs: list[DayRange]) -> Q:
    """``field`` (a date) within the runs."""
    condition = Q()
    for first, last in runs:
        condition |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return condition


def in_ranges(field: str, ranges) -> Q:
    """``field`` (a moment) within any of the ``[start, end)`` ranges."""
    condition = Q()
    for start, end in ranges:
        condition |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return condition


def day_ranges(runs: list[DayRange]) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Runs of days as ``[start, end)`` ranges of moments."""
    return [(at_midnight(first), at_midnight(last) + ONE_DAY) for first, last in runs]


def at_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
