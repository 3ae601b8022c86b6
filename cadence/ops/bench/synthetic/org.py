"""A generation run of the synthetic organisation history (``cadence.ops.bench.synthetic``):
the fixture (teams, users, strategies) through the ORM, then companies, contacts, plans and
standalone activities in bulk; and the removal of all of it."""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections.abc import Callable

from django.db import connection, models, transaction
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.activities.choices import ActivityType, Direction
from cadence.activities.models import Activity
from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.messaging.models import InboundMessage
from cadence.ops.bench.common import clear_dependents
from cadence.ops.bench.synthetic.plans import PlanLives
from cadence.ops.bench.synthetic.rows import (
    CONTACTS_PER_COMPANY,
    COUNTRIES,
    DAY,
    EPOCH_ORDINAL,
    FIRST,
    FLUSH_ROWS,
    GENERATED,
    HOUR,
    INDUSTRIES,
    LAST,
    LONE_REPS,
    NOUNS,
    OWNER,
    REPS_PER_TEAM,
    SECOND_PLAN_SHARE,
    SPAN_DAYS,
    STEP_TYPES,
    STRATEGIES,
    STRATEGY_WORDS,
    TEAM_PREFIX,
    TEAMS,
    TITLES,
    TOUCHES,
    USER_PREFIX,
    WORDS,
    Ids,
    Owner,
    Step,
    Strategy,
    Writer,
    connected_as_superuser,
)
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy, StrategyStep


def _weighted(rng: random.Random, pairs):
    values = [value for value, _ in pairs]
    weights = [weight for _, weight in pairs]
    return lambda: rng.choices(values, weights)[0]


def bench_users() -> models.QuerySet:
    return User.objects.filter(username__startswith=USER_PREFIX)


def org_exists() -> bool:
    return bench_users().exists()


def foreign_plans() -> int:
    """Plans in the database that the generator did not make."""
    return LeadContactPlan.objects.exclude(user__username__startswith=USER_PREFIX).count()


class _Org(PlanLives):
    """One generation run: the fixture (ORM), then the plans (bulk)."""

    def __init__(self, *, seed: int, now: datetime.datetime, say: Callable[[str], None]):
        self.postgres = connection.vendor == "postgresql"
        self.rng = random.Random(seed)
        self.ids = Ids(seed, random.Random(f"ids:{seed}"))
        self.writer = Writer(self.postgres)
        self.now = int(now.timestamp())
        self.say = say
        self.seed = seed
        # Times are whole seconds since the epoch while generating, and text when written:
        # naive UTC on SQLite (Django's form there), with the offset for PostgreSQL.
        self.suffix = "+00" if self.postgres else ""
        self.days: dict[int, str] = {}
        # Django keeps SQLite durations as microseconds.
        self.zero = "0" if self.postgres else 0
        tables = ("plans", "activities", "plan_activities", "results", "outbound", "inbound")
        self.counts = dict.fromkeys((*tables, "contacts", "companies"), 0)

    @staticmethod
    def db(value: uuid.UUID) -> str:
        return value.hex

    def when(self, ts: int) -> str:
        day, second = divmod(ts, DAY)
        date = self.days.get(day)
        if date is None:
            date = self.days[day] = str(datetime.date.fromordinal(EPOCH_ORDINAL + day))
        hour, second = divmod(second, HOUR)
        minute, second = divmod(second, 60)
        return f"{date} {hour:02d}:{minute:02d}:{second:02d}{self.suffix}"

    # -- the fixture ---------------------------------------------------------------------

    def fixture(self) -> None:
        rng = self.rng
        tag = f"{self.seed}"
        teams = Team.objects.bulk_create(
            Team(name=f"{TEAM_PREFIX}{tag}-{n:02d}", description="Benchmark data; removable.")
            for n in range(1, TEAMS + 1)
        )
        people = []

        def person(name: str, role: str, team: Team | None) -> User:
            user = User(
                username=f"{USER_PREFIX}{tag}-{name}",
                email=f"{name}.{tag}@bench.example.com",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                role=role,
                team=team,
                is_superuser=role == Role.ADMIN,
            )
            user.set_unusable_password()
            people.append(user)
            return user

        person("admin", Role.ADMIN, None)
        for number, team in enumerate(teams, start=1):
            person(f"manager-{number:02d}", Role.MANAGER, team)
            for rep in range(1, REPS_PER_TEAM + 1):
                person(f"rep-{number:02d}-{rep:02d}", Role.REP, team)
        for rep in range(1, LONE_REPS + 1):
            person(f"rep-solo-{rep:02d}", Role.REP, None)
        people = User.objects.bulk_create(people)
        self.admin = people[0]
        # Reps carry most plans, some far more than others; managers work a few accounts.
        owners, shares = [], []
        for user in people[1:]:
            owners.append(Owner(self.db(user.pk), self.db(user.team_id) if user.team_id else None))
            shares.append(0.4 if user.role == Role.MANAGER else rng.uniform(0.5, 2.0))
        self.owner_pick = lambda: rng.choices(owners, shares)[0]
        self.users = people

        strategies, weights = [], []
        pick_type = _weighted(rng, STEP_TYPES)
        for number in range(STRATEGIES):
            automated = number % 2 == 0
            strategy = ContactStrategy.objects.create(
                name=f"Bench {tag}: {STRATEGY_WORDS[number % len(STRATEGY_WORDS)]}",
                created_by=self.admin,
                is_template=True,
                automation_requires_approval=True,
                automation_approved_at=timezone.now() if automated else None,
                automation_approved_by=self.admin if automated else None,
            )
            kinds = [ActivityType.EMAIL] + [pick_type() for _ in range(rng.randint(2, 6))]
            steps = StrategyStep.objects.bulk_create(
                StrategyStep(
                    strategy=strategy,
                    step_number=index,
                    delay_days=0 if index == 1 else rng.randint(1, 7),
                    activity_type=kind,
                    subject_template=f"Step {index}" if kind == ActivityType.EMAIL else None,
                    is_automated=automated and kind == ActivityType.EMAIL,
                )
                for index, kind in enumerate(kinds, start=1)
            )
            strategies.append(
                Strategy(
                    id=self.db(strategy.pk),
                    name=strategy.name,
                    steps=tuple(
                        Step(
                            self.db(s.pk),
                            s.step_number,
                            s.delay_days,
                            s.activity_type,
                            s.is_automated,
                        )
                        for s in steps
                    ),
                    reply_rate=rng.uniform(0.015, 0.06),
                )
            )
            weights.append(1 / (number + 1) ** 0.8)
        self.strategies = strategies
        self.strategy_pick = lambda: rng.choices(strategies, weights)[0]

    # -- the plans -----------------------------------------------------------------------

    def generate(self, plans: int, per_plan: float) -> None:
        started = time.perf_counter()
        try:
            made = self._leads(plans, per_plan, started)
        except BaseException:
            self.writer.abandon()
            raise
        self.writer.close()
        self._progress(made, plans, started)
        self.counts["plans"] = made

    def _leads(self, plans: int, per_plan: float, started: float) -> int:
        rng = self.rng
        now, span = self.now, SPAN_DAYS * DAY
        first = now - span
        company = None
        made = 0
        next_report = FLUSH_ROWS * 10
        while made < plans:
            if company is None or rng.random() < 1 / CONTACTS_PER_COMPANY:
                company = self._company(first + span * made // plans)
            owner, company_id, domain = company
            contact_number = self.counts["contacts"] + 1
            contact_id = self.ids.new(2)
            email = f"c{contact_number}@{domain}"
            state = {"bounced": False, "opted_out_at": None}
            start = first + span * made // plans + rng.randrange(-2 * DAY, 2 * DAY)
            start = min(max(start, first), now - 60)
            lead = (owner, company_id, contact_id, email)
            self.counts["contacts"] += 1
            contact_rows_at = len(self.writer.pending[Contact])
            self.writer.pending[Contact].append(None)  # filled in below, once its fate is known
            used: set = set()
            last_seen, active = start, False
            for second in (False, True):
                if second:
                    # Only once the first plan is over, and not for a lead that bounced or
                    # opted out: enrollment would refuse them.
                    if (
                        made >= plans
                        or active
                        or state["bounced"]
                        or state["opted_out_at"]
                        or rng.random() >= SECOND_PLAN_SHARE
                    ):
                        break
                    later = last_seen + rng.randrange(DAY, 60 * DAY)
                    if later >= now - 60:
                        break
                    start = later
                strategy = self.strategy_pick()
                while strategy.id in used:
                    strategy = self.strategy_pick()
                used.add(strategy.id)
                last_event, active = self._plan(lead, strategy, start, state)
                last_seen = max(last_seen, last_event)
                made += 1
            self._standalone(lead, start, last_seen, per_plan * made)
            self._contact_row(contact_rows_at, lead, state, start)
            if len(self.writer.pending[Activity]) >= FLUSH_ROWS:
                self.writer.flush()
                if self.counts["activities"] >= next_report:
                    next_report += FLUSH_ROWS * 10
                    self._progress(made, plans, started)
        return made

    def _progress(self, made: int, plans: int, started: float) -> None:
        self.say(
            f"  {made:,} / {plans:,} plans, {self.counts['activities']:,} activities "
            f"({time.perf_counter() - started:.0f} s)"
        )

    def _company(self, created: int):
        rng = self.rng
        number = self.counts["companies"] + 1
        self.counts["companies"] += 1
        owner = self.owner_pick()
        company_id = self.ids.new(1)
        word, noun = WORDS[number % len(WORDS)], NOUNS[(number // 7) % len(NOUNS)]
        domain = f"{word}{noun}{number}.bench.example.com".lower()
        at = self.when(created - rng.randrange(DAY, 60 * DAY))
        self.writer.pending[Company].append(
            (company_id, f"{word} {noun} {number}", domain, rng.choice(INDUSTRIES),
             rng.choice(CompanySize.values), rng.choice(COUNTRIES), "", owner.id, owner.team, at,
             at)
        )  # fmt: skip
        return owner, company_id, domain

    def _contact_row(self, index: int, lead, state: dict, start: int) -> None:
        owner, company_id, contact_id, email = lead
        number = self.counts["contacts"]
        at = self.when(start - self.rng.randrange(HOUR, 30 * DAY))
        opted = state["opted_out_at"]
        self.writer.pending[Contact][index] = (
            contact_id, company_id, FIRST[number % len(FIRST)], LAST[number % len(LAST)], email,
            "", TITLES[number % len(TITLES)], "", "", owner.id, owner.team,
            EmailStatus.BOUNCED if state["bounced"] else EmailStatus.VALID, opted is not None,
            self.when(opted) if opted is not None else None, at, at,
        )  # fmt: skip

    def _activity(
        self,
        lead,
        kind,
        direction,
        outcome,
        at,
        plan_id=None,
        step_id=None,
        subject="",
        message_id="",
    ):
        owner, company_id, contact_id, _ = lead
        activity_id = self.ids.new(4)
        stamp = self.when(at)
        self.writer.pending[Activity].append(
            (activity_id, company_id, contact_id, owner.id, kind, direction, subject, "",
             outcome, stamp, plan_id, step_id, message_id, stamp, stamp)
        )  # fmt: skip
        self.counts["activities"] += 1
        if plan_id is not None:
            self.counts["plan_activities"] += 1
        return activity_id

    def _standalone(self, lead, start: int, last: int, target: float) -> None:
        """Touches of the lead outside its plans, until the activities reach ``target``."""
        rng, now = self.rng, self.now
        missing = int(target) - self.counts["activities"]
        low, high = start - 30 * DAY, min(now, last + 60 * DAY)
        for _ in range(missing):
            kind, outcome = TOUCHES[int(rng.random() * len(TOUCHES))]
            self._activity(lead, kind, Direction.OUTBOUND, outcome, rng.randrange(low, high))


def org_generate(
    *,
    plans: int,
    activities_per_plan: float = 10,
    seed: int = 1,
    now: datetime.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Generate the organisation and ``plans`` plans with their history (module docstring);
    the activities number about ``activities_per_plan`` times the plans (more where a plan's own
    touches exceed it). Returns the counts of what was made."""
    if plans < 1 or activities_per_plan < 0:
        raise ValueError("plans must be at least 1 and activities_per_plan not negative.")
    say = progress or (lambda _line: None)
    now = (now or timezone.now()).replace(microsecond=0)
    org = _Org(seed=seed, now=now, say=say)
    org.fixture()
    say(
        f"Generating {plans:,} plans (~{plans * activities_per_plan:,.0f} activities) for "
        f"{len(org.users)} users in {TEAMS} teams, {STRATEGIES} strategies..."
    )
    org.generate(plans, activities_per_plan)
    return org.counts


def org_clear(*, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Delete everything the generator made (every row owned by a ``USER_PREFIX`` user, their
    strategies and teams), and whatever other rows point at it. Returns rows deleted per table."""
    say = progress or (lambda _line: None)
    users = list(bench_users().values_list("pk", flat=True))
    deleted: dict[str, int] = {}
    if not users:
        return deleted
    postgres = connection.vendor == "postgresql"
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(users))
    params = [user if postgres else user.hex for user in users]
    skip_checks = postgres and not connection.in_atomic_block and connected_as_superuser()
    with transaction.atomic():
        for model in reversed(GENERATED):
            clear_dependents(
                model,
                model.objects.filter(**{f"{OWNER[model]}__in": users}),
                generated=GENERATED,
            )
        with connection.cursor() as cursor:
            if skip_checks:
                # Every table pointing at these rows was cleared above, child first, so the
                # per-row foreign key triggers of a ten-million-row delete have nothing to do.
                cursor.execute("SET LOCAL session_replication_role = replica")
            for model in reversed(GENERATED):
                say(f"Deleting generated {model._meta.verbose_name_plural}...")
                if model is InboundMessage:
                    condition = (
                        "plan_id IN (SELECT plan_id FROM "
                        f"{quote(LeadContactPlan._meta.db_table)} WHERE user_id IN ({marks}))"
                    )
                else:
                    column = model._meta.get_field(OWNER[model]).column
                    condition = f"{quote(column)} IN ({marks})"
                cursor.execute(
                    f"DELETE FROM {quote(model._meta.db_table)} WHERE {condition}", params
                )
                deleted[model._meta.db_table] = cursor.rowcount
        # The rollups counted the generated history: drop them; reports count live until
        # the next refresh rebuilds them.
        AdherenceDay.objects.all().delete()
        EmailDay.objects.all().delete()
        RollupState.objects.all().delete()
        strategies = ContactStrategy.objects.filter(created_by__in=users)
        StrategyStep.objects.filter(strategy__in=strategies).delete()
        strategies.delete()
        bench_users().delete()
        Team.objects.filter(name__startswith=TEAM_PREFIX).delete()
    return deleted
