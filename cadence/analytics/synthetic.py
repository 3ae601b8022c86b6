"""A synthetic organisation history for the analytics benchmark (``manage.py bench_analytics``,
``docs/benchmarks.md``): teams, users, template strategies and N lead contact plans, each with
the life the product would have given it.

What is made (``org_generate``):

- ``TEAMS`` teams of ``REPS_PER_TEAM`` reps and one manager each, ``LONE_REPS`` reps in no team,
  and one admin. Every user's username starts with ``USER_PREFIX``, which is how the benchmark
  tells its data from anyone else's and what ``org_clear`` removes.
- ``STRATEGIES`` template strategies of 3 to 7 steps (Email, Call, LinkedIn Connect, LinkedIn
  Message, Task), half of them sending their email steps automatically. Strategies differ in
  popularity (a few take most plans, so there is a clearly biggest one) and in reply rate.
- Companies of about ``CONTACTS_PER_COMPANY`` contacts, owned by one rep, who works all their
  plans. Most contacts have one plan; ``SECOND_PLAN_SHARE`` of them a second one, in another
  strategy (a contact holds at most one active plan per strategy).
- Plans starting over the ``SPAN_DAYS`` before ``now`` (so a one-year view covers most), in
  order of their start, each walked step by step: a step falls due its delay after the previous
  one; it is done (a ``PlanStepResult`` and the ``Activity`` that did it) on time or late, or
  skipped; an automated email step goes through the outbox (an ``OutboundMessage``: sent, or
  failed and then skipped by the rep, or uncertain, which leaves the plan waiting). After a
  step the lead may reply (an inbound activity, plus an ``InboundMessage`` for an automated
  email; the plan ends ``replied``, or ``meeting_booked`` when a meeting follows), bounce,
  opt out, or the rep may end the plan by hand. A call may connect and book a meeting. Plans
  whose next step is not yet done by ``now`` are still running (some overdue, some paused,
  some not started). The exits follow the product's rules (``plans.services``): an event after
  the last step finds the plan already finished and leaves it so.
- Standalone activities of the same leads (calls, emails, meetings... not linked to a plan) so
  that the activities number ``activities_per_plan`` times the plans.

Everything is drawn from ``random.Random(seed)``, so a seed always makes the same history for
the same ``now``. Rows go in with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) as in
``cadence.suggestions.history``, committed every ``FLUSH_ROWS`` activities with whatever they
refer to, so a failure midway leaves consistent rows behind and ``org_clear`` removes them.
"""

from __future__ import annotations

import datetime
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.plans.choices import ExitReason, PlanStatus, StepResult
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.strategies.models import ContactStrategy, StrategyStep

USER_PREFIX = "analytics-bench-"
TEAM_PREFIX = "Analytics bench "
TEAMS = 10
REPS_PER_TEAM = 10
LONE_REPS = 2
STRATEGIES = 20
CONTACTS_PER_COMPANY = 4
SECOND_PLAN_SHARE = 0.1
SPAN_DAYS = 456
FLUSH_ROWS = 50_000
REMINDER_LEAD = 15 * 60

DAY = 86_400
HOUR = 3_600
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

STRATEGY_WORDS = (
    "Outbound SaaS", "Event follow-up", "Re-engagement", "Partner intro", "Inbound lead",
    "Enterprise ABM", "Trial nurture", "Webinar attendees", "Churned customers", "Expansion",
    "Cold CFO", "Cold CTO", "Referral", "Trade show", "Pricing page", "Competitor switch",
    "Renewal", "Upsell", "Mid-market", "SMB blitz",
)  # fmt: skip
#: The channels of steps after the first, with their odds.
STEP_TYPES = (
    (ActivityType.EMAIL, 4),
    (ActivityType.CALL, 4),
    (ActivityType.LINKEDIN_CONNECT, 1),
    (ActivityType.LINKEDIN_MESSAGE, 2),
    (ActivityType.TASK, 1),
)
#: Standalone activities: (type, weight, outcomes with weights).
STANDALONE = (
    (ActivityType.CALL, 35, ((Outcome.NO_ANSWER, 5), (Outcome.VOICEMAIL_LEFT, 3),
                             (Outcome.CONNECTED, 2))),
    (ActivityType.EMAIL, 25, ((Outcome.SENT, 1),)),
    (ActivityType.LINKEDIN_MESSAGE, 15, ((Outcome.SENT, 1),)),
    (ActivityType.MEETING, 5, ((Outcome.COMPLETED, 4), (Outcome.NO_SHOW, 1))),
    (ActivityType.TASK, 10, ((Outcome.COMPLETED, 1),)),
    (ActivityType.SMS, 5, ((Outcome.SENT, 1),)),
    (ActivityType.OTHER, 5, (("", 1),)),
)  # fmt: skip
#: The standalone (type, outcome) pairs laid out by their weights, to draw one with a single
#: random number: ``random.choices`` was a tenth of the generation time.
TOUCHES = tuple(
    (kind, outcome)
    for kind, weight, outcomes in STANDALONE
    for outcome, share in outcomes
    for _ in range(weight * share * 10 // sum(s for _, s in outcomes))
)
INDUSTRIES = ("Software", "Manufacturing", "Retail", "Healthcare", "Finance", "Logistics")
TITLES = ("Head of Sales", "CTO", "Operations Manager", "CEO", "Marketing Lead", "Buyer")
COUNTRIES = ("DE", "US", "GB", "FR", "NL")
FIRST = ("Ada", "Ben", "Chloe", "David", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jana")
LAST = ("Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen")
WORDS = ("Blue", "North", "Bright", "Iron", "Silver", "Rapid", "Green", "Summit", "Delta")
NOUNS = ("Systems", "Labs", "Logistics", "Health", "Analytics", "Foods", "Energy", "Works")

#: The columns written, per table, in the order they are flushed (parents first).
FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Company: ("company_id", "name", "domain", "industry", "size", "country", "time_zone",
              "owner", "team", "created_at", "updated_at"),
    Contact: ("contact_id", "company", "first_name", "last_name", "email", "phone", "title",
              "linkedin_url", "time_zone", "owner", "team", "email_status", "opted_out",
              "opted_out_at", "created_at", "updated_at"),
    LeadContactPlan: ("plan_id", "company", "contact", "strategy", "user", "status",
                      "current_step", "plan_start_date", "next_step_due_date", "exit_reason",
                      "started_at", "last_step_completed_at", "paused_at", "resume_at",
                      "paused_duration", "ended_at", "reminder_due_at", "created_at",
                      "updated_at"),
    Activity: ("activity_id", "company", "contact", "user", "activity_type", "direction",
               "subject", "description", "outcome", "occurred_at", "plan", "step", "message_id",
               "created_at", "updated_at"),
    PlanStepResult: ("result_id", "plan", "step", "step_number", "result", "due_at",
                     "completed_at", "arrived_at", "activity", "user", "created_at",
                     "updated_at"),
    OutboundMessage: ("outbound_message_id", "plan", "step", "strategy", "contact", "company",
                      "user", "status", "to_email", "subject", "body", "error", "send_after",
                      "send_now", "claimed_at", "claim_token", "handoff_at", "sent_at",
                      "message_id", "esp_message_id", "attempts", "activity", "created_at",
                      "updated_at"),
    InboundMessage: ("inbound_message_id", "message_id", "source", "kind", "status",
                     "from_address", "subject", "text", "note", "outbound_message", "contact",
                     "plan", "activity", "created_at", "updated_at"),
}  # fmt: skip
GENERATED = tuple(FIELDS)


@dataclass(frozen=True)
class _Step:
    id: object  # in the database's own form
    number: int
    delay: int
    kind: str
    automated: bool


@dataclass(frozen=True)
class _Strategy:
    id: object
    name: str
    steps: tuple[_Step, ...]
    reply_rate: float


@dataclass(frozen=True)
class _User:
    id: object
    team: object


class _Ids:
    """Row IDs that grow with insertion order within each table: every primary key index (and
    the foreign key indexes of rows written in the same order) is appended to rather than
    written all over, which is most of what makes ten million rows load in minutes. The top
    bits name the table and the seed, the low ones are random so IDs do not look serial.

    IDs are 32 hex digits on both databases: Django's form on SQLite, and text PostgreSQL's
    ``COPY`` reads as a UUID without the Python-level UUID adapter, which cost more than
    generating the rows."""

    def __init__(self, seed: int, rng: random.Random) -> None:
        self.rng = rng
        self.counters: dict[int, int] = {}
        self.seed = seed & 0xFFFF

    def new(self, table: int):
        count = self.counters.get(table, 0) + 1
        self.counters[table] = count
        bits = (table << 112) | (self.seed << 96) | (count << 32) | self.rng.getrandbits(32)
        return f"{bits:032x}"


class _Writer:
    """Collects rows (tuples in ``FIELDS`` order, values already in the database's own form)
    and writes them table by table, parents first, one transaction per flush.

    On PostgreSQL, outside any transaction, a thread of its own writes each batch (on its own
    connection) while the next one is generated: generating and loading take about as long as
    each other, and the server works on the second core meanwhile. Elsewhere (SQLite, which
    has one writer; a test's transaction, which another connection could not see into) the
    batches are written in line.
    """

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.pending: dict[type[models.Model], list[tuple]] = {model: [] for model in FIELDS}
        self.background = postgres and not connection.in_atomic_block
        # Only where each flush is a transaction of its own: SET LOCAL would outlive a
        # savepoint and leave the caller's transaction unchecked.
        self.skip_checks = self.background and _superuser()
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def flush(self) -> None:
        batch = {model: rows for model, rows in self.pending.items() if rows}
        for model in batch:
            self.pending[model] = []
        if not self.background:
            self._write(batch)
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="synthetic-writer", daemon=True)
            self.thread.start()
        self._raise()
        self.queue.put(batch)

    def close(self) -> None:
        """Write what is pending and wait for the writer thread; raise what it met."""
        self.flush()
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
        self._raise()

    def abandon(self) -> None:
        """Let the writer thread finish the batch it holds and stop, writing nothing more."""
        if self.thread is not None:
            self.error = self.error or RuntimeError("abandoned")
            self.queue.put(None)
            self.thread.join()
            self.thread = None

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError("Writing the generated rows failed.") from self.error

    def _run(self) -> None:
        try:
            while (batch := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        self._write(batch)
                    except BaseException as error:  # handed to the generating thread
                        self.error = error
        finally:
            connection.close()

    def _write(self, batch: dict[type[models.Model], list[tuple]]) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if self.skip_checks:
                # The rows are consistent by construction; checking tens of millions of
                # deferred foreign keys at commit (and locking every parent row to do it)
                # would take longer than writing them. pg_restore does the same.
                cursor.execute("SET LOCAL session_replication_role = replica")
            for model, rows in batch.items():
                self._insert(cursor, model, rows)

    def _insert(self, cursor, model: type[models.Model], rows: list[tuple]) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in FIELDS[model])
        table = quote(meta.db_table)
        if self.postgres:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(FIELDS[model]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SHOW is_superuser")
        return cursor.fetchone()[0] == "on"


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


class _Org:
    """One generation run: the fixture (ORM), then the plans (bulk)."""

    def __init__(self, *, seed: int, now: datetime.datetime, say: Callable[[str], None]):
        self.postgres = connection.vendor == "postgresql"
        self.rng = random.Random(seed)
        self.ids = _Ids(seed, random.Random(f"ids:{seed}"))
        self.writer = _Writer(self.postgres)
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
            owners.append(_User(self.db(user.pk), self.db(user.team_id) if user.team_id else None))
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
                _Strategy(
                    id=self.db(strategy.pk),
                    name=strategy.name,
                    steps=tuple(
                        _Step(
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

    def _plan(self, lead, strategy: _Strategy, start: int, state: dict) -> tuple[int, bool]:
        """Write one plan and its life; returns the time of its last event and whether it is
        still active."""
        rng, now, when, pending = self.rng, self.now, self.when, self.writer.pending
        owner, company_id, contact_id, _ = lead
        plan_id = self.ids.new(3)
        steps = strategy.steps
        status, exit_reason, ended = PlanStatus.NOT_STARTED, "", None
        current, next_due = steps[0], None
        started_at = last_done = paused_at = None
        base = start
        outbox = None
        for index, step in enumerate(steps):
            following = steps[index + 1] if index + 1 < len(steps) else None
            current = step
            due = base + step.delay * DAY
            if step.automated:
                done = due + rng.randrange(60, 2 * HOUR)
            else:
                chance = rng.random()
                if chance < 0.55:
                    done = due + rng.randrange(-2 * HOUR, 4 * HOUR)
                elif chance < 0.85:
                    done = due + rng.randrange(4 * HOUR, 2 * DAY)
                else:
                    done = due + rng.randrange(2 * DAY, 10 * DAY)
                done = max(done, base + 60)
            if done > now:
                next_due = due
                if step.automated and due <= now:
                    outbox = (step, OutboundStatus.QUEUED, due, None)
                break
            send = None
            if step.automated:
                chance = rng.random()
                if chance < 0.015:
                    # Handed over and never confirmed: a person must decide, the plan waits.
                    outbox = (step, OutboundStatus.UNCERTAIN, due, done)
                    next_due = due
                    break
                if chance < 0.04:
                    self._outbound(
                        lead, plan_id, strategy, step, OutboundStatus.FAILED, due, done, None
                    )
                    done += rng.randrange(HOUR, 2 * DAY)
                    if done > now:
                        next_due = due
                        break
                    skipped = True
                else:
                    skipped = False
                    send = True
            else:
                skipped = index > 0 and rng.random() < 0.06
            started_at = started_at or done
            arrived = when(last_done if last_done is not None else started_at)
            last_done = done
            if skipped:
                pending[PlanStepResult].append(
                    (self.ids.new(5), plan_id, step.id, step.number, StepResult.SKIPPED,
                     when(due), when(done), arrived, None, owner.id, when(done), when(done))
                )  # fmt: skip
                self.counts["results"] += 1
                base = done
                status = PlanStatus.IN_PROGRESS
                continue
            kind, outcome = step.kind, Outcome.SENT
            if kind == ActivityType.CALL:
                chance = rng.random()
                outcome = (
                    Outcome.NO_ANSWER
                    if chance < 0.45
                    else Outcome.VOICEMAIL_LEFT
                    if chance < 0.75
                    else Outcome.CONNECTED
                )
            elif kind == ActivityType.TASK:
                outcome = Outcome.COMPLETED
            activity_id = self.ids.new(4)
            message_id = f"<{activity_id}@bench.cadence.example>" if send else ""
            stamp = when(done)
            pending[Activity].append(
                (activity_id, company_id, contact_id, owner.id, kind, Direction.OUTBOUND,
                 f"Step {step.number}" if kind == ActivityType.EMAIL else "", "", outcome,
                 stamp, plan_id, step.id, message_id, stamp, stamp)
            )  # fmt: skip
            self.counts["activities"] += 1
            self.counts["plan_activities"] += 1
            pending[PlanStepResult].append(
                (self.ids.new(5), plan_id, step.id, step.number, StepResult.COMPLETED, when(due),
                 stamp, arrived, activity_id, owner.id, stamp, stamp)
            )  # fmt: skip
            self.counts["results"] += 1
            sent_id = None
            if send:
                sent_id = self._outbound(
                    lead,
                    plan_id,
                    strategy,
                    step,
                    OutboundStatus.SENT,
                    due,
                    done,
                    activity_id,
                    message_id,
                )
            status = PlanStatus.IN_PROGRESS
            base = done
            # What the touch led to. The plan has moved on already (the step is done); an
            # exit ends it where it stands, unless it had just finished with its last step.
            event, at = self._response(step, outcome, strategy, done, index)
            if event is None:
                continue
            ends = following is not None
            if event in (ExitReason.REPLIED, ExitReason.MEETING_BOOKED):
                channel = ActivityType.LINKEDIN_MESSAGE if kind.startswith("LinkedIn") else kind
                if kind != ActivityType.CALL:
                    reply_id = self._activity(
                        lead,
                        channel,
                        Direction.INBOUND,
                        Outcome.REPLIED,
                        at,
                        plan_id,
                        subject=f"Re: Step {step.number}",
                    )
                    if sent_id is not None:
                        self._inbound(lead, plan_id, sent_id, reply_id, InboundKind.REPLY, at)
                if event == ExitReason.MEETING_BOOKED:
                    at = min(at + rng.randrange(10 * 60, 2 * DAY), now)
                    self._activity(
                        lead,
                        ActivityType.MEETING,
                        Direction.OUTBOUND,
                        Outcome.MEETING_BOOKED,
                        at,
                        plan_id,
                    )
                end_status = PlanStatus.COMPLETED
            elif event == ExitReason.BOUNCED:
                self._activity(
                    lead,
                    ActivityType.EMAIL,
                    Direction.INBOUND,
                    Outcome.BOUNCED,
                    at,
                    plan_id,
                    subject=f"Undeliverable: Step {step.number}",
                )
                if sent_id is not None:
                    self._inbound(lead, plan_id, sent_id, None, InboundKind.BOUNCE, at)
                state["bounced"] = True
                end_status = PlanStatus.ABORTED
            elif event == ExitReason.OPTED_OUT:
                self._activity(
                    lead, ActivityType.EMAIL, Direction.INBOUND, Outcome.UNSUBSCRIBED, at, plan_id
                )
                state["opted_out_at"] = at
                end_status = PlanStatus.ABORTED
            else:
                end_status = PlanStatus.ABORTED
            if ends:
                status, exit_reason, ended = end_status, event, at
                current = following
                next_due = None
                break
            # The plan finished with this step; the event came after.
            status, exit_reason, ended, next_due = (
                PlanStatus.COMPLETED, ExitReason.FINISHED, done, None,
            )  # fmt: skip
            break
        else:
            status, exit_reason, ended, next_due = (
                PlanStatus.COMPLETED, ExitReason.FINISHED, last_done, None,
            )  # fmt: skip
        reminder = None
        resume = None
        if next_due is not None:
            status = PlanStatus.IN_PROGRESS if started_at else PlanStatus.NOT_STARTED
            if rng.random() < 0.05:
                status = PlanStatus.PAUSED
                paused_at = rng.randrange(min(last_done or start, now - 1), now)
                if rng.random() < 0.5:
                    resume = now + rng.randrange(HOUR, 14 * DAY)
            elif next_due - REMINDER_LEAD > now:
                reminder = next_due - REMINDER_LEAD
        if outbox is not None:
            step, out_status, due, handoff = outbox
            self._outbound(lead, plan_id, strategy, step, out_status, due, handoff, None)
        created = when(start)
        last_event = max(t for t in (start, last_done, ended, paused_at) if t is not None)
        pending[LeadContactPlan].append(
            (plan_id, company_id, contact_id, strategy.id, owner.id, status,
             current.id if current else None, created,
             when(next_due) if next_due is not None else None, exit_reason,
             when(started_at) if started_at else None, when(last_done) if last_done else None,
             when(paused_at) if paused_at else None, when(resume) if resume else None,
             self.zero, when(ended) if ended is not None else None,
             when(reminder) if reminder else None, created, when(last_event))
        )  # fmt: skip
        return last_event, next_due is not None

    def _response(self, step: _Step, outcome: str, strategy: _Strategy, done: int, index: int):
        """What follows a done step, if anything: (exit reason, when), or (None, None)."""
        rng, now = self.rng, self.now
        chance = rng.random()
        kind = step.kind
        at = None
        event = None
        if kind == ActivityType.CALL:
            if outcome == Outcome.CONNECTED and chance < 0.12:
                event, at = ExitReason.MEETING_BOOKED, done
        elif kind in (
            ActivityType.EMAIL,
            ActivityType.LINKEDIN_MESSAGE,
            ActivityType.LINKEDIN_CONNECT,
        ):
            rate = strategy.reply_rate * (1.0 if index == 0 else 0.8)
            if kind == ActivityType.LINKEDIN_MESSAGE:
                rate *= 1.3
            elif kind == ActivityType.LINKEDIN_CONNECT:
                rate *= 0.5
            bounce = (0.015 if index == 0 else 0.003) if kind == ActivityType.EMAIL else 0.0
            opt_out = 0.003 if kind == ActivityType.EMAIL else 0.0
            if chance < rate:
                meeting = rng.random() < 0.25
                event = ExitReason.MEETING_BOOKED if meeting else ExitReason.REPLIED
                at = done + rng.randrange(2 * HOUR, 72 * HOUR)
            elif chance < rate + bounce:
                event, at = ExitReason.BOUNCED, done + rng.randrange(60, 30 * 60)
            elif chance < rate + bounce + opt_out:
                event, at = ExitReason.OPTED_OUT, done + rng.randrange(HOUR, 48 * HOUR)
        if event is None and rng.random() < 0.008:
            event, at = ExitReason.MANUAL, done + rng.randrange(HOUR, 5 * DAY)
        if event is None or at > now:
            return None, None
        return event, at

    def _outbound(
        self,
        lead,
        plan_id,
        strategy: _Strategy,
        step: _Step,
        status: str,
        due: int,
        at: int | None,
        activity_id,
        message_id: str = "",
    ):
        owner, company_id, contact_id, email = lead
        row_id = self.ids.new(6)
        when = self.when
        handoff = when(at) if at is not None and status != OutboundStatus.QUEUED else None
        error = {
            OutboundStatus.FAILED: "550 Mailbox unavailable",
            OutboundStatus.UNCERTAIN: "The worker stopped after the hand-off.",
        }.get(status, "")
        self.writer.pending[OutboundMessage].append(
            (row_id, plan_id, step.id, strategy.id, contact_id, company_id, owner.id, status,
             email, f"Step {step.number}", "Hello", error, when(due), False, handoff, None,
             handoff, when(at) if status == OutboundStatus.SENT else None, message_id, "",
             0 if status == OutboundStatus.QUEUED else 1, activity_id, when(due),
             handoff or when(due))
        )  # fmt: skip
        self.counts["outbound"] += 1
        return row_id

    def _inbound(self, lead, plan_id, sent_id, activity_id, kind: str, at: int) -> None:
        _, _, contact_id, email = lead
        row_id = self.ids.new(7)
        stamp = self.when(at)
        sender = email if kind == InboundKind.REPLY else "mailer-daemon@bench.example.com"
        self.writer.pending[InboundMessage].append(
            (row_id, f"<in-{row_id}@bench.example.com>", "raw", kind, InboundStatus.APPLIED,
             sender, "Re: your email", "", "Applied by the benchmark generator.", sent_id,
             contact_id, plan_id, activity_id, stamp, stamp)
        )  # fmt: skip
        self.counts["inbound"] += 1

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
    skip_checks = postgres and not connection.in_atomic_block and _superuser()
    with transaction.atomic():
        for model in reversed(GENERATED):
            _clear_dependents(model, model.objects.filter(**{f"{OWNER[model]}__in": users}))
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


#: How the generated rows of each table are found: the bench user who owns them (inbound
#: messages: through their plan).
OWNER: dict[type[models.Model], str] = {
    Company: "owner",
    Contact: "owner",
    LeadContactPlan: "user",
    Activity: "user",
    PlanStepResult: "user",
    OutboundMessage: "user",
    InboundMessage: "plan__user",
}


def _clear_dependents(model: type[models.Model], ours: models.QuerySet) -> None:
    """Delete (or unlink) the rows of tables the generator does not write that point at
    ``ours``, through the ORM so their own dependents follow."""
    for relation in model._meta.related_objects:
        if relation.related_model in GENERATED or relation.many_to_many:
            continue
        dependents = relation.related_model._default_manager.filter(
            **{f"{relation.field.name}__in": ours.values("pk")}
        )
        if relation.on_delete is models.SET_NULL:
            dependents.update(**{relation.field.name: None})
        else:
            dependents.delete()
