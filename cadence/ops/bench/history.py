"""A synthetic activity history with planted effects: the proof that the history analysis finds
real effects and invents none (``manage.py generate_history``; ``docs/suggestions.md``).

Every lead is one contact at its own company, owned by the generator user
(``history-generator``), which is how ``history_clear`` finds and removes it all. A company gets
an industry from ``INDUSTRIES`` (1 in 20 none) and a size from the size choices, uniformly (1 in
20 none). Each contact's history:

1. a first touch: an Email, outcome Sent, at a random time in the year before ``now``;
2. then up to ``touches`` next touches, each a random channel among Email, Call and LinkedIn
   Message, sent a random delay after the previous touch: a delay bucket picked uniformly
   (same day, 1-2, 3-5, 6-10 days), a whole day uniformly within it, plus a random time of up
   to 24 hours;
3. every touch (the first one too) gets a response with probability ``base_rate`` times the
   product of the multipliers of the planted effects matching it (its lead's industry and size
   band, its previous touch's channel and outcome, its channel and delay bucket; the first touch
   has no previous touch, so no effect applies to it). A Call that gets one is Connected; an
   Email or LinkedIn Message that gets one is followed by an inbound activity on the same
   channel, outcome Replied, 2 to 72 hours later. A response ends the lead's history. Without
   one, a Call is No Answer or Voicemail Left (even odds), an Email or LinkedIn Message is Sent.

Everything is drawn from ``random.Random(seed)`` (IDs from a second generator seeded from it),
so a seed always makes the same history.

Sample sizes (measured, see ``docs/suggestions.md``), with the defaults (``base_rate`` 0.12,
``touches`` 4, ``DEFAULT_EFFECTS``) and the analysis's defaults (``min_n`` 100, q 0.01, ratio
1.25):

- 12,000 contacts (``DEFAULT_CONTACTS``; about 51,000 activities, 35,000 analysed touches, 330
  comparisons): recall 0.99 over seeds 1-20 (119 of 120 planted effects found). The planted
  cells then hold 290-670 touches. The test suite asserts recall >= 0.9 over seeds 1 and 2.
- 8,000 contacts: recall 0.89; below that the smaller effects (1.8x-2x in cells of about 200
  touches) are found less than 9 times in 10.
- Without effects (``effects=()``), 3,000 contacts (about 12,800 activities, 55 comparisons):
  no finding in any of seeds 1-100; 12,000 contacts: none in seeds 1-40. The test suite asserts
  at most 1 of seeds 1-20 at 3,000 contacts yields a finding.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.models import User
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.ops.bench.common import clear_dependents, rows_insert
from cadence.suggestions.choices import DelayBucket, SizeBand
from cadence.suggestions.profiles import DELAY_BUCKETS, size_band

GENERATOR_USERNAME = "history-generator"
INDUSTRIES = ("Technology", "Finance", "Healthcare", "Manufacturing", "Retail")
#: The channels of the next touches.
CHANNELS = (ActivityType.EMAIL, ActivityType.CALL, ActivityType.LINKEDIN_MESSAGE)
#: The previous touches the generator makes: (channel, outcome) of a touch without a response.
PREVIOUS_TOUCHES = (
    (ActivityType.EMAIL, Outcome.SENT),
    (ActivityType.LINKEDIN_MESSAGE, Outcome.SENT),
    (ActivityType.CALL, Outcome.NO_ANSWER),
    (ActivityType.CALL, Outcome.VOICEMAIL_LEFT),
)
DEFAULT_BASE_RATE = 0.12
DEFAULT_TOUCHES = 4
DEFAULT_CONTACTS = 12_000
BATCH = 5000
UNKNOWN_SHARE = 0.05
NAMESPACE = uuid.UUID("0b6b7f5e-5d1a-4c3e-9a57-8f1c2d3e4a5b")
WORDS = ("Blue", "North", "Bright", "Iron", "Silver", "Rapid", "Green", "Summit", "Delta")
NOUNS = ("Systems", "Labs", "Logistics", "Health", "Analytics", "Foods", "Energy", "Works")
FIRST = ("Ada", "Ben", "Chloe", "David", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jana")
LAST = ("Almeida", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen")


class HistoryExists(ValueError):
    """The history of this seed was generated before and is still in the database."""


@dataclass(frozen=True)
class PlantedEffect:
    """A response-rate multiplier for one next touch of one lead profile (``""`` = any)."""

    industry: str
    size_band: str
    prev_channel: str
    prev_outcome: str
    channel: str
    bucket: str
    multiplier: float

    @classmethod
    def parse(cls, text: str) -> PlantedEffect:
        """Parse ``"industry|band|prev channel:prev outcome|channel|bucket|multiplier"``, with
        ``*`` for any industry or band, e.g. ``"Technology|*|Email:Sent|LinkedIn Message|3-5|2.4"``.
        Raises ``ValueError`` with a readable message."""
        parts = [part.strip() for part in text.split("|")]
        if len(parts) != 6:
            raise ValueError(
                f"{text!r}: expected 6 fields separated by '|': industry|band|"
                "prev channel:prev outcome|channel|bucket|multiplier"
            )
        industry, band, previous, channel, bucket, multiplier = parts
        industry = "" if industry == "*" else industry
        band = "" if band == "*" else band
        if industry and industry not in INDUSTRIES:
            raise ValueError(f"{text!r}: industry must be * or one of {', '.join(INDUSTRIES)}.")
        bands = [b for b in SizeBand.values if b != SizeBand.UNKNOWN]
        if band and band not in bands:
            raise ValueError(f"{text!r}: size band must be * or one of {', '.join(bands)}.")
        prev_channel, _, prev_outcome = previous.partition(":")
        if (prev_channel, prev_outcome) not in PREVIOUS_TOUCHES:
            choices = ", ".join(f"{c}:{o}" for c, o in PREVIOUS_TOUCHES)
            raise ValueError(f"{text!r}: the previous touch must be one of {choices}.")
        if channel not in CHANNELS:
            raise ValueError(f"{text!r}: the channel must be one of {', '.join(CHANNELS)}.")
        if bucket not in DelayBucket.values:
            raise ValueError(f"{text!r}: the bucket must be one of {', '.join(DelayBucket)}.")
        try:
            factor = float(multiplier)
        except ValueError:
            raise ValueError(f"{text!r}: the multiplier must be a number.") from None
        if not factor > 0:
            raise ValueError(f"{text!r}: the multiplier must be positive.")
        return cls(industry, band, prev_channel, prev_outcome, channel, bucket, factor)

    def __str__(self) -> str:
        return (
            f"{self.industry or '*'}|{self.size_band or '*'}|{self.prev_channel}:"
            f"{self.prev_outcome}|{self.channel}|{self.bucket}|{self.multiplier:g}"
        )

    def matches(
        self, industry: str, band: str, prev: tuple[str, str], channel: str, bucket: str
    ) -> bool:
        return (
            (not self.industry or self.industry == industry)
            and (not self.size_band or self.size_band == band)
            and (self.prev_channel, self.prev_outcome) == prev
            and self.channel == channel
            and self.bucket == bucket
        )


#: The effects planted unless told otherwise: sizes from 1.8x to 2.4x and one of 0.4x, at each
#: profile level but the finest, in cells large enough to find at ``DEFAULT_CONTACTS``.
DEFAULT_EFFECTS: tuple[PlantedEffect, ...] = tuple(
    PlantedEffect.parse(text)
    for text in (
        "Technology|*|Email:Sent|LinkedIn Message|3-5|2.4",
        "Finance|*|Email:Sent|Call|0|2.2",
        "*|small|Email:Sent|Email|1-2|2.0",
        "*|mid|Email:Sent|LinkedIn Message|6-10|2.0",
        "*|*|LinkedIn Message:Sent|Call|1-2|0.4",
        "*|*|Call:Voicemail Left|Email|3-5|1.8",
    )
)


def generator_user() -> User:
    """The owner of every generated row, made on first use."""
    user = User.objects.filter(username=GENERATOR_USERNAME).first()
    if user is None:
        user = User(
            username=GENERATOR_USERNAME,
            role=Role.REP,
            display_name="Synthetic history generator",
            email="history-generator@example.com",
        )
        user.set_unusable_password()
        user.save()
    return user


#: The columns the generator writes, per table; the others take their defaults.
FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Company: ("company_id", "name", "domain", "industry", "size", "country", "time_zone",
              "owner", "created_at", "updated_at"),
    Contact: ("contact_id", "company", "first_name", "last_name", "email", "phone", "title",
              "linkedin_url", "time_zone", "owner", "email_status", "opted_out", "created_at",
              "updated_at"),
    Activity: ("activity_id", "company", "contact", "user", "activity_type", "direction",
               "subject", "description", "outcome", "occurred_at", "message_id", "created_at",
               "updated_at"),
}  # fmt: skip
GENERATED = tuple(FIELDS)


def _id_source(seed: int) -> random.Random:
    """The stream of the generator's row IDs: its own, so IDs never shift the history."""
    return random.Random(f"{NAMESPACE}:{seed}")


class _Writer:
    """Collects rows (tuples in ``FIELDS`` order, values already in the database's own form:
    ``new_id`` and ``when``) and writes them in batches of ``BATCH``.

    Rows go in as plain ``INSERT``s through ``executemany`` (SQLite) or ``COPY`` (PostgreSQL),
    not ``bulk_create`` (``rows_insert``).
    """

    def __init__(self, seed: int) -> None:
        self.pending: dict[type[models.Model], list[tuple]] = {model: [] for model in FIELDS}
        self.postgres = connection.vendor == "postgresql"
        self._ids = _id_source(seed)

    # Values as Django stores them: SQLite keeps UUIDs as 32 hex digits and datetimes as naive
    # UTC text; converting while generating spares a pass over every value of every row.

    def new_id(self) -> uuid.UUID | str:
        bits = self._ids.getrandbits(128)
        return uuid.UUID(int=bits) if self.postgres else f"{bits:032x}"

    def uuid(self, value: uuid.UUID) -> uuid.UUID | str:
        return value if self.postgres else value.hex

    def when(self, naive_utc: datetime.datetime) -> datetime.datetime | str:
        return naive_utc.replace(tzinfo=datetime.UTC) if self.postgres else str(naive_utc)

    def add(self, model: type[models.Model], row: tuple) -> None:
        rows = self.pending[model]
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # Parents before children, so every foreign key points at a written row.
        with connection.cursor() as cursor:
            for model, rows in self.pending.items():
                if rows:
                    rows_insert(cursor, model, FIELDS[model], rows)
                    rows.clear()


def _bucket_delays() -> list[tuple[str, int, int]]:
    return [(str(bucket), first, last) for bucket, first, last in DELAY_BUCKETS]


def _lead_history(
    rng: random.Random,
    *,
    industry: str,
    band: str,
    start: datetime.datetime,
    touches: int,
    base_rate: float,
    effects: Sequence[PlantedEffect],
) -> Iterator[tuple[str, str, str, datetime.datetime]]:
    """One lead's activities: (channel, direction, outcome, occurred_at)."""
    delays = _bucket_delays()
    at = start
    channel, outcome = ActivityType.EMAIL, Outcome.SENT
    responded = rng.random() < base_rate
    for number in range(touches + 1):
        if number:
            prev = (channel, outcome)
            channel = rng.choice(CHANNELS)
            bucket, first, last = rng.choice(delays)
            at += datetime.timedelta(days=rng.randint(first, last), seconds=rng.randrange(86400))
            chance = base_rate
            for effect in effects:
                if effect.matches(industry, band, prev, channel, bucket):
                    chance *= effect.multiplier
            responded = rng.random() < min(chance, 1.0)
        if channel == ActivityType.CALL:
            if responded:
                outcome = Outcome.CONNECTED
            else:
                outcome = rng.choice((Outcome.NO_ANSWER, Outcome.VOICEMAIL_LEFT))
            yield channel, Direction.OUTBOUND, outcome, at
        else:
            outcome = Outcome.SENT
            yield channel, Direction.OUTBOUND, outcome, at
            if responded:
                reply = at + datetime.timedelta(seconds=rng.randrange(2 * 3600, 72 * 3600))
                yield channel, Direction.INBOUND, Outcome.REPLIED, reply
        if responded:
            return


def history_generate(
    *,
    seed: int,
    contacts: int = DEFAULT_CONTACTS,
    effects: Sequence[PlantedEffect] | None = None,
    base_rate: float = DEFAULT_BASE_RATE,
    touches: int = DEFAULT_TOUCHES,
    now: datetime.datetime | None = None,
    max_activities: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Generate the history of ``contacts`` leads from ``seed`` (see the module docstring).

    ``effects``: the planted effects, ``DEFAULT_EFFECTS`` when ``None`` (pass ``()`` for a
    history without any). ``touches``: next touches per lead at most. ``now``: the end of the
    year the first touches fall in (default: the start of today, UTC). ``max_activities``: stop
    after the lead that reaches this many activities. Returns the counts of what was made.
    """
    if contacts < 0 or touches < 0:
        raise ValueError("contacts and touches must not be negative.")
    if not 0 <= base_rate <= 1:
        raise ValueError("base_rate must be between 0 and 1.")
    effects = DEFAULT_EFFECTS if effects is None else tuple(effects)
    say = progress or (lambda _line: None)
    now = now or timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    first_id = uuid.UUID(int=_id_source(seed).getrandbits(128))
    if Company.objects.filter(pk=first_id).exists():
        raise HistoryExists(f"The history of seed {seed} is in the database already; clear it.")
    rng = random.Random(seed)
    user = generator_user()
    writer = _Writer(seed)
    owner = writer.uuid(user.pk)
    end = now.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    stamp = writer.when(end)
    counts = {"companies": 0, "contacts": 0, "activities": 0, "touches": 0, "responses": 0}
    sizes = list(CompanySize.values)
    year = 365 * 86400
    with transaction.atomic():
        for number in range(contacts):
            if max_activities is not None and counts["activities"] >= max_activities:
                break
            industry = "" if rng.random() < UNKNOWN_SHARE else rng.choice(INDUSTRIES)
            size = "" if rng.random() < UNKNOWN_SHARE else rng.choice(sizes)
            company_id = writer.new_id()
            word, noun = WORDS[number % len(WORDS)], NOUNS[(number // 7) % len(NOUNS)]
            writer.add(
                Company,
                (
                    company_id,
                    f"{word} {noun} {seed}-{number}",
                    "",
                    industry,
                    size,
                    "",
                    "",
                    owner,
                    stamp,
                    stamp,
                ),
            )
            contact_id = writer.new_id()
            first, last = FIRST[number % len(FIRST)], LAST[(number // 3) % len(LAST)]
            writer.add(
                Contact,
                (
                    contact_id,
                    company_id,
                    first,
                    last,
                    f"{first}.{last}.{seed}-{number}@history.example.com".lower(),
                    "",
                    "",
                    "",
                    "",
                    owner,
                    str(EmailStatus.UNKNOWN),
                    False,
                    stamp,
                    stamp,
                ),
            )
            start = end - datetime.timedelta(seconds=rng.randrange(year))
            history = _lead_history(
                rng,
                industry=industry,
                band=size_band(size),
                start=start,
                touches=touches,
                base_rate=base_rate,
                effects=effects,
            )
            for channel, direction, outcome, at in history:
                writer.add(
                    Activity,
                    (
                        writer.new_id(),
                        company_id,
                        contact_id,
                        owner,
                        str(channel),
                        str(direction),
                        "",
                        "",
                        str(outcome),
                        writer.when(at),
                        "",
                        stamp,
                        stamp,
                    ),
                )
                counts["activities"] += 1
                if direction == Direction.OUTBOUND:
                    counts["touches"] += 1
                if outcome in (Outcome.CONNECTED, Outcome.REPLIED):
                    counts["responses"] += 1
            counts["companies"] += 1
            counts["contacts"] += 1
            if (number + 1) % 20_000 == 0:
                say(f"  {number + 1:,} leads, {counts['activities']:,} activities...")
        writer.flush()
    return counts


def history_clear(*, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Delete every generated row: the generator user's activities, contacts and companies, and
    whatever depends on them. Returns how many of each were deleted."""
    say = progress or (lambda _line: None)
    user = User.objects.filter(username=GENERATOR_USERNAME).first()
    if user is None:
        return {"activities": 0, "contacts": 0, "companies": 0}
    deleted = {}
    with transaction.atomic():
        for model, owner_field, name in (
            (Activity, "user", "activities"),
            (Contact, "owner", "contacts"),
            (Company, "owner", "companies"),
        ):
            say(f"Deleting generated {name}...")
            ours = model.objects.filter(**{owner_field: user})
            clear_dependents(model, ours, generated=GENERATED)
            deleted[name] = _raw_delete(model, owner_field, user)
    return deleted


def _raw_delete(model: type[models.Model], owner_field: str, user: User) -> int:
    # One DELETE for the bulk: the ORM's cascade would load every generated row into memory.
    field = model._meta.get_field(owner_field)
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {column} = %s",
            [field.target_field.get_db_prep_value(user.pk, connection)],
        )
        return cursor.rowcount
