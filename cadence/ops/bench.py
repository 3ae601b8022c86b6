"""The scheduler benchmark behind ``manage.py bench_scheduler`` (see ``docs/benchmarks.md``).

It seeds running plans in bulk (``COPY`` on PostgreSQL, ``executemany`` in one transaction on
SQLite), a given fraction of them owed a reminder, then at several sizes (N/10, N/2 and N unless
told otherwise, seeding the difference in between) times:

- the scheduler's reminder step, ``plans_create_due_reminders(now=...)``, the ORM path the
  product runs (first, on the freshly seeded or reset state);
- one raw SQL ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (``INSERT OR IGNORE`` on SQLite)
  making the same reminders, plus the ``UPDATE`` clearing ``reminder_due_at``, in one
  transaction (second, on the same state restored: reminders deleted, ``reminder_due_at`` put
  back). Before each timed run the database is settled the same way: on PostgreSQL
  ``VACUUM ANALYZE`` and ``CHECKPOINT``, on SQLite a WAL checkpoint. With ``repeat`` the pair
  runs that many times and the medians count;
- the memory of the pass: the peak resident set size during the (first) timed pass (Linux
  ``VmHWM``, reset before the pass through ``/proc/self/clear_refs``), and the ``tracemalloc``
  peak of Python allocations during one more, untimed pass on the same state again.

Then it times ``strategy_assign`` of ``assign`` contacts not yet enrolled, and removes every
row it made. Every benchmark row belongs to the benchmark users (``cadence-bench-NN``), which is
how the run tells its data from anyone else's and what the cleanup deletes.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import re
import resource
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import F

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.activities.choices import ActivityType, ReminderStatus
from cadence.activities.models import Activity, Reminder, default_reminder_channels
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.notifications.models import Notification
from cadence.plans.assignment import strategy_assign
from cadence.plans.choices import RUNNING_STATUSES, PlanStatus
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.progress import reminder_lead_time
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.strategies.models import ContactStrategy, StrategyStep

USER_PREFIX = "cadence-bench-"
TEAM_NAME = "Cadence benchmark"
USER_COUNT = 20
CONTACTS_PER_COMPANY = 10
CHUNK = 50_000
NAMESPACE = uuid.UUID("6f1c1d52-3c55-4d59-9a43-5d0c7d3b8e21")
#: The seeded cadences: (delay_days, activity type) per step.
STEPS = (
    (0, ActivityType.EMAIL),
    (2, ActivityType.LINKEDIN_CONNECT),
    (3, ActivityType.CALL),
    (5, ActivityType.EMAIL),
    (7, ActivityType.CALL),
)
STRATEGY_NAMES = ("Outbound SaaS", "Event follow-up", "Re-engagement", "Partner intro")
TIME_ZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "America/Los_Angeles")
FIRST = (
    "Ada", "Ben", "Chloe", "David", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jana",
    "Karim", "Lena", "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
)  # fmt: skip
LAST = (
    "Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen",
    "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov",
)  # fmt: skip
WORDS = ("Blue", "North", "Bright", "Iron", "Silver", "Rapid", "Green", "Summit", "Delta")
NOUNS = ("Systems", "Labs", "Logistics", "Health", "Analytics", "Foods", "Energy", "Works")
INDUSTRIES = ("Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics")
TITLES = ("Head of Sales", "CTO", "Operations Manager", "CEO", "Marketing Lead", "Buyer")
COUNTRIES = ("DE", "US", "GB", "FR", "NL")


def _fmt_mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


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


# Memory: the peak RSS of a stretch of code. Linux lets a process reset its own high-water mark
# (``echo 5 > /proc/self/clear_refs``), so VmHWM read after the code is the peak during it.


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            found = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class _PeakRss:
    """Peak RSS during the ``with`` block, and RSS when it started (KiB); None where unknown."""

    def __enter__(self) -> _PeakRss:
        self.resettable = _reset_peak_rss()
        self.before = _status_kib("VmRSS")
        self.maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak: int | None = None
        return self

    def __exit__(self, *exc) -> None:
        if self.resettable:
            self.peak = _status_kib("VmHWM")
        else:
            # Without the reset only a new lifetime maximum shows; report it as such.
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.before = self.maxrss_before
            self.peak = after


def _python_peak(work: Callable[[], object]) -> tuple[object, int]:
    """Run ``work`` under tracemalloc; its result and the peak of Python allocations (bytes)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _id(kind: str, number: int) -> uuid.UUID:
    """The benchmark's deterministic IDs: any row can name its company or contact by number."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{number}")


class SchedulerBench:
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
        self.plans = plans
        self.due_fraction = due_fraction
        self.assign = assign
        self.sizes = sorted(set(sizes)) if sizes else _default_sizes(plans)
        self.now = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
        self.lead = reminder_lead_time()
        self.log = log
        self.analyze = analyze
        self.repeat = repeat
        self.vendor = connection.vendor
        self.users: list[User] = []
        self.team: Team | None = None
        self.strategies: list[list[StrategyStep]] = []
        self.assign_strategy: ContactStrategy | None = None
        self.seeded_plans = 0
        self.seeded_companies = 0

    # -- guarding the database -------------------------------------------------------------

    @staticmethod
    def foreign_data() -> list[str]:
        """What in the database is not benchmark data (every row hangs off a user or a team)."""
        found = []
        users = User.objects.exclude(username__startswith=USER_PREFIX).count()
        if users:
            found.append(f"{users} user(s)")
        teams = Team.objects.exclude(name=TEAM_NAME).count()
        if teams:
            found.append(f"{teams} team(s)")
        strategies = ContactStrategy.objects.exclude(
            created_by__username__startswith=USER_PREFIX
        ).count()
        if strategies:
            found.append(f"{strategies} strateg(y/ies)")
        return found

    @staticmethod
    def has_bench_data() -> bool:
        return User.objects.filter(username__startswith=USER_PREFIX).exists()

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

    # -- seeding ---------------------------------------------------------------------------

    def _seed_fixture(self) -> None:
        self.log(
            f"Seeding on {self.vendor}: {USER_COUNT} users, {len(STRATEGY_NAMES)} strategies "
            f"of {len(STEPS)} steps, {CONTACTS_PER_COMPANY} contacts per company."
        )
        self.team = Team.objects.create(name=TEAM_NAME, description="Benchmark data; removable.")
        users = []
        for number in range(1, USER_COUNT + 1):
            user = User(
                user_id=_id("user", number),
                username=f"{USER_PREFIX}{number:02d}",
                email=f"bench{number}@example.com",
                first_name=FIRST[number % len(FIRST)],
                last_name=LAST[number % len(LAST)],
                role=Role.MANAGER if number == 1 else Role.REP,
                team=self.team,
                time_zone=TIME_ZONES[number % len(TIME_ZONES)],
                country=COUNTRIES[number % len(COUNTRIES)],
            )
            user.set_unusable_password()
            users.append(user)
        self.users = User.objects.bulk_create(users)
        owner = self.users[0]
        for name in STRATEGY_NAMES:
            strategy = ContactStrategy.objects.create(
                name=f"Benchmark: {name}", created_by=owner, is_template=True
            )
            self.strategies.append(self._steps(strategy))
        self.assign_strategy = ContactStrategy.objects.create(
            name="Benchmark: bulk assignment",
            created_by=owner,
            is_template=True,
            exclusive=True,
            cooldown_days=30,
        )
        self._steps(self.assign_strategy)

    @staticmethod
    def _steps(strategy: ContactStrategy) -> list[StrategyStep]:
        return StrategyStep.objects.bulk_create(
            StrategyStep(
                strategy=strategy,
                step_number=number,
                delay_days=delay,
                activity_type=activity_type,
                subject_template="Hello {{ contact.first_name }}",
            )
            for number, (delay, activity_type) in enumerate(STEPS, start=1)
        )

    def _is_due(self, number: int) -> bool:
        # Exactly the fraction of any prefix of plan numbers, spread evenly over them.
        return math.floor(number * self.due_fraction) > math.floor((number - 1) * self.due_fraction)

    def _owner(self, company: int) -> User:
        return self.users[(company - 1) % len(self.users)]

    @staticmethod
    def _company_of(contact: int) -> int:
        return (contact - 1) // CONTACTS_PER_COMPANY + 1

    def _company_rows(self, start: int, stop: int) -> Iterator[tuple]:
        created = self.now - datetime.timedelta(days=400)
        for number in range(start, stop):
            word, noun = WORDS[number % len(WORDS)], NOUNS[(number // 7) % len(NOUNS)]
            yield (
                _id("company", number),
                f"{word} {noun} {number}",
                f"{word}{noun}{number}.example.com".lower(),
                INDUSTRIES[number % len(INDUSTRIES)],
                CompanySize.values[number % len(CompanySize.values)],
                COUNTRIES[number % len(COUNTRIES)],
                "",
                self._owner(number).pk,
                self.team.pk,
                created,
                created,
            )

    def _contact_rows(self, start: int, stop: int, *, spare: bool = False) -> Iterator[tuple]:
        created = self.now - datetime.timedelta(days=200)
        for number in range(start, stop):
            company = self._company_of(number)
            first, last = FIRST[number % len(FIRST)], LAST[(number * 7) % len(LAST)]
            opted_out = spare and number % 100 == 0
            yield (
                _id("contact", number),
                _id("company", company),
                first,
                last,
                f"{first}.{last}.{number}@company{company}.example.com".lower(),
                f"+1 555 {number:07d}",
                TITLES[number % len(TITLES)],
                "",
                "",
                self._owner(company).pk,
                self.team.pk,
                EmailStatus.VALID if number % 3 else EmailStatus.UNKNOWN,
                opted_out,
                created if opted_out else None,
                created,
                created,
            )

    def _plan_rows(self, start: int, stop: int) -> Iterator[tuple]:
        now, lead, day, minute = self.now, self.lead, datetime.timedelta(days=1), 60
        for number in range(start, stop):
            steps = self.strategies[(number - 1) % len(self.strategies)]
            index = ((number - 1) // len(self.strategies)) % len(steps)
            step = steps[index]
            if self._is_due(number):
                # Owed between now and three days ago, as after a scheduler outage.
                reminder = now - datetime.timedelta(seconds=(number * 7919) % (3 * 1440) * minute)
                due = reminder + lead
            else:
                due = now + lead + datetime.timedelta(hours=1, minutes=(number * 104729) % 20160)
                reminder = due - lead
            previous = due - step.delay_days * day if index else None
            start_date = (previous or due) - (index + 1) * day
            company = self._company_of(number)
            yield (
                _id("plan", number),
                _id("company", company),
                _id("contact", number),
                step.strategy_id,
                self._owner(company).pk,
                PlanStatus.IN_PROGRESS if index else PlanStatus.NOT_STARTED,
                step.pk,
                start_date,
                due,
                "",
                start_date if index else None,
                previous,
                None,
                datetime.timedelta(),
                None,
                reminder,
                start_date,
                start_date,
            )

    def _ensure_companies(self, contacts_to: int) -> None:
        needed = self._company_of(contacts_to)
        if needed > self.seeded_companies:
            self._insert(
                Company, COMPANY_FIELDS, self._company_rows(self.seeded_companies + 1, needed + 1)
            )
            self.seeded_companies = needed

    def _seed_plans_to(self, size: int) -> None:
        if size <= self.seeded_plans:
            return
        total = size - self.seeded_plans
        due = sum(1 for n in range(self.seeded_plans + 1, size + 1) if self._is_due(n))
        self.log(f"Seeding {total:,} plans ({due:,} owed a reminder) and their contacts...")
        started = time.perf_counter()
        with transaction.atomic():
            for low in range(self.seeded_plans + 1, size + 1, CHUNK):
                high = min(low + CHUNK, size + 1)
                self._ensure_companies(high - 1)
                self._insert(Contact, CONTACT_FIELDS, self._contact_rows(low, high))
                self._insert(LeadContactPlan, PLAN_FIELDS, self._plan_rows(low, high))
                self.log(
                    f"  {high - 1:,} / {self.plans:,} plans seeded "
                    f"({time.perf_counter() - started:.1f} s)"
                )
        self.seeded_plans = size
        self._settle()

    def _insert(self, model, field_names: Sequence[str], rows: Iterable[tuple]) -> None:
        meta = model._meta
        columns = [meta.get_field(name).column for name in field_names]
        quote = connection.ops.quote_name
        table, names = quote(meta.db_table), ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",
                    (tuple(_sqlite_value(v) for v in row) for row in rows),
                )

    def _db_value(self, value):
        return value if self.vendor == "postgresql" else _sqlite_value(value)

    def _settle(self) -> None:
        """Start every timed run from the same quiet state. PostgreSQL: VACUUM ANALYZE, as
        autovacuum would, then CHECKPOINT, so no run pays for the writes of the one before.
        SQLite: a WAL checkpoint; it has no autovacuum and Cadence never runs ANALYZE on it, so
        the planner works without statistics unless ``--analyze`` asks for them."""
        if connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            if self.vendor != "postgresql":
                if self.analyze:
                    cursor.execute("ANALYZE")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return
            for model in (LeadContactPlan, Reminder, Contact, Company):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            # CHECKPOINT needs a superuser or pg_checkpoint; without it the figures are noisier.
            with contextlib.suppress(DatabaseError):
                cursor.execute("CHECKPOINT")

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
            with _PeakRss() as trial_rss:
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
        _, python_peak = _python_peak(lambda: plans_create_due_reminders(now=self.now))
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
            python_peak_bytes=python_peak,
        )
        self.log(
            f"  memory of the pass: peak RSS {_fmt_mib(rss.peak)} "
            f"(+{_fmt_mib(figures.rss_growth_kib)} over the {_fmt_mib(rss.before)} before it); "
            f"tracemalloc peak {python_peak / 2**20:.1f} MiB (one more pass, untimed)"
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
        ids = [_id("contact", number) for number in range(low, high)]
        contacts = []
        for start in range(0, len(ids), 900):
            contacts += Contact.objects.filter(pk__in=ids[start : start + 900])
        user = self.users[1 % len(self.users)]

        def assign():
            return strategy_assign(strategy=self.assign_strategy, user=user, contacts=contacts)

        with _PeakRss() as rss:
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
        _, python_peak = _python_peak(assign)
        growth = None if rss.peak is None or rss.before is None else max(0, rss.peak - rss.before)
        self.log(
            f"  memory of the assignment: peak RSS {_fmt_mib(rss.peak)} "
            f"(+{_fmt_mib(growth)}); tracemalloc peak {python_peak / 2**20:.1f} MiB"
        )
        return AssignFigures(
            contacts=len(contacts),
            enrolled=len(result.enrolled),
            skipped=len(result.skipped),
            seconds=seconds,
            rss_growth_kib=growth,
            python_peak_bytes=python_peak,
        )


def cleanup(log: Callable[[str], None] = print) -> None:
    """Delete every benchmark row: what the benchmark users own, then the users and team."""
    quote = connection.ops.quote_name
    bench_users = f"SELECT user_id FROM {quote(User._meta.db_table)} WHERE username LIKE %s"
    steps = (
        (Notification, "user_id"),
        (Reminder, "user_id"),
        (PlanStepResult, "user_id"),
        (Activity, "user_id"),
        (LeadContactPlan, "user_id"),
        (Contact, "owner_id"),
        (Company, "owner_id"),
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for model, column in steps:
            cursor.execute(
                f"DELETE FROM {quote(model._meta.db_table)} WHERE {column} IN ({bench_users})",
                [f"{USER_PREFIX}%"],
            )
        strategies = ContactStrategy.objects.filter(created_by__username__startswith=USER_PREFIX)
        StrategyStep.objects.filter(strategy__in=strategies).delete()
        strategies.delete()
        User.objects.filter(username__startswith=USER_PREFIX).delete()
        Team.objects.filter(name=TEAM_NAME).delete()
    log(f"Benchmark data removed ({time.perf_counter() - started:.1f} s).")


COMPANY_FIELDS = (
    "company_id", "name", "domain", "industry", "size", "country", "time_zone", "owner",
    "team", "created_at", "updated_at",
)  # fmt: skip
CONTACT_FIELDS = (
    "contact_id", "company", "first_name", "last_name", "email", "phone", "title",
    "linkedin_url", "time_zone", "owner", "team", "email_status", "opted_out", "opted_out_at",
    "created_at", "updated_at",
)  # fmt: skip
PLAN_FIELDS = (
    "plan_id", "company", "contact", "strategy", "user", "status", "current_step",
    "plan_start_date", "next_step_due_date", "exit_reason", "started_at",
    "last_step_completed_at", "paused_at", "paused_duration", "ended_at", "reminder_due_at",
    "created_at", "updated_at",
)  # fmt: skip


def _sqlite_value(value):
    """A value as Django stores it on SQLite: hex UUIDs, naive UTC text, microsecond integers."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime.datetime):
        return str(value.astimezone(datetime.UTC).replace(tzinfo=None))
    if isinstance(value, datetime.timedelta):
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    return value


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
            f"{_fmt_mib(p.rss_peak_kib)} (+{_fmt_mib(p.rss_growth_kib)}) | "
            f"{p.python_peak_bytes / 2**20:.1f} MiB |"
        )
    if report.assignment:
        a = report.assignment
        lines.append(
            f"Assignment of {a.contacts:,} contacts: {a.seconds:.2f} s ({a.enrolled:,} enrolled, "
            f"{a.skipped:,} skipped; peak RSS growth {_fmt_mib(a.rss_growth_kib)}, tracemalloc "
            f"peak {a.python_peak_bytes / 2**20:.1f} MiB)"
        )
    return lines
