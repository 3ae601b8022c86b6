"""The data the scheduler benchmark runs on (``manage.py bench_scheduler``, ``bench_pages``):
benchmark users, template strategies, companies, contacts and running plans, with deterministic
IDs, a given fraction of the plans owed a reminder, inserted in bulk (``COPY`` on PostgreSQL,
``executemany`` in one transaction on SQLite); and their removal.

Every row belongs to the benchmark users (``cadence-bench-NN``), which is how a run tells its
data from anyone else's and what ``scheduler_data_clear`` deletes.
"""

from __future__ import annotations

import datetime
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.db import connection, transaction

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.activities.choices import ActivityType
from cadence.activities.models import Activity, Reminder
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.notifications.models import Notification
from cadence.ops.bench.common import database_settle, rows_insert
from cadence.plans.choices import PlanStatus
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.progress import reminder_lead_time
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


def row_id(kind: str, number: int) -> uuid.UUID:
    """The benchmark's deterministic IDs: any row can name its company or contact by number."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{number}")


class SchedulerData:
    """The benchmark's data on the default database, seeded size by size. ``log`` receives the
    progress lines."""

    def __init__(
        self,
        *,
        plans: int,
        due_fraction: float = 0.1,
        analyze: bool = False,
        now: datetime.datetime | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.plans = plans
        self.due_fraction = due_fraction
        self.now = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
        self.lead = reminder_lead_time()
        self.log = log
        self.analyze = analyze
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
                user_id=row_id("user", number),
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
                row_id("company", number),
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
                row_id("contact", number),
                row_id("company", company),
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
                row_id("plan", number),
                row_id("company", company),
                row_id("contact", number),
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
        if self.vendor != "postgresql":
            rows = (tuple(_sqlite_value(v) for v in row) for row in rows)
        with connection.cursor() as cursor:
            rows_insert(cursor, model, field_names, rows)

    def _db_value(self, value):
        return value if self.vendor == "postgresql" else _sqlite_value(value)

    def _settle(self) -> None:
        """Start every timed run from the same quiet state (``database_settle``)."""
        database_settle(
            tables=[m._meta.db_table for m in (LeadContactPlan, Reminder, Contact, Company)],
            analyze=self.analyze,
        )


def scheduler_data_clear(*, log: Callable[[str], None] = print) -> None:
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
