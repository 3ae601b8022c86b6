"""Each report against a brute-force recomputation in plain Python over random histories.

The recomputation follows the definitions in ``docs/analytics.md`` row by row, with no SQL; the
reports must agree with it for any history, viewer and filter Hypothesis comes up with.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import TeamFactory, UserFactory
from cadence.analytics import reports
from cadence.analytics.rollups import adherence_rollup_refresh, email_rollup_refresh
from cadence.analytics.tests import history
from cadence.analytics.types import ReportFilter
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.plans.models import LeadContactPlan, PlanStepResult

BASE = datetime.datetime(2024, 12, 20, tzinfo=datetime.UTC)
PERIOD = (
    datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(2025, 2, 1, tzinfo=datetime.UTC),
)
NOW = datetime.datetime(2025, 1, 25, tzinfo=datetime.UTC)
STATUSES = ["Not Started", "In Progress", "Completed", "Paused", "Aborted"]
FINISHED = {"Completed", "Aborted"}
RUNNING = {"Not Started", "In Progress"}
ACTIVE = {"Not Started", "In Progress", "Paused"}
REASONS = ["finished", "replied", "meeting_booked", "bounced", "opted_out", "manual"]
OUTCOMES = ["Replied", "Meeting Booked", "Connected", "No Answer"]
CONVERTING = {"Replied", "Meeting Booked"}
RESPONSES = {"replied", "meeting_booked"}

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def hours(n: int) -> datetime.datetime:
    return BASE + datetime.timedelta(hours=n)


@dataclass
class World:
    """Fixed users and strategies; the random part is the plans."""

    users: list
    viewers: list
    strategies: list  # template, template, custom, None
    teams: list
    steps: dict = field(default_factory=dict)


@pytest.fixture
def world(db) -> World:
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    rep = UserFactory(username="p_rep", team=north)
    teammate = UserFactory(username="p_teammate", team=north)
    outsider = UserFactory(username="p_outsider", team=south)
    solo = UserFactory(username="p_solo", team=None)
    manager = UserFactory(username="p_manager", team=north, role=Role.MANAGER)
    admin = UserFactory(username="p_admin", team=None, role=Role.ADMIN)
    first = history.strategy("First", "Email", "Call", "Email", owner=rep)
    second = history.strategy("Second", "Email", "Call", owner=rep)
    custom = history.strategy("Mine", "Email", "Email", template=False, owner=rep)
    made = World(
        users=[rep, teammate, outsider, solo],
        viewers=[admin, manager, rep],
        strategies=[first, second, custom, None],
        teams=[north, south],
    )
    for strategy in made.strategies[:3]:
        made.steps[strategy.pk] = history.steps(strategy)
    return made


step_spec = st.fixed_dictionaries(
    {
        "done": st.sampled_from([True, True, True, False]),
        "result": st.sampled_from(["completed", "completed", "skipped"]),
        "gap": st.integers(0, 200),
        # Due offsets on the grace boundaries (0, 24, 100 hours) test "later than due plus grace".
        "due": st.none() | st.sampled_from([-100, -25, -24, -23, -1, 0, 1, 12, 48]),
        "email": st.none() | st.sampled_from(["sent", "sent", "uncertain", "failed"]),
        "inbound": st.lists(
            st.sampled_from(["reply", "bounce", "complaint", "auto_reply"]), max_size=2
        ),
        "email_at": st.integers(-50, 50),
    }
)
plan_spec = st.fixed_dictionaries(
    {
        "user": st.integers(0, 3),
        "strategy": st.sampled_from([0, 0, 0, 1, 2, 3]),
        "start": st.integers(200, 1100),
        "status": st.sampled_from([*STATUSES, "Completed", "Aborted"]),
        "reason": st.sampled_from([*REASONS, "replied"]),
        "started": st.none() | st.integers(0, 100),
        "ended": st.integers(0, 600),
        "current": st.none() | st.integers(0, 2),
        "next_due": st.none() | st.integers(0, 60 * 24),
        "steps": st.lists(step_spec, min_size=3, max_size=3),
        "activities": st.lists(
            st.tuples(st.sampled_from(OUTCOMES), st.integers(-20, 400)), max_size=2
        ),
    }
)
# Mostly the whole organisation, so most examples have something to count; sometimes a
# narrower viewer or filter, so scoping is exercised too.
query_spec = st.fixed_dictionaries(
    {
        "viewer": st.sampled_from([0, 0, 0, 1, 2]),
        "team": st.sampled_from([None, None, None, None, 0, 1]),
        "user": st.sampled_from([None, None, None, None, 0, 1, 2, 3]),
        "strategy": st.sampled_from([None, None, None, 0, 1]),
    }
)


@dataclass
class Row:
    """A plan as the brute force sees it: plain values."""

    plan: object
    user: object
    strategy: object
    results: list  # (step, result, completed_at, due_at)
    activities: list  # (outcome, occurred_at)
    emails: list  # (step, status, sent_at, handoff_at, inbound kinds)


def build(world: World, specs: list[dict]) -> list[Row]:
    rows = []
    for spec in specs:
        user = world.users[spec["user"]]
        strategy = world.strategies[spec["strategy"]]
        steps = world.steps.get(strategy.pk, []) if strategy else []
        start = hours(spec["start"])
        finished = spec["status"] in FINISHED
        current = None
        if spec["current"] is not None and spec["current"] < len(steps):
            current = steps[spec["current"]]
        plan = history.plan(
            user,
            strategy,
            start,
            status=spec["status"],
            exit_reason=spec["reason"] if finished else "",
            started_at=None
            if spec["started"] is None
            else start + datetime.timedelta(hours=spec["started"]),
            ended_at=start + datetime.timedelta(hours=spec["ended"]) if finished else None,
            current_step=current,
            next_step_due_date=None if spec["next_due"] is None else hours(spec["next_due"]),
        )
        row = Row(plan, user, strategy, [], [], [])
        moment = start
        for step, step_spec_ in zip(steps, spec["steps"], strict=False):
            if step_spec_["done"]:
                moment += datetime.timedelta(hours=step_spec_["gap"])
                due = None
                if step_spec_["due"] is not None:
                    due = moment + datetime.timedelta(hours=step_spec_["due"])
                history.result(plan, step, step_spec_["result"], moment, due_at=due)
                row.results.append((step, step_spec_["result"], moment, due))
            if step_spec_["email"]:
                when = moment + datetime.timedelta(hours=step_spec_["email_at"])
                status = step_spec_["email"]
                sent_at = when if status == "sent" else None
                message = history.email(plan, step, status, sent_at=sent_at, handoff_at=when)
                kinds = set(step_spec_["inbound"])
                for kind in kinds:
                    history.inbound(message, kind)
                row.emails.append((step, status, sent_at, when, kinds))
        for outcome, offset in spec["activities"]:
            occurred = start + datetime.timedelta(hours=offset)
            history.activity(plan, outcome, occurred)
            row.activities.append((outcome, occurred))
        rows.append(row)
    return rows


def query(world: World, spec: dict) -> tuple:
    viewer = world.viewers[spec["viewer"]]
    filters = ReportFilter(
        start=PERIOD[0],
        end=PERIOD[1],
        team_id=None if spec["team"] is None else world.teams[spec["team"]].pk,
        user_id=None if spec["user"] is None else world.users[spec["user"]].pk,
        strategy_id=None if spec["strategy"] is None else world.strategies[spec["strategy"]].pk,
    )
    return viewer, filters


def visible(row: Row, viewer, filters: ReportFilter) -> bool:
    user = row.user
    if viewer.is_admin:
        seen = True
    elif viewer.is_manager:
        seen = user.pk == viewer.pk or user.team_id == viewer.team_id
    else:
        seen = user.pk == viewer.pk
    return (
        seen
        and (filters.team_id is None or user.team_id == filters.team_id)
        and (filters.user_id is None or user.pk == filters.user_id)
        and (
            filters.strategy_id is None or (row.strategy and row.strategy.pk == filters.strategy_id)
        )
    )


def in_period(moment, filters: ReportFilter) -> bool:
    return moment is not None and filters.start <= moment < filters.end


def group_of(strategy) -> tuple:
    if strategy is None:
        return ("none", None)
    return ("template", strategy.pk) if strategy.is_template else ("custom", None)


def whole_hours(later, earlier) -> int:
    return max(0, math.floor((later - earlier).total_seconds() / 3600))


def nearest_rank(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return float(ordered[math.ceil(round(fraction * len(ordered), 9)) - 1])


def rolled_back(function):
    """Run each example in a savepoint that is rolled back, so examples do not pile up."""

    def run(*args, **kwargs):
        with transaction.atomic():
            function(*args, **kwargs)
            transaction.set_rollback(True)

    return run


@EXAMPLES
@given(specs=st.lists(plan_spec, min_size=1, max_size=10), q=query_spec)
def test_strategy_performance_matches_brute_force(world, specs, q):
    @rolled_back
    def check():
        rows = build(world, specs)
        viewer, filters = query(world, q)
        report = reports.strategy_performance(viewer=viewer, filters=filters)

        groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
        spans: dict[tuple, list] = defaultdict(list)
        for row in rows:
            plan = row.plan
            if not visible(row, viewer, filters) or not in_period(plan.plan_start_date, filters):
                continue
            counts = groups[group_of(row.strategy)]
            counts["started"] += 1
            counts["active"] += plan.status in ACTIVE
            counts["completed"] += plan.status == "Completed"
            by_reason = plan.status in FINISHED and plan.exit_reason in RESPONSES
            converting = sorted(t for o, t in row.activities if o in CONVERTING)
            converted = by_reason or bool(converting)
            counts["converted"] += converted
            if plan.status in FINISHED and not converted:
                key = {"manual": "aborted"}.get(plan.exit_reason, plan.exit_reason)
                counts[f"exit_{key}"] += 1
            if converted:
                end = plan.ended_at if by_reason else converting[0]
                spans[group_of(row.strategy)].append(
                    whole_hours(end, plan.started_at or plan.plan_start_date)
                )
        expected = {}
        for key, counts in groups.items():
            median = statistics.median(spans[key]) if spans[key] else None
            expected[key] = (
                counts["started"],
                counts["active"],
                counts["completed"],
                counts["converted"],
                None if median is None else round(median / 24, 1),
                {k: counts[f"exit_{k}"] for k in ("finished", "opted_out", "bounced", "aborted")},
            )
        actual = {}
        for item in report:
            kind = (
                "template"
                if item.strategy_id
                else ("custom" if item.strategy_name == reports.CUSTOM_PLANS else "none")
            )
            actual[(kind, item.strategy_id)] = (
                item.started,
                item.active,
                item.completed,
                item.converted,
                item.median_days_to_conversion,
                item.exits,
            )
            assert item.conversion_rate == pytest.approx(item.converted / item.started)
        assert actual == expected
        assert [r.started for r in report] == sorted((r.started for r in report), reverse=True)

    check()


@EXAMPLES
@given(
    specs=st.lists(plan_spec, min_size=1, max_size=10),
    q=query_spec,
    grace=st.sampled_from([0, 24, 100]),
)
def test_step_funnel_matches_brute_force(world, specs, q, grace):
    @rolled_back
    def check():
        rows = build(world, specs)
        viewer, filters = query(world, q)
        strategy = world.strategies[0]
        funnel = reports.step_funnel(
            viewer=viewer, filters=filters, strategy=strategy, grace_hours=grace
        )
        steps = world.steps[strategy.pk]
        cohort = [
            r
            for r in rows
            if r.strategy == strategy
            and visible(
                r,
                viewer,
                ReportFilter(filters.start, filters.end, filters.team_id, filters.user_id),
            )
            and in_period(r.plan.plan_start_date, filters)
        ]
        grace_delta = datetime.timedelta(hours=grace)
        for step, actual in zip(steps, funnel.steps, strict=True):
            reached = completed = skipped = replies = with_due = late = 0
            exits: Counter = Counter()
            spent = []
            for row in cohort:
                plan = row.plan
                ordered = sorted(row.results, key=lambda r: (r[2], r[0].step_number))
                done = [r for r in ordered if r[1] == "completed"]
                mine = [r for r in row.results if r[0] == step]
                reached += bool(mine) or plan.current_step_id == step.pk
                ended_here = plan.status in FINISHED and plan.current_step_id == step.pk
                if ended_here and plan.exit_reason != "finished":
                    exits[plan.exit_reason] += 1
                for result in mine:
                    if result[1] == "skipped":
                        skipped += 1
                        continue
                    completed += 1
                    if result[3] is not None:
                        with_due += 1
                        late += result[2] > result[3] + grace_delta
                    if (
                        plan.status in FINISHED
                        and plan.exit_reason in RESPONSES
                        and done[-1] is result
                    ):
                        replies += 1
                    index = ordered.index(result)
                    arrived = (
                        ordered[index - 1][2]
                        if index
                        else (plan.started_at or plan.plan_start_date)
                    )
                    spent.append(whole_hours(result[2], arrived))
            assert (actual.reached, actual.completed, actual.skipped) == (
                reached,
                completed,
                skipped,
            )
            assert (actual.exited, actual.exits) == (sum(exits.values()), dict(exits))
            assert actual.reply_rate == (pytest.approx(replies / completed) if completed else None)
            assert actual.late_share == (pytest.approx(late / with_due) if with_due else None)
            assert actual.median_hours == (statistics.median(spent) if spent else None)
            assert actual.p90_hours == (nearest_rank(spent, 0.9) if spent else None)

    check()


def age_everything() -> None:
    """Date every row a report's rollup depends on well before any rollup refresh."""
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    for model in (PlanStepResult, LeadContactPlan, OutboundMessage, InboundMessage):
        model.objects.update(updated_at=long_ago)


#: Live only; the rollup built after everything was written; or built halfway, so the second
#: half's days are counted live beside the rollup's.
rollup_spec = st.sampled_from(["none", "all", "half"])
#: Hours cut off the period at each end: partial first and last days.
trim_spec = st.tuples(st.sampled_from([0, 0, 7, 30]), st.sampled_from([0, 0, 5, 49]))


def build_around_rollup(world: World, specs: list[dict], rollup: str, refresh) -> list[Row]:
    """Build the history, refreshing the rollup (``refresh``) after all of it, after half of
    it, or not at all."""
    if rollup == "none":
        return build(world, specs)
    half = len(specs) // 2 if rollup == "half" else len(specs)
    rows = build(world, specs[:half])
    age_everything()
    assert refresh().rebuilt
    return rows + build(world, specs[half:])


def trimmed(filters: ReportFilter, trim: tuple[int, int]) -> ReportFilter:
    return dataclasses.replace(
        filters,
        start=filters.start + datetime.timedelta(hours=trim[0]),
        end=filters.end - datetime.timedelta(hours=trim[1]),
    )


@EXAMPLES
@given(
    specs=st.lists(plan_spec, min_size=1, max_size=10),
    q=query_spec,
    grace=st.sampled_from([0, 24, 100]),
    rollup=rollup_spec,
    trim=trim_spec,
)
def test_adherence_matches_brute_force(world, specs, q, grace, rollup, trim):
    @rolled_back
    def check():
        with override_settings(CADENCE_ADHERENCE_GRACE_HOURS=grace):
            rows = build_around_rollup(world, specs, rollup, adherence_rollup_refresh)
        viewer, filters = query(world, q)
        filters = trimmed(filters, trim)
        report = reports.adherence(viewer=viewer, filters=filters, grace_hours=grace, now=NOW)
        grace_delta = datetime.timedelta(hours=grace)
        per_user: dict = defaultdict(lambda: defaultdict(float))
        weeks: dict = defaultdict(lambda: [0, 0])
        for row in rows:
            if not visible(row, viewer, filters):
                continue
            counts = per_user[row.user.pk]
            for _step, outcome, completed_at, due in row.results:
                if not in_period(due, filters):
                    continue
                week = weeks[reports.week_start(due.date())]
                week[0] += 1
                if outcome == "skipped":
                    counts["skipped"] += 1
                elif completed_at <= due + grace_delta:
                    counts["on_time"] += 1
                    week[1] += 1
                else:
                    counts["late"] += 1
                    counts["late_hours"] += (completed_at - due).total_seconds() / 3600
            plan = row.plan
            if (
                plan.status in RUNNING
                and in_period(plan.next_step_due_date, filters)
                and plan.next_step_due_date + grace_delta < NOW
            ):
                counts["overdue"] += 1
                weeks[reports.week_start(plan.next_step_due_date.date())][0] += 1
        expected_users = {}
        for user_id, c in per_user.items():
            due = c["on_time"] + c["late"] + c["skipped"] + c["overdue"]
            if due == 0:
                continue
            lateness = round(c["late_hours"] / c["late"], 2) if c["late"] else None
            expected_users[user_id] = (
                due,
                c["on_time"],
                c["late"],
                c["skipped"],
                c["overdue"],
                lateness,
            )
        actual_users = {
            r.key: (r.due, r.on_time, r.late, r.skipped, r.overdue, r.average_lateness_hours)
            for r in report.users
        }
        assert actual_users == expected_users
        teams: dict = defaultdict(lambda: [0, 0])
        for user in world.users:
            if user.pk in expected_users:
                teams[user.team_id][0] += expected_users[user.pk][0]
                teams[user.team_id][1] += expected_users[user.pk][1]
        assert {r.key: [r.due, r.on_time] for r in report.teams} == dict(teams)
        assert {w.week_start: [w.due, w.on_time] for w in report.weekly if w.due} == dict(weeks)

    check()


@EXAMPLES
@given(
    specs=st.lists(plan_spec, min_size=1, max_size=10),
    q=query_spec,
    rollup=rollup_spec,
    trim=trim_spec,
)
def test_email_outcomes_match_brute_force(world, specs, q, rollup, trim):
    @rolled_back
    def check():
        rows = build_around_rollup(world, specs, rollup, email_rollup_refresh)
        viewer, filters = query(world, q)
        filters = trimmed(filters, trim)
        report = reports.email_outcomes(viewer=viewer, filters=filters)
        expected: dict = defaultdict(Counter)
        for row in rows:
            if not visible(row, viewer, filters):
                continue
            plan = row.plan
            done = sorted(
                (r for r in row.results if r[1] == "completed"),
                key=lambda r: (r[2], r[0].step_number),
            )
            last_step = done[-1][0] if done else None
            for step, status, sent_at, handoff_at, kinds in row.emails:
                if status not in ("sent", "uncertain") or not in_period(
                    sent_at or handoff_at, filters
                ):
                    continue
                kind, group = group_of(row.strategy)
                key = (group, step.pk if kind == "template" else None, step.step_number, kind)
                counts = expected[key]
                if status == "uncertain":
                    counts["uncertain"] += 1
                    continue
                counts["sent"] += 1
                attributed = step == last_step
                counts["replied"] += "reply" in kinds or (
                    attributed and plan.exit_reason in RESPONSES
                )
                counts["bounced"] += "bounce" in kinds or (
                    attributed and plan.exit_reason == "bounced"
                )
                counts["opted_out"] += "complaint" in kinds or (
                    attributed and plan.exit_reason == "opted_out"
                )
        fields = ("sent", "replied", "bounced", "opted_out", "uncertain")
        actual = {}
        for item in report:
            kind = (
                "template"
                if item.strategy_id
                else ("custom" if item.strategy_name == reports.CUSTOM_PLANS else "none")
            )
            key = (item.strategy_id, item.step_id, item.step_number, kind)
            actual[key] = tuple(getattr(item, f) for f in fields)
        assert actual == {k: tuple(c[f] for f in fields) for k, c in expected.items()}

    check()
