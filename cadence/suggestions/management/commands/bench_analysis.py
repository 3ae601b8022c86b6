"""``manage.py bench_analysis``: time the history analysis and measure its memory over a
generated history of N activities, at several sizes (``docs/benchmarks.md``)."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import resource
import time
import tracemalloc
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

from cadence.activities.models import Activity
from cadence.core.cli import whole_numbers
from cadence.crm.models import Company, Contact
from cadence.suggestions import history
from cadence.suggestions.analysis import history_analyze
from cadence.suggestions.models import AnalysisRun


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            found = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


class _PeakRss:
    """Peak resident set size during the ``with`` block (KiB) and the RSS it started from.

    Linux lets a process reset its own high-water mark (``/proc/self/clear_refs``), so VmHWM
    read afterwards is the peak of the block alone; elsewhere ``getrusage``'s ``ru_maxrss``,
    a lifetime maximum, is all there is, and the growth shows only when it sets a new one.
    """

    def __enter__(self) -> _PeakRss:
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            self.resettable = True
        except OSError:
            self.resettable = False
        self.before = _status_kib("VmRSS") if self.resettable else self._maxrss()
        self.peak = self.before
        return self

    def __exit__(self, *exc) -> None:
        self.peak = _status_kib("VmHWM") if self.resettable else self._maxrss()

    @staticmethod
    def _maxrss() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    @property
    def growth(self) -> int:
        return max(0, (self.peak or 0) - (self.before or 0))


def _mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


class Command(BaseCommand):
    help = (
        "Benchmark the history analysis: generate a synthetic history (generate_history's "
        "default effects) up to each of --sizes activities, and at each size time one "
        "history_analyze run and measure its peak memory (process RSS, and the tracemalloc "
        "peak of Python allocations in a second, untimed run). Needs a database of its own: "
        "refuses one holding other activities unless --force; removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sizes",
            type=whole_numbers(),
            default=[100_000, 1_000_000],
            help="Comma-separated activity counts (default 100000,1000000).",
        )
        parser.add_argument(
            "--keep", action="store_true", help="Leave the generated history in the database."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though the database holds other activities (they are analysed too).",
        )

    def handle(self, *args, sizes: list[int], keep: bool, force: bool, **options) -> None:
        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        foreign = Activity.objects.exclude(user__username=history.GENERATOR_USERNAME).count()
        if foreign and not force:
            raise CommandError(
                f"This database holds {foreign:,} activities that are not generated history. "
                "Run the benchmark on a database of its own (see docs/benchmarks.md), or pass "
                "--force."
            )
        if Activity.objects.exists():
            say("Removing the history of an earlier run...")
            history.history_clear(progress=say)
        say(
            f"Database {connection.vendor} {connection.settings_dict['NAME']}, Python "
            f"{platform.python_version()}, {os.cpu_count()} CPUs; sizes "
            + ", ".join(f"{size:,}" for size in sizes)
            + " activities."
        )
        runs: list[AnalysisRun] = []
        rows: list[str] = []
        seed = 0
        try:
            for size in sizes:
                have = Activity.objects.count()
                if have < size:
                    seed += 1
                    say(f"Generating {size - have:,} activities (seed {seed})...")
                    started = time.perf_counter()
                    made = history.history_generate(
                        seed=seed, contacts=size, max_activities=size - have, progress=say
                    )
                    say(
                        f"  made {made['activities']:,} activities for {made['contacts']:,} "
                        f"leads in {time.perf_counter() - started:.1f} s"
                    )
                self._settle()
                total = Activity.objects.count()
                say(f"Analysis over {total:,} activities:")
                with _PeakRss() as rss:
                    run = history_analyze()
                runs.append(run)
                say(f"  {run.summary}")
                say(
                    f"  time {run.seconds:.2f} s; peak RSS {_mib(rss.peak)} "
                    f"(+{_mib(rss.growth)} over the {_mib(rss.before)} before it)"
                )
                run_again, python_peak = self._python_peak(history_analyze)
                runs.append(run_again)
                say(f"  tracemalloc peak of Python allocations {python_peak / 2**20:.2f} MiB")
                rows.append(
                    f"| {connection.vendor} | {total:,} | {run.seconds:.2f} s | "
                    f"{_mib(rss.peak)} (+{_mib(rss.growth)}) | {python_peak / 2**20:.2f} MiB |"
                )
        finally:
            AnalysisRun.objects.filter(pk__in=[r.pk for r in runs]).delete()
            if keep:
                say("Generated history kept (--keep); the next run removes it first.")
            else:
                history.history_clear(progress=say)
        say("| Database | Activities | Analysis time | Peak RSS (growth) | tracemalloc peak |")
        say("|---|---|---|---|---|")
        for row in rows:
            say(row)

    @staticmethod
    def _python_peak(work: Callable[[], AnalysisRun]) -> tuple[AnalysisRun, int]:
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            result = work()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    @staticmethod
    def _settle() -> None:
        """Start each timed run from a quiet database: PostgreSQL gets the statistics
        autovacuum would gather, SQLite a WAL checkpoint. Neither runs inside a transaction."""
        if connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for model in (Activity, Contact, Company):
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"VACUUM ANALYZE {table}")
                with contextlib.suppress(DatabaseError):
                    cursor.execute("CHECKPOINT")
            else:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
