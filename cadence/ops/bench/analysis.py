"""The history analysis benchmark behind ``manage.py bench_analysis`` (``docs/benchmarks.md``):
a generated history (``cadence.ops.bench.history``, with ``generate_history``'s default
effects) grown to each of several sizes, and at each size one ``history_analyze`` run timed, its
peak RSS measured, and the tracemalloc peak of Python allocations of a second, untimed run."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection

from cadence.activities.models import Activity
from cadence.crm.models import Company, Contact
from cadence.ops.bench import history
from cadence.ops.bench.common import (
    PeakRss,
    database_guard,
    database_settle,
    mib,
    python_peak,
    setup_line,
)
from cadence.suggestions.analysis import history_analyze
from cadence.suggestions.models import AnalysisRun


def analysis_bench(
    *, sizes: list[int], keep: bool, force: bool, say: Callable[[str], None]
) -> None:
    """Refuse a database holding other activities unless ``force``; remove an earlier run's
    history; measure at each of ``sizes`` activities; remove the history unless ``keep``, and
    the analysis runs always; ``say`` the figures as Markdown table rows."""
    foreign = Activity.objects.exclude(user__username=history.GENERATOR_USERNAME).count()
    database_guard(
        foreign=f"{foreign:,} activities that are not generated history" if foreign else None,
        force=force,
    )
    if Activity.objects.exists():
        say("Removing the history of an earlier run...")
        history.history_clear(progress=say)
    say(f"{setup_line()}; sizes " + ", ".join(f"{size:,}" for size in sizes) + " activities.")
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
            database_settle(tables=[m._meta.db_table for m in (Activity, Contact, Company)])
            total = Activity.objects.count()
            say(f"Analysis over {total:,} activities:")
            with PeakRss() as rss:
                run = history_analyze()
            runs.append(run)
            say(f"  {run.summary}")
            say(
                f"  time {run.seconds:.2f} s; peak RSS {mib(rss.peak)} "
                f"(+{mib(rss.growth)} over the {mib(rss.before)} before it)"
            )
            run_again, peak_bytes = python_peak(history_analyze)
            runs.append(run_again)
            say(f"  tracemalloc peak of Python allocations {peak_bytes / 2**20:.2f} MiB")
            rows.append(
                f"| {connection.vendor} | {total:,} | {run.seconds:.2f} s | "
                f"{mib(rss.peak)} (+{mib(rss.growth)}) | {peak_bytes / 2**20:.2f} MiB |"
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
