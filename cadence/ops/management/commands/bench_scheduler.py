"""``manage.py bench_scheduler``: time the scheduler's reminder step against raw SQL, and bulk
assignment, on a dedicated database filled with generated plans (``cadence.ops.bench.scheduler``,
``docs/benchmarks.md``)."""

from django.core.management.base import CommandParser

from cadence.core.cli import count, number
from cadence.ops.bench.common import (
    BenchCommand,
    add_keep_and_force_options,
    add_plans_option,
    add_repeat_option,
    add_sizes_option,
)
from cadence.ops.bench.scheduler import scheduler_bench


class Command(BenchCommand):
    help = (
        "Benchmark the scheduler: seed --plans running plans (--due-fraction of them owed a "
        "reminder), time one reminder pass against one raw SQL INSERT ... SELECT at two sizes, "
        "then time strategy_assign of --assign contacts. Needs a database of its own: refuses "
        "one holding other data unless --force, and removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_plans_option(parser, default=None, help="Running plans to seed (N).")
        parser.add_argument(
            "--due-fraction",
            type=number(lambda x: 0 < x <= 1, "above 0 and at most 1"),
            default=0.1,
            help="Fraction of the plans owed a reminder now (default 0.1).",
        )
        parser.add_argument(
            "--assign",
            type=count,
            default=10_000,
            help="Contacts to enroll with strategy_assign (default 10000).",
        )
        parser.add_argument(
            "--no-assign", action="store_true", help="Skip the bulk assignment benchmark."
        )
        add_sizes_option(
            parser,
            default=None,
            help="Comma-separated plan counts to run the pass at (default: N/10, N/2 and N).",
        )
        parser.add_argument(
            "--analyze",
            action="store_true",
            help=(
                "SQLite: run ANALYZE after seeding. Off by default, as Cadence never runs it; "
                "PostgreSQL always gets VACUUM ANALYZE, as autovacuum would do."
            ),
        )
        add_repeat_option(
            parser,
            default=1,
            help="Time the pass and the raw SQL this many times at each size; report medians.",
        )
        add_keep_and_force_options(
            parser,
            kept="benchmark data",
            force=(
                "Run even though the database holds other data. The pass then also reminds "
                "that data's due plans, and nothing undoes it: use a scratch copy."
            ),
        )

    def handle(self, *args, **options) -> None:
        scheduler_bench(
            plans=options["plans"],
            due_fraction=options["due_fraction"],
            assign=0 if options["no_assign"] else options["assign"],
            sizes=options["sizes"] or None,
            analyze=options["analyze"],
            repeat=options["repeat"],
            keep=options["keep"],
            force=options["force"],
            log=self.say,
        )
