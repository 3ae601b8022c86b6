"""The four reports of issue 7: strategy performance, step funnel, adherence, email outcomes.

Every count is a SQL aggregate (``GROUP BY`` with filtered counts, semi-joins, window functions);
no report loads plans or activities into Python one by one, so the number of queries and the
memory a report needs do not grow with the history. Durations come back as hour histograms and
the medians are read off them (``stats``).

Definitions (also in ``docs/analytics.md``):

Scope and filters
    A report sees the plans whose ``user`` the viewer may see (reps their own, managers their
    team's, admins all), narrowed by ``team_id`` (the plan user's team), ``user_id`` (the plan's
    user) and ``strategy_id`` (the plan's strategy). The period is ``[start, end)``.

Strategy groups
    Plans of a template strategy are grouped by strategy. Plans of custom strategies (private
    ones, ``is_template`` false) are grouped together as "Custom plans", and plans whose strategy
    was deleted as "(no strategy)"; both have ``strategy_id`` None.

Strategy performance
    The cohort is the plans with ``plan_start_date`` in the period. ``started`` counts it,
    ``active`` those in an active status now, ``completed`` those Completed. A plan is converted
    when it ended (Completed or Aborted) with an exit reason mapped from the conversion outcomes
    (``CADENCE_CONVERSION_OUTCOMES``: "Replied" -> ``replied``, "Meeting Booked" ->
    ``meeting_booked``), or when any activity of the plan has one of those outcomes (so
    "Connected" can count, though it ends no plan). ``conversion_rate`` is converted / started
    with a 95% Wilson interval. Time to conversion runs from ``started_at`` (``plan_start_date``
    when the plan never started) to ``ended_at`` for plans converted by their exit reason, or to
    the first converting activity otherwise; the median is read off whole-hour buckets and given
    in days with one decimal. ``exits`` counts the ended plans that did not convert by exit
    reason: ``finished`` (every step done, no response), ``opted_out``, ``bounced`` and
    ``aborted`` (ended by hand, exit reason ``manual``). Rows are ordered by ``started``
    (descending), then name.

Step funnel (one strategy)
    The cohort as above, restricted to the strategy. Per step: ``reached`` = plans with a step
    result for it or whose current step it is; ``completed`` / ``skipped`` = results; ``exited``
    = plans that ended with it as current step and an exit reason other than ``finished``
    (``exits`` by raw exit reason). ``reply_rate`` = of the plans that completed the step, the
    share that ended ``replied`` or ``meeting_booked`` while this was their latest completed step.
    Time spent = the step's completion minus the plan's arrival at it (the previous result of the
    plan by completion time, or its start for the first), over completed results, as median and
    90th percentile (nearest rank) of whole hours. ``late_share`` = completed results with a due
    date done later than due plus the grace period, over completed results with a due date. The
    biggest drop is the step (not the last) with the largest ``1 - reached(next) / reached``; the
    slowest is the step with the largest median.

Adherence
    The steps that fell due in the period: step results with ``due_at`` in the period, plus
    running plans (Not Started, In Progress) whose ``next_step_due_date`` is in the period and
    more than the grace period ago (``overdue``). Done within grace is ``on_time``, later is
    ``late`` (with the mean lateness in hours), ``skipped`` as recorded; ``due`` is their sum and
    ``adherence`` = on_time / due. Everything is counted for the plan's user (the owner whose
    adherence it is, even if a colleague recorded the result) and folded into that user's team
    ("No team" for users without one). The weekly trend groups by the Monday (UTC) of the due
    date and lists every week that overlaps the period. Grace: ``CADENCE_ADHERENCE_GRACE_HOURS``
    (default 24), or ``grace_hours`` per request.

Email outcomes
    Automated emails whose send time is in the period: ``sent_at`` for sent ones, the hand-off
    time for ``uncertain`` ones (which have no ``sent_at``). Grouped by the plan's strategy group
    and the email's step (template strategies by step; custom plans by step number). ``sent`` and
    ``uncertain`` count statuses; among sent emails, ``replied`` counts those with an inbound
    reply linked to them, or whose plan ended ``replied``/``meeting_booked`` while the email's
    step was its latest completed step; ``bounced`` (a linked bounce, or exit ``bounced``) and
    ``opted_out`` (a linked complaint, or exit ``opted_out``) likewise.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import uuid
from collections import defaultdict

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, UUIDField, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.analytics import sql as rawsql
from cadence.analytics import stats
from cadence.analytics.types import (
    Adherence,
    AdherenceRow,
    AdherenceWeek,
    EmailOutcome,
    Funnel,
    FunnelStep,
    ReportFilter,
    StrategyPerformance,
)
from cadence.core.errors import CadenceError
from cadence.messaging.choices import InboundKind, OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
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


def _check_period(filters: ReportFilter) -> None:
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
    _check_period(filters)
    return scoped_plans(viewer=viewer, filters=filters).filter(
        plan_start_date__gte=filters.start, plan_start_date__lt=filters.end
    )


def _strategy_group(prefix: str = "") -> tuple[Case, Case]:
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


def _group_name(kind: str, strategy_id: uuid.UUID | None, names: dict) -> str:
    if kind == _TEMPLATE:
        return names.get(strategy_id, "")
    return CUSTOM_PLANS if kind == _CUSTOM else NO_STRATEGY


def _strategy_names(ids) -> dict[uuid.UUID, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(ContactStrategy.objects.filter(pk__in=ids).values_list("pk", "name"))


# --- Strategy performance ---------------------------------------------------------------------


def strategy_performance(*, viewer: User, filters: ReportFilter) -> list[StrategyPerformance]:
    """Plans started in the period, per strategy group: how many are active, completed and
    converted, the conversion rate with its interval, the median time to conversion, and why
    the others ended. Two queries whatever the size of the history."""
    groups: dict[tuple, dict] = {}
    for kind, group_id, status, reason, converted, bucket, n in _performance_rows(
        cohort(viewer=viewer, filters=filters)
    ):
        counts = groups.setdefault(
            (kind, rawsql.as_uuid(group_id)), {"counts": defaultdict(int), "histogram": {}}
        )
        tally = counts["counts"]
        tally["started"] += n
        tally["active"] += n if status in ACTIVE_STATUSES else 0
        tally["completed"] += n if status == PlanStatus.COMPLETED else 0
        if converted:
            tally["converted"] += n
            if bucket is not None:
                histogram = counts["histogram"]
                histogram[int(bucket)] = histogram.get(int(bucket), 0) + n
        elif status in FINISHED_STATUSES:
            key = "aborted" if reason == ExitReason.MANUAL else reason
            if key in EXIT_KEYS:
                tally[key] += n
    names = _strategy_names(group_id for _, group_id in groups)
    report = []
    for (kind, group_id), counts in groups.items():
        tally = counts["counts"]
        interval = stats.wilson_interval(tally["converted"], tally["started"])
        median = stats.histogram_median(counts["histogram"])
        report.append(
            StrategyPerformance(
                strategy_id=group_id,
                strategy_name=_group_name(kind, group_id, names),
                started=tally["started"],
                active=tally["active"],
                completed=tally["completed"],
                converted=tally["converted"],
                conversion_rate=stats.ratio(tally["converted"], tally["started"]),
                ci_low=interval[0] if interval else None,
                ci_high=interval[1] if interval else None,
                median_days_to_conversion=stats.hours_to_days(median),
                exits={key: tally[key] for key in EXIT_KEYS},
            )
        )
    report.sort(key=lambda r: (-r.started, r.strategy_name))
    return report


def _performance_rows(plans: QuerySet[LeadContactPlan]) -> list[tuple]:
    """Cohort plans counted per strategy group, status, exit reason, whether converted and the
    whole hour of conversion. The converting activities are a grouped derived table joined
    once, not a subquery per plan: PostgreSQL cannot hash an ``IN`` list of a million plans in
    ``work_mem`` and would rescan it for every plan."""
    outcomes = conversion_outcomes()
    reasons = conversion_reasons()
    kind, group = _strategy_group()
    by_reason = Q(status__in=FINISHED_STATUSES, exit_reason__in=reasons)
    cohort_sql, cohort_params = rawsql.queryset_sql(
        plans.annotate(
            c_id=F("plan_id"),
            c_kind=kind,
            c_group=group,
            c_status=F("status"),
            c_reason=F("exit_reason"),
            c_start=Coalesce("started_at", "plan_start_date"),
            c_end=F("ended_at"),
            c_by_reason=Case(When(by_reason, then=Value(1)), default=Value(0)),
        ).values(
            "c_id", "c_kind", "c_group", "c_status", "c_reason", "c_start", "c_end", "c_by_reason"
        )
    )
    converted_at = "COALESCE(CASE WHEN c.c_by_reason = 1 THEN c.c_end END, conv.first_at)"
    seconds = rawsql.seconds_between(converted_at, "c.c_start")
    statement = f"""
        WITH cohort AS ({cohort_sql}),
        conv AS (
            SELECT a.plan_id AS plan_id, MIN(a.occurred_at) AS first_at
            FROM activities a
            WHERE a.outcome IN {rawsql.placeholders(outcomes)}
              AND a.plan_id IS NOT NULL
            GROUP BY a.plan_id
        ),
        marked AS (
            SELECT c.c_kind AS kind, c.c_group AS grp, c.c_status AS status,
                   c.c_reason AS reason,
                   CASE WHEN c.c_by_reason = 1 OR conv.plan_id IS NOT NULL THEN 1 ELSE 0 END
                       AS converted,
                   {seconds} AS secs
            FROM cohort c LEFT JOIN conv ON conv.plan_id = c.c_id
        )
        SELECT kind, grp, status, reason, converted,
               CASE WHEN converted = 1 AND secs IS NOT NULL
                    THEN {rawsql.hour_bucket("secs")} END,
               COUNT(*)
        FROM marked
        GROUP BY 1, 2, 3, 4, 5, 6
    """
    return rawsql.fetch(statement, (*cohort_params, *outcomes))


# --- Step funnel ------------------------------------------------------------------------------


def step_funnel(
    *,
    viewer: User,
    filters: ReportFilter,
    strategy: ContactStrategy,
    grace_hours: float | None = None,
) -> Funnel:
    """Each step of ``strategy`` for the plans that started in the period: reached, completed,
    skipped, exited there, reply rate after it, time spent on it and the share done late; with
    the biggest drop-off and the slowest step named in words. The caller checks that the viewer
    may see the strategy. Four queries."""
    grace = grace_period(grace_hours)
    filters = dataclasses.replace(filters, strategy_id=strategy.pk)
    plans = cohort(viewer=viewer, filters=filters)
    steps = list(strategy.steps.order_by("step_number"))
    reached = _funnel_reached(plans)
    results = _funnel_results(plans, grace)
    exits: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in (
        plans.filter(status__in=FINISHED_STATUSES)
        .exclude(exit_reason=ExitReason.FINISHED)
        .values("current_step_id", "exit_reason")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        exits[row["current_step_id"]][row["exit_reason"] or "unknown"] = row["n"]
    funnel_steps = []
    for step in steps:
        counts = results.get(step.pk, {})
        histogram = counts.get("histogram", {})
        completed = counts.get("completed", 0)
        funnel_steps.append(
            FunnelStep(
                step_id=step.pk,
                step_number=step.step_number,
                activity_type=step.activity_type,
                reached=reached.get(step.pk, 0),
                completed=completed,
                skipped=counts.get("skipped", 0),
                exited=sum(exits[step.pk].values()),
                exits=dict(sorted(exits[step.pk].items())),
                reply_rate=stats.ratio(counts.get("replies", 0), completed),
                median_hours=stats.histogram_median(histogram),
                p90_hours=stats.histogram_percentile(histogram, 0.9),
                late_share=stats.ratio(counts.get("late", 0), counts.get("with_due", 0)),
            )
        )
    return Funnel(
        strategy_id=strategy.pk,
        strategy_name=strategy.name,
        steps=funnel_steps,
        biggest_drop=describe_biggest_drop(funnel_steps),
        slowest=describe_slowest(funnel_steps),
    )


def _funnel_reached(plans: QuerySet[LeadContactPlan]) -> dict[uuid.UUID, int]:
    """Plans per step that have a result for it or stand at it; the UNION counts a plan once."""
    cohort_sql, params = rawsql.queryset_sql(
        plans.annotate(c_id=F("plan_id"), c_cur=F("current_step_id")).values("c_id", "c_cur")
    )
    statement = f"""
        WITH cohort AS ({cohort_sql})
        SELECT step_id, COUNT(*) FROM (
            SELECT r.plan_id AS plan_id, r.step_id AS step_id
            FROM plan_step_results r JOIN cohort c ON c.c_id = r.plan_id
            WHERE r.step_id IS NOT NULL
            UNION
            SELECT c.c_id, c.c_cur FROM cohort c WHERE c.c_cur IS NOT NULL
        ) reached
        GROUP BY step_id
    """
    return {rawsql.as_uuid(step_id): n for step_id, n in rawsql.fetch(statement, params)}


def _funnel_results(plans: QuerySet[LeadContactPlan], grace: datetime.timedelta) -> dict:
    """Per step: completed, skipped, late, with a due date, replies after it, and the hour
    histogram of time spent, from one pass over the cohort's results with window functions."""
    responded = Q(status__in=FINISHED_STATUSES, exit_reason__in=RESPONSE_REASONS)
    cohort_sql, cohort_params = rawsql.queryset_sql(
        plans.annotate(
            c_id=F("plan_id"),
            c_start=Coalesce("started_at", "plan_start_date"),
            c_replied=Case(When(responded, then=Value(1)), default=Value(0)),
        ).values("c_id", "c_start", "c_replied")
    )
    spent = rawsql.hour_bucket(rawsql.seconds_between("completed_at", "arrived_at"))
    lateness = rawsql.seconds_between("completed_at", "due_at")
    statement = f"""
        WITH cohort AS ({cohort_sql}),
        res AS (
            SELECT r.step_id AS step_id, r.result AS result, r.completed_at AS completed_at,
                   r.due_at AS due_at, c.c_replied AS replied,
                   COALESCE(
                       LAG(r.completed_at) OVER (
                           PARTITION BY r.plan_id ORDER BY r.completed_at, r.step_number
                       ),
                       c.c_start
                   ) AS arrived_at,
                   ROW_NUMBER() OVER (
                       PARTITION BY r.plan_id, r.result
                       ORDER BY r.completed_at DESC, r.step_number DESC
                   ) AS rank_desc
            FROM plan_step_results r JOIN cohort c ON c.c_id = r.plan_id
        )
        SELECT step_id, result,
               CASE WHEN result = %s THEN {spent} END AS bucket,
               COUNT(*),
               SUM(CASE WHEN due_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN due_at IS NOT NULL AND {lateness} > %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN replied = 1 AND rank_desc = 1 THEN 1 ELSE 0 END)
        FROM res
        WHERE step_id IS NOT NULL
        GROUP BY 1, 2, 3
    """
    params = (*cohort_params, StepResult.COMPLETED.value, grace.total_seconds())
    per_step: dict[uuid.UUID, dict] = defaultdict(lambda: defaultdict(int))
    for step_id, result, bucket, n, with_due, late, replies in rawsql.fetch(statement, params):
        counts = per_step[rawsql.as_uuid(step_id)]
        if result == StepResult.COMPLETED:
            counts["completed"] += n
            counts["with_due"] += with_due
            counts["late"] += late
            counts["replies"] += replies
            counts.setdefault("histogram", {})[int(bucket)] = n
        else:
            counts["skipped"] += n
    return per_step


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def describe_biggest_drop(steps: list[FunnelStep]) -> str:
    """The step (before the last) that loses the largest share of the plans that reached it."""
    best: tuple[float, FunnelStep] | None = None
    for step, following in itertools.pairwise(steps):
        if step.reached == 0:
            continue
        share = max(0.0, 1 - following.reached / step.reached)
        if best is None or share > best[0]:
            best = (share, step)
    if best is None:
        return "Not enough data yet to say where plans leave."
    share, step = best
    if share == 0:
        return "No step loses plans yet: every plan that reached a step went on to the next."
    return (
        f"Most plans leave at step {step.step_number} ({step.activity_type}): "
        f"{_percent(share)} of the {step.reached:,} that reached it go no further."
    )


def describe_slowest(steps: list[FunnelStep]) -> str:
    """The step with the largest median time spent on it."""
    timed = [step for step in steps if step.median_hours is not None]
    if not timed:
        return "Not enough data yet to say which step is slowest."
    slowest = max(timed, key=lambda step: step.median_hours)
    median = stats.hours_to_days(slowest.median_hours)
    p90 = stats.hours_to_days(slowest.p90_hours)
    return (
        f"Step {slowest.step_number} ({slowest.activity_type}) is the slowest: "
        f"a median of {median} days, 90% within {p90} days."
    )


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
    _check_period(filters)
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


# --- Email outcomes ---------------------------------------------------------------------------


def email_outcomes(*, viewer: User, filters: ReportFilter) -> list[EmailOutcome]:
    """Automated emails sent in the period, per strategy group and step: sent, replied,
    bounced, opted out, uncertain. Two queries."""
    _check_period(filters)
    messages = OutboundMessage.objects.filter(
        scope_by_user(viewer, field="plan__user"),
        status__in=[OutboundStatus.SENT, OutboundStatus.UNCERTAIN],
    )
    if filters.team_id:
        messages = messages.filter(plan__user__team_id=filters.team_id)
    if filters.user_id:
        messages = messages.filter(plan__user_id=filters.user_id)
    if filters.strategy_id:
        messages = messages.filter(plan__strategy_id=filters.strategy_id)
    kind, group = _strategy_group("plan__")
    messages = (
        messages.annotate(m_at=Coalesce("sent_at", "handoff_at"))
        .filter(m_at__gte=filters.start, m_at__lt=filters.end)
        .annotate(
            m_id=F("outbound_message_id"),
            m_plan=F("plan_id"),
            m_step=F("step_id"),
            m_status=F("status"),
            m_reason=F("plan__exit_reason"),
            m_kind=kind,
            m_group=group,
            m_step_group=Case(
                When(plan__strategy__is_template=True, then=F("step_id")),
                default=Value(None),
                output_field=UUIDField(),
            ),
            m_step_number=F("step__step_number"),
        )
        .values(
            "m_id",
            "m_plan",
            "m_step",
            "m_status",
            "m_reason",
            "m_kind",
            "m_group",
            "m_step_group",
            "m_step_number",
        )
        .order_by()
    )
    msg_sql, msg_params = rawsql.queryset_sql(messages)
    ending = [ExitReason.REPLIED, ExitReason.MEETING_BOOKED, ExitReason.BOUNCED]
    ending = [str(reason) for reason in (*ending, ExitReason.OPTED_OUT)]
    sent = OutboundStatus.SENT.value
    ending_sql = rawsql.placeholders(ending)

    def outcome(kinds: str, reasons: str) -> str:
        return (
            f"SUM(CASE WHEN m.m_status = '{sent}' AND (inb.{kinds} = 1 OR "
            f"(m.m_reason IN {reasons} AND ld.step_id IS NOT NULL)) THEN 1 ELSE 0 END)"
        )

    statement = f"""
        WITH msg AS ({msg_sql}),
        last_done AS (
            SELECT r.plan_id AS plan_id, r.step_id AS step_id
            FROM plan_step_results r
            WHERE r.result = %s
              AND r.plan_id IN (
                  SELECT p.plan_id FROM lead_contact_plans p WHERE p.exit_reason IN {ending_sql}
              )
              AND NOT EXISTS (
                  SELECT 1 FROM plan_step_results later
                  WHERE later.plan_id = r.plan_id AND later.result = %s
                    AND (later.completed_at > r.completed_at
                         OR (later.completed_at = r.completed_at
                             AND later.step_number > r.step_number))
              )
        ),
        inb AS (
            SELECT i.outbound_message_id AS message_id,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS replied,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS bounced,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS complained
            FROM inbound_messages i
            WHERE i.outbound_message_id IS NOT NULL
            GROUP BY i.outbound_message_id
        )
        SELECT m.m_kind, m.m_group, m.m_step_group, m.m_step_number,
               SUM(CASE WHEN m.m_status = '{sent}' THEN 1 ELSE 0 END),
               {outcome("replied", "(%s, %s)")},
               {outcome("bounced", "(%s)")},
               {outcome("complained", "(%s)")},
               SUM(CASE WHEN m.m_status = '{OutboundStatus.UNCERTAIN.value}' THEN 1 ELSE 0 END)
        FROM msg m
        LEFT JOIN last_done ld ON ld.plan_id = m.m_plan AND ld.step_id = m.m_step
        LEFT JOIN inb ON inb.message_id = m.m_id
        GROUP BY 1, 2, 3, 4
    """
    params = (
        *msg_params,
        StepResult.COMPLETED.value,
        *ending,
        StepResult.COMPLETED.value,
        InboundKind.REPLY.value,
        InboundKind.BOUNCE.value,
        InboundKind.COMPLAINT.value,
        ExitReason.REPLIED.value,
        ExitReason.MEETING_BOOKED.value,
        ExitReason.BOUNCED.value,
        ExitReason.OPTED_OUT.value,
    )
    rows = rawsql.fetch(statement, params)
    names = _strategy_names(rawsql.as_uuid(row[1]) for row in rows)
    report = [
        EmailOutcome(
            strategy_id=rawsql.as_uuid(group_id),
            strategy_name=_group_name(kind_value, rawsql.as_uuid(group_id), names),
            step_id=rawsql.as_uuid(step_id),
            step_number=step_number,
            sent=int(n_sent),
            replied=int(n_replied),
            bounced=int(n_bounced),
            opted_out=int(n_opted_out),
            uncertain=int(n_uncertain),
        )
        for (
            kind_value,
            group_id,
            step_id,
            step_number,
            n_sent,
            n_replied,
            n_bounced,
            n_opted_out,
            n_uncertain,
        ) in rows
    ]
    report.sort(
        key=lambda r: (
            r.strategy_name.lower(),
            str(r.strategy_id),
            r.step_number is None,
            r.step_number or 0,
        )
    )
    return report
