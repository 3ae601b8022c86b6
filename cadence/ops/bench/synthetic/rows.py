"""The rows of the synthetic organisation history (``cadence.ops.bench.synthetic``): its sizes
and vocabularies, the columns it writes per table, how its rows are found again (``OWNER``), their
IDs, and the writer that loads them in bulk."""

from __future__ import annotations

import datetime
import queue
import random
import threading
from dataclasses import dataclass

from django.db import connection, models, transaction

from cadence.activities.choices import ActivityType, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Company, Contact
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.ops.bench.common import rows_insert
from cadence.plans.models import LeadContactPlan, PlanStepResult

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


@dataclass(frozen=True)
class Step:
    id: object  # in the database's own form
    number: int
    delay: int
    kind: str
    automated: bool


@dataclass(frozen=True)
class Strategy:
    id: object
    name: str
    steps: tuple[Step, ...]
    reply_rate: float


@dataclass(frozen=True)
class Owner:
    id: object
    team: object


class Ids:
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


class Writer:
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
        self.skip_checks = self.background and connected_as_superuser()
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
                rows_insert(cursor, model, FIELDS[model], rows)


def connected_as_superuser() -> bool:
    """Whether PostgreSQL's session is a superuser's, who may skip foreign key triggers."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW is_superuser")
        return cursor.fetchone()[0] == "on"
