"""The scheduler benchmark behind ``manage.py bench_scheduler`` (see ``docs/benchmarks.md``).

On the plans of ``scheduler_data`` (a given fraction of them owed a reminder) it times, at
several sizes (N/10, N/2 and N unless told otherwise, seeding the difference in between):

- the scheduler's reminder step, ``plans_create_due_reminders(now=...)``, the ORM path the
  product runs (first, on the freshly seeded or reset state);
- one raw SQL ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (``INSERT OR IGNORE`` on SQLite)
  making the same reminders, plus the ``UPDATE`` clearing ``reminder_due_at``, in one
  transaction (second, on the same state restored: reminders deleted, ``reminder_due_at`` put
  back). Before each timed run the database is settled the same way (``database_settle``).
  With ``repeat`` the pair runs that many times and the medians count;
- the memory of the pass: the peak resident set size during the (first) timed pass, and the
  ``tracemalloc`` peak of Python allocations during one more, untimed pass on the same state
  again.

Then it times ``strategy_assign`` of ``assign`` contacts not yet enrolled, and removes every
row it made.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F

from cadence.accounts.models import User
from cadence.activities.choices import ReminderStatus
from cadence.activities.models import Reminder, default_reminder_channels
from cadence.crm.models import Contact
from cadence.ops.bench.common import PeakRss, database_guard, mib, python_peak
from cadence.ops.bench.scheduler_data import (
    CONTACT_FIELDS,
    USER_PREFIX,
    SchedulerData,
    row_id,
    scheduler_data_clear,
)
from cadence.plans.assignment import strategy_assign
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.plans.scheduler import plans_create_due_reminders


@dataclass
class PassFigures:
    plans: int
    due: int
    orm_seconds: float
    orm_times: list[float]
    orm_reminded: int
    raw_seconds: float
    raw_times: list[float]
    raw_created: int
    same_reminders: bool
    rss_peak_kib: int | None
    rss_before_kib: int | None
    python_peak_bytes: int

    @property
    def ratio(self) -> float:
        return self.orm_seconds / self.raw_seconds if self.raw_seconds else math.inf

    @property
    def rss_growth_kib(self) -> int | None:
        if self.rss_peak_kib is None or self.rss_before_kib is None:
            return None
        return max(0, self.rss_peak_kib - self.rss_before_kib)


@dataclass
class AssignFigures:
    contacts: int
    enrolled: int
    skipped: int
    seconds: float
    rss_growth_kib: int | None
    python_peak_bytes: int


@dataclass
class BenchReport:
    vendor: str
    cpus: int
    passes: list[PassFigures] = field(default_factory=list)
    assignment: AssignFigures | None = None


class SchedulerBench(SchedulerData):
    """One benchmark run on the default database. ``log`` receives the progress lines."""

    def __init__(
        self,
        *,
        plans: int,
        due_fraction: float = 0.1,
        assign: int = 10_000,
        sizes: Sequence[int] | None = None,
        analyze: bool = False,
        repeat: int = 1,
        now: datetime.datetime | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        super().__init__(plans=plans, due_fraction=due_fraction, analyze=analyze, now=now, log=log)
        self.assign = assign
        self.sizes = sorted(set(sizes)) if sizes else _default_sizes(plans)
        self.repeat = repeat

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> BenchReport:
        report = BenchReport(vendor=self.vendor, cpus=_cpus())
        self._seed_fixture()
        for size in self.sizes:
            self._seed_plans_to(size)
            report.passes.append(self._measure_pass(size))
        if self.assign:
            report.assignment = self._measure_assignment()
        return report

    # -- the pass --------------------------------------------------------------------------

    def _bench_plans(self):
        return LeadContactPlan.objects.filter(user__in=self.users)

    def _reset(self) -> None:
        """Back to the seeded state: no reminders, every running plan owed its reminder."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {Reminder._meta.db_table} WHERE user_id IN "
                f"(SELECT user_id FROM {User._meta.db_table} WHERE username LIKE %s)",
                [f"{USER_PREFIX}%"],
            )
            self._bench_plans().filter(
                reminder_due_at__isnull=True,
                status__in=RUNNING_STATUSES,
                next_step_due_date__isnull=False,
            ).update(reminder_due_at=F("next_step_due_date") - self.lead)
        self._settle()

    def _fingerprint(self) -> tuple:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), COUNT(DISTINCT plan_id), SUM(LENGTH(message)), "
                f"MIN(remind_at), MAX(due_at) FROM {Reminder._meta.db_table} WHERE user_id IN "
                f"(SELECT user_id FROM {User._meta.db_table} WHERE username LIKE %s)",
                [f"{USER_PREFIX}%"],
            )
            return tuple(cursor.fetchone())

    def raw_sql_reminders(self) -> int:
        """The reminder step as one ``INSERT ... SELECT`` and one ``UPDATE``; rows inserted."""
        postgres = self.vendor == "postgresql"
        now = connection.ops.adapt_datetimefield_value(self.now)
        running = list(RUNNING_STATUSES)
        due = (
            "p.reminder_due_at <= %s AND p.status IN (%s, %s) "
            "AND p.current_step_id IS NOT NULL AND p.next_step_due_date IS NOT NULL"
        )
        insert = f"""
            INSERT {"" if postgres else "OR IGNORE "}INTO reminders (
                reminder_id, user_id, plan_id, step_id, activity_id, remind_at, due_at,
                message, status, channels, sent_at, created_at, updated_at
            )
            SELECT {"gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"},
                p.user_id, p.plan_id, p.current_step_id, NULL, p.reminder_due_at,
                p.next_step_due_date, '',
                %s, {"CAST(%s AS jsonb)" if postgres else "%s"}, NULL, %s, %s
            FROM lead_contact_plans p
            WHERE {due}
            {"ON CONFLICT DO NOTHING" if postgres else ""}
        """
        channels = json.dumps(default_reminder_channels())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [ReminderStatus.PENDING, channels, now, now, now, *running])
            created = cursor.rowcount
            cursor.execute(
                f"UPDATE lead_contact_plans SET reminder_due_at = NULL "
                f"WHERE {due.replace('p.', '')}",
                [now, *running],
            )
        return created

    def _measure_pass(self, size: int) -> PassFigures:
        self._reset()
        due = self._bench_plans().filter(reminder_due_at__lte=self.now).count()
        self.log(f"Pass over {size:,} plans, {due:,} owed a reminder:")
        orm_times, raw_times, same, reminded, created = [], [], True, 0, 0
        rss = None
        for trial in range(1, self.repeat + 1):
            label = f" (run {trial}/{self.repeat})" if self.repeat > 1 else ""
            self._reset()
            with PeakRss() as trial_rss:
                started = time.perf_counter()
                reminded = plans_create_due_reminders(now=self.now)
                orm_times.append(time.perf_counter() - started)
            rss = rss or trial_rss
            orm_print = self._fingerprint()
            self.log(
                f"  scheduler pass (plans_create_due_reminders){label}: {reminded:,} plans "
                f"reminded in {orm_times[-1]:.2f} s"
            )
            self._reset()
            started = time.perf_counter()
            created = self.raw_sql_reminders()
            raw_times.append(time.perf_counter() - started)
            same = same and self._fingerprint() == orm_print
            self.log(
                f"  raw SQL (INSERT ... SELECT + UPDATE){label}: {created:,} reminders created "
                f"in {raw_times[-1]:.2f} s"
            )
        orm_seconds, raw_seconds = statistics.median(orm_times), statistics.median(raw_times)
        ratio = orm_seconds / raw_seconds if raw_seconds else math.inf
        median = " (medians)" if self.repeat > 1 else ""
        self.log(
            f"  ratio ORM / raw SQL{median}: {ratio:.1f}x "
            f"(same reminders: {'yes' if same else 'NO'})"
        )

        self._reset()
        _, peak_bytes = python_peak(lambda: plans_create_due_reminders(now=self.now))
        figures = PassFigures(
            plans=size,
            due=due,
            orm_seconds=orm_seconds,
            orm_times=orm_times,
            orm_reminded=reminded,
            raw_seconds=raw_seconds,
            raw_times=raw_times,
            raw_created=created,
            same_reminders=same,
            rss_peak_kib=rss.peak,
            rss_before_kib=rss.before,
            python_peak_bytes=peak_bytes,
        )
        self.log(
            f"  memory of the pass: peak RSS {mib(rss.peak)} "
            f"(+{mib(figures.rss_growth_kib)} over the {mib(rss.before)} before it); "
            f"tracemalloc peak {peak_bytes / 2**20:.1f} MiB (one more pass, untimed)"
        )
        return figures

    # -- assignment ------------------------------------------------------------------------

    def _measure_assignment(self) -> AssignFigures:
        low = self.seeded_plans + 1
        high = low + self.assign
        self.log(f"Seeding {self.assign:,} contacts not yet enrolled (1 in 100 opted out)...")
        with transaction.atomic():
            self._ensure_companies(high - 1)
            self._insert(Contact, CONTACT_FIELDS, self._contact_rows(low, high, spare=True))
        self._settle()
        ids = [row_id("contact", number) for number in range(low, high)]
        contacts = []
        for start in range(0, len(ids), 900):
            contacts += Contact.objects.filter(pk__in=ids[start : start + 900])
        user = self.users[1 % len(self.users)]

        def assign():
            return strategy_assign(strategy=self.assign_strategy, user=user, contacts=contacts)

        with PeakRss() as rss:
            started = time.perf_counter()
            result = assign()
            seconds = time.perf_counter() - started
        self.log(
            f"Bulk assignment (strategy_assign) of {len(contacts):,} contacts: "
            f"{len(result.enrolled):,} enrolled, {len(result.skipped):,} skipped in "
            f"{seconds:.2f} s"
        )
        # Again under tracemalloc, once the plans just made are gone.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {LeadContactPlan._meta.db_table} WHERE strategy_id = %s",
                [self._db_value(self.assign_strategy.pk)],
            )
        _, peak_bytes = python_peak(assign)
        growth = rss.growth
        self.log(
            f"  memory of the assignment: peak RSS {mib(rss.peak)} "
            f"(+{mib(growth)}); tracemalloc peak {peak_bytes / 2**20:.1f} MiB"
        )
        return AssignFigures(
            contacts=len(contacts),
            enrolled=len(result.enrolled),
            skipped=len(result.skipped),
            seconds=seconds,
            rss_growth_kib=growth,
            python_peak_bytes=peak_bytes,
        )


def _default_sizes(plans: int) -> list[int]:
    """N/10, N/2 and N: the pass works in batches, so its memory should level off."""
    return sorted({size for size in (plans // 10, plans // 2, plans) if size >= 10} | {plans})


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _seconds(median: float, times: Sequence[float]) -> str:
    if len(times) < 2:
        return f"{median:.2f} s"
    return f"{median:.2f} s ({min(times):.2f}-{max(times):.2f})"


def summary(report: BenchReport) -> list[str]:
    """The figures as Markdown table rows, ready for docs/benchmarks.md."""
    lines = [
        f"Summary ({report.vendor}, {report.cpus} CPU(s)); with --repeat, medians (min-max):",
        "| plans | due | ORM pass | raw SQL | ratio | pass peak RSS (growth) | "
        "pass tracemalloc peak |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in report.passes:
        lines.append(
            f"| {p.plans:,} | {p.due:,} | {_seconds(p.orm_seconds, p.orm_times)} | "
            f"{_seconds(p.raw_seconds, p.raw_times)} | {p.ratio:.1f}x | "
            f"{mib(p.rss_peak_kib)} (+{mib(p.rss_growth_kib)}) | "
            f"{p.python_peak_bytes / 2**20:.1f} MiB |"
        )
    if report.assignment:
        a = report.assignment
        lines.append(
            f"Assignment of {a.contacts:,} contacts: {a.seconds:.2f} s ({a.enrolled:,} enrolled, "
            f"{a.skipped:,} skipped; peak RSS growth {mib(a.rss_growth_kib)}, tracemalloc "
            f"peak {a.python_peak_bytes / 2**20:.1f} MiB)"
        )
    return lines


def scheduler_bench(
    *,
    plans: int,
    due_fraction: float,
    assign: int,
    sizes: list[int] | None,
    analyze: bool,
    repeat: int,
    keep: bool,
    force: bool,
    log: Callable[[str], None],
) -> BenchReport:
    """The whole ``bench_scheduler`` run: refuse a database holding other data unless
    ``force``, remove an earlier run's data, run, remove this run's data unless ``keep``, then
    log the summary."""
    if sizes and max(sizes) != plans:
        raise CommandError("--sizes must end at --plans (the largest size is N).")
    foreign = SchedulerBench.foreign_data()
    database_guard(
        foreign=f"data that is not the benchmark's ({', '.join(foreign)})" if foreign else None,
        force=force,
        forced=" on a scratch copy",
    )
    if SchedulerBench.has_bench_data():
        log("Removing the data of an earlier benchmark run...")
        scheduler_data_clear(log=log)

    log(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    bench = SchedulerBench(
        plans=plans,
        due_fraction=due_fraction,
        assign=assign,
        sizes=sizes,
        analyze=analyze,
        repeat=repeat,
        log=log,
    )
    try:
        report = bench.run()
    finally:
        if keep:
            log("Benchmark data kept (--keep); the next run removes it first.")
        else:
            scheduler_data_clear(log=log)
    for line in summary(report):
        log(line)
    return report
