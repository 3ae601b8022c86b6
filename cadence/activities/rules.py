"""Rules about activities that every app reads: which outcomes each activity type may have, and
what counts as a response from the lead.

Both are plain data and pure functions, so that the API, the web forms, the plans' exit rules,
the suggestions and the analytics (in Python, in the ORM and in SQL) read the same definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.core.errors import CadenceError

if TYPE_CHECKING:
    from cadence.activities.models import Activity

#: The outcomes that make sense for each activity type. A type not listed (Task, Other) may
#: have any outcome; every type may have none. A meeting can be booked in answer to any message
#: (a reply "I booked Tuesday through your link" ends the plan as a booked meeting).
OUTCOMES_BY_TYPE: dict[str, tuple[Outcome, ...]] = {
    ActivityType.EMAIL: (
        Outcome.SENT,
        Outcome.REPLIED,
        Outcome.MEETING_BOOKED,
        Outcome.BOUNCED,
        Outcome.UNSUBSCRIBED,
        Outcome.COMPLETED,
    ),
    ActivityType.CALL: (
        Outcome.CONNECTED,
        Outcome.NO_ANSWER,
        Outcome.VOICEMAIL_LEFT,
        Outcome.MEETING_BOOKED,
        Outcome.COMPLETED,
    ),
    ActivityType.LINKEDIN_CONNECT: (
        Outcome.SENT,
        Outcome.CONNECTED,
        Outcome.REPLIED,
        Outcome.COMPLETED,
    ),
    ActivityType.LINKEDIN_MESSAGE: (
        Outcome.SENT,
        Outcome.REPLIED,
        Outcome.MEETING_BOOKED,
        Outcome.COMPLETED,
    ),
    ActivityType.MEETING: (Outcome.COMPLETED, Outcome.NO_SHOW, Outcome.MEETING_BOOKED),
    ActivityType.SMS: (
        Outcome.SENT,
        Outcome.REPLIED,
        Outcome.MEETING_BOOKED,
        Outcome.UNSUBSCRIBED,
        Outcome.COMPLETED,
    ),
}


def outcomes_allowed(activity_type: str) -> tuple[Outcome, ...]:
    """The outcomes an activity of this type may record (besides none)."""
    return OUTCOMES_BY_TYPE.get(activity_type, tuple(Outcome))


def outcome_check(*, activity_type: str, outcome: str) -> None:
    """Refuse an outcome that an activity of this type cannot have, naming the ones it can."""
    if not outcome:
        return
    allowed = outcomes_allowed(activity_type)
    if outcome not in allowed:
        names = ", ".join(f'"{each.value}"' for each in allowed)
        raise CadenceError(
            f'An activity of type "{activity_type}" cannot have the outcome "{outcome}"; '
            f"it may have {names}, or none.",
            field="outcome",
        )


#: What counts as a response: the outcomes that record, on an outbound touch itself, that the
#: lead answered (a call that connected, a message replied to, a meeting booked). Any inbound
#: activity counts too, whatever its outcome (``is_response``).
RESPONSE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.REPLIED,
    Outcome.CONNECTED,
    Outcome.MEETING_BOOKED,
)


def is_response(activity: Activity) -> bool:
    """What counts as a response from the lead: an inbound activity, or one whose outcome is a
    response (``RESPONSE_OUTCOMES``)."""
    return activity.direction == Direction.INBOUND or activity.outcome in RESPONSE_OUTCOMES


def response_q(prefix: str = "") -> Q:
    """``is_response`` as a filter on activities (``prefix`` reaches them through a relation,
    e.g. ``"activities__"``)."""
    return Q(**{f"{prefix}direction": Direction.INBOUND}) | Q(
        **{f"{prefix}outcome__in": RESPONSE_OUTCOMES}
    )
