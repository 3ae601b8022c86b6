"""``manage.py bench_analytics``: time the four analytics reports over a generated organisation
history of N plans and about K activities per plan (``docs/benchmarks.md``)."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.analytics import synthetic
from cadence.analytics.rollups import rollups_refresh
from cadence.analytics.types import ReportFilter
from cadence.core.cli import count, number
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


class Command(BaseCommand):
    help = (
        "Benchmark the analytics reports: generate an organisation history of --plans plans "
        "and about --activities-per-plan activities each (cadence.analytics.synthetic), then "
        "time strategy_performance, step_funnel (the biggest strategy), adherence and "
        "email_outcomes for the whole organisation over the last 365 days, as an admin, "
        "--repeat times each. Needs a database of its own: refuses one holding other plans "
        "unless --force; removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--plans",
            type=count,
            default=1_000_000,
            help="Plans to generate (default 1000000).",
        )
        parser.add_argument(
            "--activities-per-plan",
            type=number(lambda x: x >= 0, "at least 0"),
            default=10,
            help="Activities per plan on average, the plans' own included (default 10).",
        )
        parser.add_argument(
            "--repeat",
            type=count,
            default=3,
            help="Runs of each report (default 3).",
        )
        parser.add_argument("--seed", type=int, default=1, help="The generator's seed.")
        parser.add_argument(
            "--explain",
            action="store_true",
            help="Print the plan of the slowest query of each report whose median exceeds 2 s: "
            "EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite.",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Time the reports on the history an earlier run left (--keep) instead of "
            "generating one.",
        )
        parser.add_argument(
            "--keep", action="store_true", help="Leave the generated history in the database."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though the database holds other plans (the reports count them too).",
        )

    def handle(self, *args, **options) -> None:
        def say(line: str = "") -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            reports = importlib.import_module("cadence.analytics.reports")
        except ImportError as error:
            raise CommandError(f"The reports cannot be imported: {error}") from None
        foreign = synthetic.foreign_plans()
        if foreign and not options["force"]:
            raise CommandError(
                f"This database holds {foreign:,} plans that are not the benchmark's. Run the "
                "benchmark on a database of its own (see docs/benchmarks.md), or pass --force."
            )
        say(
            f"Database {connection.vendor} {connection.settings_dict['NAME']}, Python "
            f"{platform.python_version()}, {os.cpu_count()} CPUs."
        )
        if options["reuse"]:
            if not synthetic.org_exists():
                raise CommandError("--reuse: there is no generated history to reuse.")
        else:
            if synthetic.org_exists():
                say("Removing the history of an earlier run...")
                self._clear(say)
            started = time.perf_counter()
            made = synthetic.org_generate(
                plans=options["plans"],
                activities_per_plan=options["activities_per_plan"],
                seed=options["seed"],
                progress=say,
            )
            seconds = time.perf_counter() - started
            rows = sum(made[key] for key in made if key != "plan_activities")
            say(
                f"Generated in {seconds:.1f} s ({rows / seconds:,.0f} rows/s): "
                + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in made.items())
            )
        try:
            timings = self._measure(reports, options, say)
        finally:
            if options["keep"]:
                say("Generated history kept (--keep); time it again with --reuse.")
            else:
                self._clear(say)
        self._summary(timings, say)

    def _clear(self, say: Callable[[str], None]) -> None:
        started = time.perf_counter()
        synthetic.org_clear(progress=say)
        say(f"Generated history removed ({time.perf_counter() - started:.1f} s).")

    def _measure(self, reports, options: dict, say: Callable[[str], None]) -> list[Timing]:
        # The rollups as the nightly task leaves them, then the few minutes' refresh that
        # follows it; the reports are timed on the rollups those leave. The database is settled
        # first (statistics, as autovacuum would have them on a live database: without them the
        # planner takes a freshly loaded table for empty) and again for the rollup tables.
        self._settle(say)
        for summary in rollups_refresh(rebuild=True):
            say(f"Rebuild: {summary}")
        for summary in rollups_refresh():
            say(f"Refresh: {summary}")
        self._settle(say)
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
            for run in range(1, options["repeat"] + 1):
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
                    f"  {name} run {run}/{options['repeat']}: {timing.times[-1]:.2f} s, "
                    f"{timing.queries} queries, {timing.rows} rows"
                )
            timings.append(timing)
            if options["explain"] and timing.median >= TARGET_SECONDS:
                self._explain(timing, say)
        return timings

    @staticmethod
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

    @staticmethod
    def _settle(say: Callable[[str], None]) -> None:
        """Start the timing from a quiet database: PostgreSQL gets the statistics autovacuum
        would gather (and the visibility map an index-only scan needs), SQLite a WAL
        checkpoint. Cadence never runs ANALYZE on SQLite, so its planner goes without. Neither
        runs inside a transaction (the test suite's)."""
        if connection.in_atomic_block:
            return
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in TABLES:
                    cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
                # CHECKPOINT needs a superuser or pg_checkpoint; without it, noisier figures.
                with contextlib.suppress(DatabaseError):
                    cursor.execute("CHECKPOINT")
                say(f"VACUUM ANALYZE and CHECKPOINT: {time.perf_counter() - started:.1f} s.")
            else:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def _summary(timings: list[Timing], say: Callable[[str], None]) -> None:
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
