"""What every report shares: settings, the viewer's scope and the filters, the cohort of
plans, and how plans are grouped by strategy."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db.models import Case, CharField, F, Q, QuerySet, UUIDField, Value, When

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.analytics.types import (
    ReportFilter,
)
from cadence.core.errors import CadenceError
from cadence.plans.choices import (
    ExitReason,
)
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy

DEFAULT_CONVERSION_OUTCOMES = ["Replied", "Meeting Booked"]
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 720
CUSTOM_PLANS = "Custom plans"
NO_STRATEGY = "(no strategy)"
NO_TEAM = "No team"

#: The outcomes that end a plan, and the exit reason they end it with.
OUTCOME_EXIT_REASONS = {"Replied": ExitReason.REPLIED, "Meeting Booked": ExitReason.MEETING_BOOKED}
RESPONSE_REASONS = (ExitReason.REPLIED, ExitReason.MEETING_BOOKED)
EXIT_KEYS = ("finished", "opted_out", "bounced", "aborted")

# How a plan's strategy is grouped: by template, or all custom plans together, or none.
_TEMPLATE, _CUSTOM, _NONE = "template", "custom", "none"


def conversion_outcomes() -> list[str]:
    """The activity outcomes that count as a conversion (``CADENCE_CONVERSION_OUTCOMES``)."""
    return list(getattr(settings, "CADENCE_CONVERSION_OUTCOMES", DEFAULT_CONVERSION_OUTCOMES))


def conversion_reasons() -> list[str]:
    """The exit reasons that mean a plan converted, from the conversion outcomes."""
    mapped = [OUTCOME_EXIT_REASONS.get(outcome) for outcome in conversion_outcomes()]
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
