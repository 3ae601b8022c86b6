"""What the demo builders share: seeded random streams and IDs, times, templates, activities.

``Seeded`` is handed to every part of a build (``demo`` for people, companies and strategies,
``demo_plans`` for plans and their history) so that they draw IDs from one stream, in one order,
and each section draws its choices from its own stream: changing how contacts are made does not
reshuffle the companies.
"""

import datetime
import random
import re
import uuid
from collections.abc import Sequence

from cadence.activities.choices import ActivityType, Direction
from cadence.activities.models import Activity
from cadence.ops import demo_content as content

DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)
# Completed work ends at least this long before "now", so nothing in the history is in the future.
MARGIN = 30 * MINUTE

_PLACEHOLDER = re.compile(
    r"\{\{\s*(\w+)\.(\w+)\s*(?:\|\s*default\(\s*[\"']([^\"']*)[\"']\s*\)\s*)?\}\}"
)


class Seeded:
    """The seed and reference time of a build, its random streams and its primary keys."""

    def __init__(self, *, seed: int, now: datetime.datetime):
        self.seed = seed
        self.now = now
        self._ids = self.rng("ids")

    def rng(self, section: str) -> random.Random:
        # String seeds are hashed with SHA-512, so the streams do not depend on PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{section}")

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self._ids.getrandbits(128), version=4)

    def activity(self, rng: random.Random, *, plan=None, **fields) -> Activity:
        """An activity with the plan's lead and user unless given; emails carry a Message-ID
        from the sender's domain, as real ones would."""
        if plan is not None:
            fields.update(company=plan.company, contact=plan.contact, user=plan.user)
        fields.setdefault("direction", Direction.OUTBOUND)
        if fields["activity_type"] == ActivityType.EMAIL:
            inbound = fields["direction"] == Direction.INBOUND
            domain = fields["company"].domain if inbound else content.USER_DOMAIN
            fields["message_id"] = f"<{rng.getrandbits(64):016x}@{domain}>"
        fields["subject"] = fields["subject"][:255]
        return Activity(
            activity_id=self.uuid(), plan=plan, created_at=fields["occurred_at"], **fields
        )


def render_template(text: str | None, context: dict[str, object]) -> str:
    """Fill the ``{{ object.field }}`` placeholders (with an optional ``default("...")``) that
    the demo strategies use.

    Real rendering belongs to the strategies app's sandboxed Jinja2; the demo history only needs
    its own templates filled, and should not change when that engine does.
    """

    def replace(match: re.Match) -> str:
        value = getattr(context.get(match[1]), match[2], "") or ""
        return str(value) or (match[3] or "")

    return _PLACEHOLDER.sub(replace, text or "")


def weighted(rng: random.Random, pairs: Sequence[tuple]) -> object:
    """The first item of one of ``pairs``, drawn with the weights in their last items."""
    return rng.choices([p[0] for p in pairs], weights=[p[-1] for p in pairs])[0]


def at_work_hours(rng: random.Random, day: datetime.datetime) -> datetime.datetime:
    hour, minute = rng.randint(8, 17), rng.randrange(0, 60, 5)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def to_minute(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(second=0, microsecond=0)
