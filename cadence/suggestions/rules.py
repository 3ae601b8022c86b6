"""The rule kinds: what each looks for, which parameters it takes, and what makes it moot.

A kind is a small class registered in ``KINDS``. Teams tune kinds through ``SuggestionRule`` rows
(on/off and parameters); adding a kind is a new class here and a choice in ``SuggestionKind``.

Event kinds look at one activity just logged (``on_activity``); time kinds look for silences
during the scheduler pass (``due``, in ``services``). Either returns ``Proposal`` objects, which
the services turn into suggestions at most once each (``key``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.suggestions.choices import SuggestionKind

#: Outcomes that mean the lead answered: they make every open suggestion about that lead moot.
RESPONSE_OUTCOMES = frozenset(
    {Outcome.REPLIED, Outcome.CONNECTED, Outcome.MEETING_BOOKED, Outcome.COMPLETED}
)
#: Outcomes after which nobody should be contacted again through the old route.
STOP_OUTCOMES = frozenset({Outcome.BOUNCED, Outcome.UNSUBSCRIBED})
UNANSWERED_CALL_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.VOICEMAIL_LEFT})
#: Channels a rule may suggest instead of calling again.
OTHER_CHANNELS = (
    ActivityType.EMAIL,
    ActivityType.LINKEDIN_MESSAGE,
    ActivityType.LINKEDIN_CONNECT,
    ActivityType.SMS,
)


def is_response(activity: Activity) -> bool:
    return activity.direction == Direction.INBOUND or activity.outcome in RESPONSE_OUTCOMES


@dataclass(frozen=True)
class Param:
    """One tunable threshold of a kind, with its bounds (checked when a team changes it)."""

    name: str
    label: str
    default: int | str
    minimum: int = 0
    maximum: int = 365
    choices: tuple[str, ...] = ()

    def clean(self, value):
        """The value as this parameter takes it, or ``ValueError`` saying what is wrong."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"{self.label} must be one of: {', '.join(self.choices)}.")
            return value
        if isinstance(value, bool):
            raise ValueError(f"{self.label} must be a whole number.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{self.label} must be a whole number.") from None
        if number != value and str(number) != str(value).strip():
            raise ValueError(f"{self.label} must be a whole number.")
        if not self.minimum <= number <= self.maximum:
            raise ValueError(f"{self.label} must be between {self.minimum} and {self.maximum}.")
        return number


@dataclass
class Proposal:
    """A suggestion a kind would make; ``key`` identifies what made it."""

    kind: str
    key: str
    user_id: object
    company_id: object
    contact_id: object
    plan_id: object
    trigger: Activity | None
    activity_type: str
    due_at: datetime.datetime
    title: str
    reason: str
    finding_id: object = None
    extra: dict = field(default_factory=dict)


def _name(activity: Activity) -> str:
    if activity.contact is not None:
        return activity.contact.full_name or activity.contact.email or "this contact"
    return activity.company.name


def _day(at: datetime.datetime) -> str:
    return f"{at:%d %b}".lstrip("0")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Kind:
    kind: str
    description: str
    params: tuple[Param, ...] = ()
    #: A later outbound touch on one of these channels makes an open suggestion moot;
    #: ``None`` means any outbound touch does. A response or a stop outcome always does.
    moot_channels: frozenset[str] | None = None
    #: Whether the scheduler pass looks for it (a silence), rather than an activity.
    timed = False

    def defaults(self) -> dict:
        return {param.name: param.default for param in self.params}

    def on_activity(self, activity: Activity, params: dict, context: dict) -> list[Proposal]:
        return []

    def moots(self, activity: Activity) -> bool:
        if is_response(activity) or activity.outcome in STOP_OUTCOMES:
            return True
        if activity.direction != Direction.OUTBOUND:
            return False
        return self.moot_channels is None or activity.activity_type in self.moot_channels

    def proposal(self, activity: Activity, **fields) -> Proposal:
        return Proposal(
            kind=self.kind,
            key=f"{self.kind}:{activity.pk}",
            user_id=activity.user_id,
            company_id=activity.company_id,
            contact_id=activity.contact_id,
            plan_id=activity.plan_id,
            trigger=activity,
            **fields,
        )


class EmailNoReply(Kind):
    kind = SuggestionKind.EMAIL_NO_REPLY
    description = "An email with no reply logged within the set days suggests a call."
    params = (Param("days", "Days without a reply", 3, 1, 60),)
    timed = True


class VoicemailRetry(Kind):
    kind = SuggestionKind.VOICEMAIL_RETRY
    description = 'A call with outcome "Voicemail Left" suggests calling again after the set days.'
    params = (Param("days", "Days until the next call", 2, 0, 60),)
    moot_channels = frozenset({ActivityType.CALL})

    def on_activity(self, activity, params, context):
        if not (
            activity.activity_type == ActivityType.CALL
            and activity.direction == Direction.OUTBOUND
            and activity.outcome == Outcome.VOICEMAIL_LEFT
            and activity.contact_id is not None
        ):
            return []
        if context.get("unanswered_streak_hit"):
            # The streak rule says to stop calling; calling again would contradict it.
            return []
        days = params["days"]
        name = _name(activity)
        return [
            self.proposal(
                activity,
                activity_type=ActivityType.CALL,
                due_at=activity.occurred_at + datetime.timedelta(days=days),
                title=f"Call {name} again",
                reason=(
                    f"You left a voicemail on {_day(activity.occurred_at)}; try again "
                    f"{_plural(days, 'day')} later."
                ),
            )
        ]


class UnansweredCalls(Kind):
    kind = SuggestionKind.UNANSWERED_CALLS
    description = "The set number of unanswered calls in a row suggests another channel."
    params = (
        Param("calls", "Unanswered calls in a row", 3, 2, 20),
        Param("channel", "Channel to suggest", ActivityType.EMAIL.value, choices=OTHER_CHANNELS),
    )
    moot_channels = frozenset(OTHER_CHANNELS)

    def on_activity(self, activity, params, context):
        if not (
            activity.activity_type == ActivityType.CALL
            and activity.direction == Direction.OUTBOUND
            and activity.outcome in UNANSWERED_CALL_OUTCOMES
            and activity.contact_id is not None
        ):
            return []
        streak = context["unanswered_streak"](activity)
        if streak == 0 or streak % params["calls"]:
            return []
        context["unanswered_streak_hit"] = True
        channel = params["channel"]
        name = _name(activity)
        verb = {
            ActivityType.EMAIL: f"Email {name}",
            ActivityType.LINKEDIN_MESSAGE: f"Send {name} a LinkedIn message",
            ActivityType.LINKEDIN_CONNECT: f"Connect with {name} on LinkedIn",
            ActivityType.SMS: f"Text {name}",
        }.get(channel, f"Reach {name} by {channel}")
        return [
            self.proposal(
                activity,
                activity_type=channel,
                due_at=activity.occurred_at,
                title=f"{verb} instead of calling",
                reason=f"{streak} calls in a row went unanswered; try another channel.",
            )
        ]


class MeetingNoShow(Kind):
    kind = SuggestionKind.MEETING_NO_SHOW
    description = 'A meeting with outcome "No Show" suggests rescheduling it.'
    params = (Param("days", "Days until rescheduling", 1, 0, 30),)

    def on_activity(self, activity, params, context):
        if not (
            activity.activity_type == ActivityType.MEETING and activity.outcome == Outcome.NO_SHOW
        ):
            return []
        name = _name(activity)
        return [
            self.proposal(
                activity,
                activity_type=ActivityType.MEETING,
                due_at=activity.occurred_at + datetime.timedelta(days=params["days"]),
                title=f"Reschedule the meeting with {name}",
                reason=f"{name} did not show up to the meeting on {_day(activity.occurred_at)}.",
            )
        ]


class PausedStale(Kind):
    kind = SuggestionKind.PAUSED_STALE
    description = "A paused plan whose lead has had no touch for the set days: resume or close it."
    params = (Param("days", "Days without a touch", 14, 1, 365),)
    timed = True


class Recommendation(Kind):
    kind = SuggestionKind.RECOMMENDATION
    description = (
        "After a touch, suggest the next touch that the history analysis found works better "
        "for leads like this one."
    )


KINDS: dict[str, Kind] = {
    kind.kind: kind
    for kind in (
        EmailNoReply(),
        UnansweredCalls(),
        VoicemailRetry(),
        MeetingNoShow(),
        PausedStale(),
        Recommendation(),
    )
}


def clean_params(kind: str, params: dict) -> dict:
    """A kind's full parameter set from a partial one, each value checked; ``ValueError`` names
    the first bad or unknown parameter."""
    definition = KINDS[kind]
    known = {param.name: param for param in definition.params}
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"Unknown parameter: {', '.join(sorted(unknown))}.")
    cleaned = definition.defaults()
    for name, value in params.items():
        cleaned[name] = known[name].clean(value)
    return cleaned
