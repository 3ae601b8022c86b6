"""``manage.py bench_analytics``: time the four analytics reports over a generated organisation
history of N plans and about K activities per plan (``cadence.ops.bench.analytics``,
``docs/benchmarks.md``)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from cadence.core.cli import number
from cadence.ops.bench.analytics import analytics_bench
from cadence.ops.bench.common import (
    BenchCommand,
    add_keep_and_force_options,
    add_plans_option,
    add_repeat_option,
    add_seed_option,
)


class Command(BenchCommand):
    help = (
        "Benchmark the analytics reports: generate an organisation history of --plans plans "
        "and about --activities-per-plan activities each (cadence.ops.bench.synthetic), then "
        "time strategy_performance, step_funnel (the biggest strategy), adherence and "
        "email_outcomes for the whole organisation over the last 365 days, as an admin, "
        "--repeat times each. Needs a database of its own: refuses one holding other plans "
        "unless --force; removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_plans_option(parser, default=1_000_000, help="Plans to generate (default 1000000).")
        parser.add_argument(
            "--activities-per-plan",
            type=number(lambda x: x >= 0, "at least 0"),
            default=10,
            help="Activities per plan on average, the plans' own included (default 10).",
        )
        add_repeat_option(parser, default=3, help="Runs of each report (default 3).")
        add_seed_option(parser, help="The generator's seed.")
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
        add_keep_and_force_options(
            parser,
            kept="generated history",
            force="Run even though the database holds other plans (the reports count them too).",
        )

    def handle(self, *args, **options) -> None:
        analytics_bench(
            plans=options["plans"],
            activities_per_plan=options["activities_per_plan"],
            repeat=options["repeat"],
            seed=options["seed"],
            explain=options["explain"],
            reuse=options["reuse"],
            keep=options["keep"],
            force=options["force"],
            say=self.say,
        )
