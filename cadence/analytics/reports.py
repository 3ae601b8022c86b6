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
    Time spent = the step's completion minus the plan's arrival at it (``arrived_at``, stored
    with the result: when the plan last moved on, else its start), over completed results, as
    median and 90th percentile (nearest rank) of whole hours. ``late_share`` = completed results
    with a due date done later than due plus the grace period, over completed results with a
    due date. The
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
    (default 24), or ``grace_hours`` per request. Whole days come from the daily rollup where it
    is current (``adherence``, ``rollups``); the figures are the same either way.

Email outcomes
    Automated emails whose send time is in the period: ``sent_at`` for sent ones, the hand-off
    time for ``uncertain`` ones (which have no ``sent_at``). Grouped by the plan's strategy group
    and the email's step (template strategies by step; custom plans by step number). ``sent`` and
    ``uncertain`` count statuses; among sent emails, ``replied`` counts those with an inbound
    reply linked to them, or whose plan ended ``replied``/``meeting_booked`` while the email's
    step was its latest completed step; ``bounced`` (a linked bounce, or exit ``bounced``) and
    ``opted_out`` (a linked complaint, or exit ``opted_out``) likewise. Whole days come from
    the daily rollup where it is current, grouped by strategy and step as they are now.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import uuid
from collections import defaultdict

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from cadence.accounts.models import User
from cadence.analytics import sql as rawsql
from cadence.analytics import stats

# The adherence and email reports live in their own modules; ``reports`` stays the one entry
# point the API, the pages and the benchmark call.
from cadence.analytics.adherence import adherence, week_start
from cadence.analytics.common import (
    CUSTOM_PLANS,
    EXIT_KEYS,
    MAX_GRACE_HOURS,
    NO_STRATEGY,
    NO_TEAM,
    RESPONSE_REASONS,
    cohort,
    conversion_outcomes,
    conversion_reasons,
    grace_period,
    group_name,
    strategy_group,
    strategy_names,
)
from cadence.analytics.email_report import email_outcomes
from cadence.analytics.types import (
    Funnel,
    FunnelStep,
    ReportFilter,
    StrategyPerformance,
)
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies.models import ContactStrategy

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
    names = strategy_names(group_id for _, group_id in groups)
    report = []
    for (kind, group_id), counts in groups.items():
        tally = counts["counts"]
        interval = stats.wilson_interval(tally["converted"], tally["started"])
        median = stats.histogram_median(counts["histogram"])
        report.append(
            StrategyPerformance(
                strategy_id=group_id,
                strategy_name=group_name(kind, group_id, names),
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
    kind, group = strategy_group()
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
    results = _funnel_results(plans, grace)
    replies = _funnel_replies(plans)
    # Where the cohort's plans stand (or ended): one grouped pass over the plans alone.
    at_step: dict[uuid.UUID, int] = defaultdict(int)
    exits: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in (
        plans.filter(current_step__isnull=False)
        .values("current_step_id", "status", "exit_reason")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        step_id = row["current_step_id"]
        at_step[step_id] += row["n"]
        if row["status"] in FINISHED_STATUSES and row["exit_reason"] != ExitReason.FINISHED:
            reason = row["exit_reason"] or "unknown"
            exits[step_id][reason] = exits[step_id].get(reason, 0) + row["n"]
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
                # A plan has at most one result per step (a unique constraint), so the plans
                # that reached a step are its results plus the plans standing at it without one.
                reached=completed
                + counts.get("skipped", 0)
                + at_step[step.pk]
                - counts.get("at_current", 0),
                completed=completed,
                skipped=counts.get("skipped", 0),
                exited=sum(exits[step.pk].values()),
                exits=dict(sorted(exits[step.pk].items())),
                reply_rate=stats.ratio(replies.get(step.pk, 0), completed),
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


def _funnel_results(plans: QuerySet[LeadContactPlan], grace: datetime.timedelta) -> dict:
    """Per step: completed, skipped, late, with a due date, the results of plans standing at
    the step, and the hour histogram of time spent (from each result's stored arrival), in one
    grouped pass over the cohort's results: no window and no sort of plans' results."""
    cohort_sql, cohort_params = rawsql.queryset_sql(
        plans.annotate(
            c_id=F("plan_id"),
            c_start=Coalesce("started_at", "plan_start_date"),
            c_cur=F("current_step_id"),
        ).values("c_id", "c_start", "c_cur")
    )
    arrived = "COALESCE(r.arrived_at, c.c_start)"
    spent = rawsql.hour_bucket(rawsql.seconds_between("r.completed_at", arrived))
    lateness = rawsql.seconds_between("r.completed_at", "r.due_at")
    statement = f"""
        WITH cohort AS ({cohort_sql})
        SELECT r.step_id, r.result,
               CASE WHEN r.result = %s THEN {spent} END AS bucket,
               COUNT(*),
               SUM(CASE WHEN r.due_at IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN r.due_at IS NOT NULL AND {lateness} > %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN r.step_id = c.c_cur THEN 1 ELSE 0 END)
        FROM plan_step_results r JOIN cohort c ON c.c_id = r.plan_id
        WHERE r.step_id IS NOT NULL
        GROUP BY 1, 2, 3
    """
    params = (*cohort_params, StepResult.COMPLETED.value, grace.total_seconds())
    per_step: dict[uuid.UUID, dict] = defaultdict(lambda: defaultdict(int))
    for step_id, result, bucket, n, with_due, late, at_current in rawsql.fetch(statement, params):
        counts = per_step[rawsql.as_uuid(step_id)]
        counts["at_current"] += at_current
        if result == StepResult.COMPLETED:
            counts["completed"] += n
            counts["with_due"] += with_due
            counts["late"] += late
            counts.setdefault("histogram", {})[int(bucket)] = n
        else:
            counts["skipped"] += n
    return per_step


def _funnel_replies(plans: QuerySet[LeadContactPlan]) -> dict[uuid.UUID, int]:
    """Per step, the plans that ended with a response while it was their latest completed
    step. Only the responding plans (a small share) are looked at, so the latest result is
    found by an index probe per result rather than by sorting every result of the cohort."""
    later = PlanStepResult.objects.filter(
        plan=OuterRef("plan"), result=StepResult.COMPLETED
    ).filter(
        Q(completed_at__gt=OuterRef("completed_at"))
        | Q(completed_at=OuterRef("completed_at"), step_number__gt=OuterRef("step_number"))
    )
    responded = plans.filter(status__in=FINISHED_STATUSES, exit_reason__in=RESPONSE_REASONS)
    return {
        row["step_id"]: row["n"]
        for row in PlanStepResult.objects.filter(
            plan__in=responded.values("pk"), result=StepResult.COMPLETED, step__isnull=False
        )
        .exclude(Exists(later))
        .values("step_id")
        .annotate(n=Count("pk"))
        .order_by()
    }


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


__all__ = [
    "CUSTOM_PLANS",
    "EXIT_KEYS",
    "MAX_GRACE_HOURS",
    "NO_STRATEGY",
    "NO_TEAM",
    "adherence",
    "email_outcomes",
    "grace_period",
    "step_funnel",
    "strategy_performance",
    "week_start",
]
