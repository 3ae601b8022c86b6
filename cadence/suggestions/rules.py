"""The rule kinds: what each looks for, which parameters it takes, and what makes it moot.

A kind is a small class registered in ``KINDS``. Teams tune kinds through ``SuggestionRule`` rows
(on/off and parameters); adding a kind is a new class here and a choice in ``SuggestionKind``.

Event kinds look at one activity just logged (``on_activity``); time kinds look for silences
when the scheduler pass calls them (``due``). Either returns ``Proposal`` objects, which the
services turn into suggestions at most once each (``key``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, Subquery

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.activities.rules import RESPONSE_OUTCOMES, is_response
from cadence.crm.choices import EmailStatus
from cadence.plans.choices import RUNNING_STATUSES, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import Suggestion

#: Outcomes after which open advice about the lead is moot: a response (what counts as one is
#: ``cadence.activities.rules``'), or a touch completed with them (a meeting held).
SETTLING_OUTCOMES = frozenset({*RESPONSE_OUTCOMES, Outcome.COMPLETED})
#: Outcomes after which nobody should be contacted again through the old route.
STOP_OUTCOMES = frozenset({Outcome.BOUNCED, Outcome.UNSUBSCRIBED})
UNANSWERED_CALL_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.VOICEMAIL_LEFT})
#: An open suggestion this long past its due date is stale advice: it is withdrawn, so lists
#: show what is still worth doing; and a time rule does not make one that would already be
#: this old (after a long outage, or for an email logged weeks late). It also bounds the very
#: first pass, which has no watermark to start from.
EXPIRE_AFTER = datetime.timedelta(days=14)
#: How far before its watermark a pass looks again for activities logged late. An activity is
#: stamped (``created_at``) when its row is built but seen only when its transaction commits,
#: which for an import can be minutes later, after a pass has moved past the stamp. Reading
#: again what was already considered costs little: what has a suggestion is skipped.
LOGGED_OVERLAP = datetime.timedelta(hours=1)
#: Channels a rule may suggest instead of calling again.
OTHER_CHANNELS = (
    ActivityType.EMAIL,
    ActivityType.LINKEDIN_MESSAGE,
    ActivityType.LINKEDIN_CONNECT,
    ActivityType.SMS,
)


def settles(activity: Activity) -> bool:
    """Whether the activity makes open advice about its lead moot: a response from the lead
    (``activities.rules.is_response``) or a touch completed with them."""
    return is_response(activity) or activity.outcome in SETTLING_OUTCOMES


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


def _latest(activities):
    """The time of the latest of ``activities``, as a subquery."""
    return Subquery(activities.order_by("-occurred_at").values("occurred_at")[:1])


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

    def due(
        self, now: datetime.datetime, thresholds: dict, since: datetime.datetime
    ) -> list[Proposal]:
        """A time kind's proposals at ``now``. ``thresholds`` maps each team that has the kind
        on (``None`` for users without a team) to its ``days``; ``since`` is where the previous
        finished pass stopped."""
        return []

    def moots(self, activity: Activity) -> bool:
        if settles(activity) or activity.outcome in STOP_OUTCOMES:
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

    def due(self, now, thresholds, since):
        """Emails with no reply whose silence came due (sent + the team's days) after
        ``since``, the previous pass, or that were logged since then however long ago they were
        sent; in both cases due at most ``EXPIRE_AFTER`` ago. None for a lead whose running plan
        asks for a call next."""
        if not thresholds:
            return []
        oldest_due = max(since, now - EXPIRE_AFTER)
        logged_since = since - LOGGED_OVERLAP
        days_set = {datetime.timedelta(days=days) for days in thresholds.values()}
        shortest = min(days_set)
        # One range of send times per threshold in use (a handful): each reads the index on
        # occurred_at. The emails logged during the window read the index on created_at; their
        # send time is bounded on one side only, so that SQLite, which rates a range closed on
        # both sides as the narrower, picks that index; the expiry is checked below.
        came_due = Q()
        for days in days_set:
            came_due |= Q(occurred_at__gt=oldest_due - days, occurred_at__lte=now - days)
        logged_late = Q(
            created_at__gt=logged_since, created_at__lte=now, occurred_at__lte=now - shortest
        )
        later = Activity.objects.filter(
            contact_id=OuterRef("contact_id"), occurred_at__gt=OuterRef("occurred_at")
        )
        emails = (
            Activity.objects.filter(
                came_due | logged_late,
                activity_type=ActivityType.EMAIL,
                direction=Direction.OUTBOUND,
                contact__isnull=False,
                contact__opted_out=False,
            )
            .exclude(contact__email_status=EmailStatus.BOUNCED)
            .exclude(outcome__in=[*STOP_OUTCOMES, *SETTLING_OUTCOMES])
            .exclude(Exists(later))
            .exclude(
                Exists(
                    Suggestion.objects.filter(
                        trigger_activity=OuterRef("pk"), kind=SuggestionKind.EMAIL_NO_REPLY
                    )
                )
            )
            .select_related("contact", "company", "user")
        )
        calls_planned = set(
            LeadContactPlan.objects.filter(
                status__in=RUNNING_STATUSES, current_step__activity_type=ActivityType.CALL
            )
            .filter(contact_id__in=emails.values("contact_id"))
            .values_list("contact_id", flat=True)
        )
        proposals = []
        for email in emails:
            days = thresholds.get(email.user.team_id)
            if days is None:
                continue
            due = email.occurred_at + datetime.timedelta(days=days)
            # The query's ranges are those of every team's threshold; this is the email's own.
            if not now - EXPIRE_AFTER <= due <= now:
                continue
            if due <= since and email.created_at <= logged_since:
                # Came due and was logged before the previous pass, which considered it.
                continue
            if email.contact_id in calls_planned:
                # The plan already asks for a call next.
                continue
            name = _name(email)
            subject = f" \u201c{email.subject}\u201d" if email.subject else ""
            proposals.append(
                self.proposal(
                    email,
                    activity_type=ActivityType.CALL,
                    due_at=due,
                    title=f"Call {name}",
                    reason=(
                        f"No reply logged {_plural(days, 'day')} after your email{subject} "
                        f"of {_day(email.occurred_at)}."
                    ),
                )
            )
        return proposals


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

    def due(self, now, thresholds, since):
        """Plans paused, with no touch of their lead since, for at least the team's days, unless
        an open suggestion of this kind is about them already. The rule reads each plan's
        current state, so it needs no watermark (``since`` is unused): the first pass after an
        outage finds every plan that went quiet meanwhile, late-logged touches included."""
        if not thresholds:
            return []
        shortest = min(thresholds.values())
        plans = (
            LeadContactPlan.objects.filter(
                status=PlanStatus.PAUSED, paused_at__lte=now - datetime.timedelta(days=shortest)
            )
            .exclude(
                Exists(
                    Suggestion.objects.filter(
                        plan=OuterRef("pk"),
                        kind=SuggestionKind.PAUSED_STALE,
                        status=SuggestionStatus.OPEN,
                    )
                )
            )
            .select_related("contact", "company", "user", "strategy")
            .annotate(
                contact_touch=_latest(Activity.objects.filter(contact_id=OuterRef("contact_id"))),
                company_touch=_latest(Activity.objects.filter(company_id=OuterRef("company_id"))),
            )
        )
        proposals = []
        for plan in plans:
            days = thresholds.get(plan.user.team_id)
            if days is None:
                continue
            touch = plan.contact_touch if plan.contact_id else plan.company_touch
            last = max(filter(None, (plan.paused_at, touch)))
            if last > now - datetime.timedelta(days=days):
                continue
            name = plan.contact.full_name if plan.contact else plan.company.name
            strategy = plan.strategy.name if plan.strategy else "custom plan"
            proposals.append(
                Proposal(
                    kind=self.kind,
                    key=f"{self.kind}:{plan.pk}:{last.isoformat()}",
                    user_id=plan.user_id,
                    company_id=plan.company_id,
                    contact_id=plan.contact_id,
                    plan_id=plan.pk,
                    trigger=None,
                    activity_type="",
                    due_at=now,
                    title=f"Resume or close the plan for {name}",
                    reason=(
                        f"{strategy} for {name} has been paused since "
                        f"{_day(plan.paused_at)} with no touch for "
                        f"{_plural((now - last).days, 'day')}."
                    ),
                )
            )
        return proposals


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
