"""The analytics reports benchmark behind ``manage.py bench_analytics`` (``docs/benchmarks.md``):
a generated organisation history of N plans and about K activities per plan
(``cadence.ops.bench.synthetic``), the rollups rebuilt and refreshed as the nightly task leaves
them, then the four reports timed for the whole organisation over the last 365 days, as an
admin."""

from __future__ import annotations

import datetime
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.analytics.rollups import rollups_refresh
from cadence.analytics.types import ReportFilter
from cadence.ops.bench import synthetic
from cadence.ops.bench.common import database_guard, database_settle, setup_line
from cadence.strategies.models import ContactStrategy

TARGET_SECONDS = 2.0
#: The tables the reports read; the ones PostgreSQL gets fresh statistics for before timing.
TABLES = (
    "lead_contact_plans", "plan_step_results", "activities", "outbound_messages",
    "inbound_messages", "contacts", "companies", "contact_strategies", "strategy_steps",
    "users", "teams", "analytics_adherence_days", "analytics_email_days",
)  # fmt: skip


@dataclass
class Timing:
    """One report's runs: their times, its queries and the slowest of them, its rows."""

    name: str
    times: list[float] = field(default_factory=list)
    queries: int = 0
    slowest_sql: str = ""
    slowest_seconds: float = 0.0
    rows: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def met(self) -> bool:
        return self.median < TARGET_SECONDS and max(self.times) < TARGET_SECONDS


def analytics_bench(
    *,
    plans: int,
    activities_per_plan: float,
    repeat: int,
    seed: int,
    explain: bool,
    reuse: bool,
    keep: bool,
    force: bool,
    say: Callable[..., None],
) -> list[Timing]:
    """Refuse a database holding other plans unless ``force``; generate the history (or, with
    ``reuse``, take the one an earlier run kept), time each report ``repeat`` times (with
    ``explain``, print the plan of the slowest query of a report over the target), remove the
    history unless ``keep``, and ``say`` the summary as a Markdown table."""
    try:
        reports = importlib.import_module("cadence.analytics.reports")
    except ImportError as error:
        raise CommandError(f"The reports cannot be imported: {error}") from None
    foreign = synthetic.foreign_plans()
    database_guard(
        foreign=f"{foreign:,} plans that are not the benchmark's" if foreign else None,
        force=force,
    )
    say(f"{setup_line()}.")
    if reuse:
        if not synthetic.org_exists():
            raise CommandError("--reuse: there is no generated history to reuse.")
    else:
        if synthetic.org_exists():
            say("Removing the history of an earlier run...")
            _clear(say)
        started = time.perf_counter()
        made = synthetic.org_generate(
            plans=plans, activities_per_plan=activities_per_plan, seed=seed, progress=say
        )
        seconds = time.perf_counter() - started
        rows = sum(made[key] for key in made if key != "plan_activities")
        say(
            f"Generated in {seconds:.1f} s ({rows / seconds:,.0f} rows/s): "
            + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in made.items())
        )
    try:
        timings = _measure(reports, repeat=repeat, explain=explain, say=say)
    finally:
        if keep:
            say("Generated history kept (--keep); time it again with --reuse.")
        else:
            _clear(say)
    _summary(timings, say)
    return timings


def _clear(say: Callable[[str], None]) -> None:
    started = time.perf_counter()
    synthetic.org_clear(progress=say)
    say(f"Generated history removed ({time.perf_counter() - started:.1f} s).")


def _settle(say: Callable[[str], None]) -> None:
    """A quiet database before timing (``database_settle``), and on PostgreSQL how long the
    statistics and checkpoint took."""
    started = time.perf_counter()
    if database_settle(tables=TABLES):
        say(f"VACUUM ANALYZE and CHECKPOINT: {time.perf_counter() - started:.1f} s.")


def _measure(reports, *, repeat: int, explain: bool, say: Callable[[str], None]) -> list[Timing]:
    # The rollups as the nightly task leaves them, then the few minutes' refresh that
    # follows it; the reports are timed on the rollups those leave. The database is settled
    # first (statistics, as autovacuum would have them on a live database: without them the
    # planner takes a freshly loaded table for empty) and again for the rollup tables.
    _settle(say)
    for summary in rollups_refresh(rebuild=True):
        say(f"Rebuild: {summary}")
    for summary in rollups_refresh():
        say(f"Refresh: {summary}")
    _settle(say)
    viewer = synthetic.bench_users().filter(role=Role.ADMIN).first()
    now = timezone.now()
    filters = ReportFilter(start=now - datetime.timedelta(days=365), end=now)
    biggest = (
        ContactStrategy.objects.filter(
            plans__plan_start_date__gte=filters.start, plans__plan_start_date__lt=filters.end
        )
        .annotate(n=Count("plans"))
        .order_by("-n")
        .first()
    )
    if biggest is None:
        raise CommandError("No plan started in the last 365 days: nothing to report on.")
    say(
        f"Reports as {viewer.username} (admin), {filters.start:%Y-%m-%d} to "
        f"{filters.end:%Y-%m-%d}; the funnel of {biggest.name!r} ({biggest.n:,} plans)."
    )
    calls: list[tuple[str, Callable[[], object]]] = [
        (
            "strategy_performance",
            lambda: reports.strategy_performance(viewer=viewer, filters=filters),
        ),
        (
            "step_funnel",
            lambda: reports.step_funnel(viewer=viewer, filters=filters, strategy=biggest),
        ),
        ("adherence", lambda: reports.adherence(viewer=viewer, filters=filters)),
        ("email_outcomes", lambda: reports.email_outcomes(viewer=viewer, filters=filters)),
    ]
    timings = []
    for name, call in calls:
        timing = Timing(name)
        for run in range(1, repeat + 1):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = call()
                timing.times.append(time.perf_counter() - started)
            timing.queries = len(captured.captured_queries)
            for query in captured.captured_queries:
                if float(query["time"]) > timing.slowest_seconds:
                    timing.slowest_seconds = float(query["time"])
                    timing.slowest_sql = query["sql"]
            timing.rows = _size(result)
            say(
                f"  {name} run {run}/{repeat}: {timing.times[-1]:.2f} s, "
                f"{timing.queries} queries, {timing.rows} rows"
            )
        timings.append(timing)
        if explain and timing.median >= TARGET_SECONDS:
            _explain(timing, say)
    return timings


def _explain(timing: Timing, say: Callable[[str], None]) -> None:
    """The plan of the report's slowest query: run, with actual rows and times, on
    PostgreSQL; SQLite only tells how it would run it (``EXPLAIN QUERY PLAN``)."""
    say(f"  Slowest query of {timing.name} ({timing.slowest_seconds:.2f} s):")
    say("    " + timing.slowest_sql)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + timing.slowest_sql)
            for (line,) in cursor.fetchall():
                say("    " + line)
            return
        # The captured SQL has its parameters quoted in already, as SQLite would run it.
        cursor.execute("EXPLAIN QUERY PLAN " + timing.slowest_sql)
        for row in cursor.fetchall():
            say(f"    {row[1]:>4} {row[0]:>4} {row[-1]}")


def _summary(timings: list[Timing], say: Callable[..., None]) -> None:
    say()
    say(f"| Report | median | max | queries | slowest query | under {TARGET_SECONDS:g} s |")
    say("|---|---:|---:|---:|---:|---|")
    for t in timings:
        say(
            f"| `{t.name}` | {t.median:.2f} s | {max(t.times):.2f} s | {t.queries} | "
            f"{t.slowest_seconds:.2f} s | {'**yes**' if t.met else '**no**'} |"
        )


def _size(result: object) -> int:
    """Rows in a report's result, for the log: a list's length, or the funnel's steps and the
    adherence rows."""
    if isinstance(result, list):
        return len(result)
    steps = getattr(result, "steps", None)
    if steps is not None:
        return len(steps)
    users = getattr(result, "users", None)
    if users is not None:
        return len(users) + len(result.teams) + len(result.weekly)
    return 1
