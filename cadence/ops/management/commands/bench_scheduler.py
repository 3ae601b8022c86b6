"""``manage.py bench_scheduler``: time the scheduler's reminder step against raw SQL, and bulk
assignment, on a dedicated database filled with generated plans (``docs/benchmarks.md``)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from cadence.core.cli import count, number, whole_numbers
from cadence.ops.bench import SchedulerBench, cleanup, summary


class Command(BaseCommand):
    help = (
        "Benchmark the scheduler: seed --plans running plans (--due-fraction of them owed a "
        "reminder), time one reminder pass against one raw SQL INSERT ... SELECT at two sizes, "
        "then time strategy_assign of --assign contacts. Needs a database of its own: refuses "
        "one holding other data unless --force, and removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--plans",
            type=count,
            required=True,
            help="Running plans to seed (N).",
        )
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
        parser.add_argument(
            "--sizes",
            type=whole_numbers(),
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
        parser.add_argument(
            "--repeat",
            type=count,
            default=1,
            help="Time the pass and the raw SQL this many times at each size; report medians.",
        )
        parser.add_argument(
            "--keep", action="store_true", help="Leave the benchmark data in the database."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "Run even though the database holds other data. The pass then also reminds "
                "that data's due plans, and nothing undoes it: use a scratch copy."
            ),
        )

    def handle(self, *args, **options) -> None:
        plans = options["plans"]
        sizes = options["sizes"] or None
        if sizes and max(sizes) != plans:
            raise CommandError("--sizes must end at --plans (the largest size is N).")

        def log(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        foreign = SchedulerBench.foreign_data()
        if foreign and not options["force"]:
            raise CommandError(
                "This database holds data that is not the benchmark's ("
                + ", ".join(foreign)
                + "). Run the benchmark on a database of its own (see docs/benchmarks.md), "
                "or pass --force on a scratch copy."
            )
        if SchedulerBench.has_bench_data():
            log("Removing the data of an earlier benchmark run...")
            cleanup(log)

        settings = connection.settings_dict
        log(f"Database: {connection.vendor} {settings['NAME']}")
        bench = SchedulerBench(
            plans=plans,
            due_fraction=options["due_fraction"],
            assign=0 if options["no_assign"] else options["assign"],
            sizes=sizes,
            analyze=options["analyze"],
            repeat=options["repeat"],
            log=log,
        )
        try:
            report = bench.run()
        finally:
            if options["keep"]:
                log("Benchmark data kept (--keep); the next run removes it first.")
            else:
                cleanup(log)
        for line in summary(report):
            log(line)
