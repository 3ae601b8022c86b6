"""Making and withdrawing suggestions, and tuning the rules that make them.

Suggestions come from two places: activities just logged (``suggestions_on_activities``, for
every activity logged) and the scheduler pass (``suggestions_generate_due``) for rules about
silences. What each kind looks for is its class in ``rules``; this module runs the kinds,
withdraws what events have made moot, and stores what they propose. Each suggestion is made at
most once: its ``dedupe_key`` is unique in the database, and inserts skip a key that exists, so
reruns and concurrent passes cannot duplicate one. Acting on a suggestion (accepting,
dismissing) is in ``actions``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cadence.accounts.models import Team, User
from cadence.activities.choices import ActivityType, Direction, ReminderStatus
from cadence.activities.models import Activity
from cadence.activities.services import reminder_close_task
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES, ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.suggestions import rules
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import Finding, RuleWatermark, Suggestion, SuggestionRule
from cadence.suggestions.profiles import bucket_days, size_band
from cadence.suggestions.selectors import current_run, rule_can_tune, rule_settings

#: How many of a lead's latest activities the unanswered-calls rule reads back.
STREAK_LOOKBACK = 50


# -- Tuning the rules -----------------------------------------------------------------------------


def _check_may_tune(actor: User, team: Team | None) -> None:
    if rule_can_tune(actor, team):
        return
    if actor.is_manager:
        raise PermissionDeniedError("Managers tune the rules of their own team only.")
    raise PermissionDeniedError("Only managers and admins tune suggestion rules.")


@transaction.atomic
def suggestion_rule_set(
    *,
    actor: User,
    team: Team | None,
    kind: str,
    enabled: bool | None = None,
    params: dict | None = None,
) -> SuggestionRule:
    """Turn a kind on or off, or change its parameters, for a team (``None``: the organisation
    default, admins only). Parameters not given keep their current values."""
    _check_may_tune(actor, team)
    if kind not in rules.KINDS:
        raise CadenceError(f"Unknown rule kind: {kind}.", field="kind")
    current_enabled, current = rule_settings([team.pk if team else None])[
        team.pk if team else None
    ][kind]
    merged = {**current, **(params or {})}
    try:
        cleaned = rules.clean_params(kind, merged)
    except ValueError as error:
        raise CadenceError(str(error), field="params") from None
    rule, _ = SuggestionRule.objects.select_for_update().get_or_create(
        team=team, kind=kind, defaults={"params": cleaned, "enabled": current_enabled}
    )
    rule.params = cleaned
    if enabled is not None:
        rule.enabled = enabled
    rule.save()
    return rule


@transaction.atomic
def suggestion_rule_reset(*, actor: User, team: Team, kind: str) -> None:
    """A team goes back to the organisation's settings for a kind. The organisation's own
    settings have nothing to go back to: they are changed, not reset."""
    if team is None:
        raise CadenceError("The organisation defaults cannot be reset, only changed.")
    _check_may_tune(actor, team)
    if kind not in rules.KINDS:
        raise CadenceError(f"Unknown rule kind: {kind}.", field="kind")
    SuggestionRule.objects.filter(team=team, kind=kind).delete()


# -- Storing what the rules propose ---------------------------------------------------------------


def _create(proposals: list[rules.Proposal]) -> int:
    """Insert the proposals whose key is new; returns how many were new."""
    if not proposals:
        return 0
    _attach_plans(proposals)
    keys = [p.key for p in proposals]
    existing = set(
        Suggestion.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    fresh = {p.key: p for p in proposals if p.key not in existing}
    Suggestion.objects.bulk_create(
        [
            Suggestion(
                kind=p.kind,
                dedupe_key=p.key,
                user_id=p.user_id,
                company_id=p.company_id,
                contact_id=p.contact_id,
                plan_id=p.plan_id,
                trigger_activity=p.trigger,
                finding_id=p.finding_id,
                activity_type=p.activity_type,
                due_at=p.due_at,
                title=p.title[:255],
                reason=p.reason,
            )
            for p in fresh.values()
        ],
        # Another worker may have inserted the same key meanwhile: the constraint keeps one.
        ignore_conflicts=True,
    )
    return len(fresh)


def _attach_plans(proposals: list[rules.Proposal]) -> None:
    """A suggestion about a contact in exactly one active plan belongs to that plan too (an ad
    hoc call is still part of working the lead), so the plan's page shows it."""
    loose = {p.contact_id for p in proposals if p.plan_id is None and p.contact_id}
    if not loose:
        return
    plans: dict = defaultdict(list)
    for contact_id, plan_id in LeadContactPlan.objects.filter(
        contact_id__in=loose, status__in=ACTIVE_STATUSES
    ).values_list("contact_id", "plan_id"):
        plans[contact_id].append(plan_id)
    for proposal in proposals:
        if proposal.plan_id is None and len(plans.get(proposal.contact_id, ())) == 1:
            proposal.plan_id = plans[proposal.contact_id][0]


# -- Event rules: activities just logged ----------------------------------------------------------


def _unanswered_streak(activity: Activity) -> int:
    """Unanswered calls to the activity's contact in a row, up to and including it."""
    history = (
        Activity.objects.filter(
            contact_id=activity.contact_id, occurred_at__lte=activity.occurred_at
        )
        .order_by("-occurred_at")
        .only("activity_type", "direction", "outcome")[:STREAK_LOOKBACK]
    )
    streak = 0
    for earlier in history:
        if rules.settles(earlier) or earlier.outcome in rules.STOP_OUTCOMES:
            break
        if (
            earlier.activity_type == ActivityType.CALL
            and earlier.direction == Direction.OUTBOUND
            and earlier.outcome in rules.UNANSWERED_CALL_OUTCOMES
        ):
            streak += 1
    return streak


def _withdraw_moot(activities: list[Activity]) -> int:
    """Open suggestions about these activities' leads that an activity makes moot are withdrawn;
    the tasks of accepted ones that it carries out are closed."""
    contact_ids = {a.contact_id for a in activities if a.contact_id}
    company_ids = {a.company_id for a in activities if a.contact_id is None}
    if not contact_ids and not company_ids:
        return 0
    about = Q(contact_id__in=contact_ids) | Q(company_id__in=company_ids, contact__isnull=True)
    candidates = (
        Suggestion.objects.filter(
            about, status__in=(SuggestionStatus.OPEN, SuggestionStatus.ACCEPTED)
        )
        .select_related("trigger_activity", "reminder")
        .select_for_update(of=("self",))
    )
    withdrawn = 0
    now = timezone.now()
    for suggestion in candidates:
        since = (
            suggestion.trigger_activity.occurred_at
            if suggestion.trigger_activity is not None
            else suggestion.created_at
        )
        kind = rules.KINDS[suggestion.kind]
        mooting = next(
            (
                a
                for a in activities
                if a.pk != suggestion.trigger_activity_id
                and a.occurred_at > since
                and (
                    a.contact_id == suggestion.contact_id
                    if suggestion.contact_id
                    else a.company_id == suggestion.company_id
                )
                and kind.moots(a)
            ),
            None,
        )
        if mooting is None:
            continue
        if suggestion.status == SuggestionStatus.OPEN:
            suggestion.status = SuggestionStatus.WITHDRAWN
            suggestion.withdrawn_reason = _moot_reason(mooting)
            suggestion.decided_at = now
            suggestion.save(
                update_fields=["status", "withdrawn_reason", "decided_at", "updated_at"]
            )
            withdrawn += 1
        elif (
            suggestion.reminder is not None
            and suggestion.reminder.status != ReminderStatus.DISMISSED
        ):
            reminder_close_task(reminder_id=suggestion.reminder_id)
    return withdrawn


def _moot_reason(activity: Activity) -> str:
    if rules.settles(activity):
        return f"The lead answered ({activity.activity_type}, {_local(activity.occurred_at)})."
    if activity.outcome in rules.STOP_OUTCOMES:
        return f"The lead can no longer be contacted ({activity.outcome})."
    return f"A later {activity.activity_type.lower()} was logged ({_local(activity.occurred_at)})."


def _local(at: datetime.datetime) -> str:
    return f"{at:%Y-%m-%d}"


def _recommendations(activities: list[Activity], settings: dict) -> list[rules.Proposal]:
    """For each outbound touch, the next touch the analysis found works better for leads like
    this one, unless the lead's plan already has that channel next."""
    touches = [
        a
        for a in activities
        if a.direction == Direction.OUTBOUND
        and a.contact_id is not None
        and not rules.settles(a)
        and a.outcome not in rules.STOP_OUTCOMES
        and settings[a.user.team_id][SuggestionKind.RECOMMENDATION][0]
    ]
    if not touches:
        return []
    run = current_run()
    if run is None:
        return []
    findings = defaultdict(list)
    for finding in Finding.objects.filter(
        run=run, ratio__gt=1, prev_channel__in={a.activity_type for a in touches}
    ):
        findings[(finding.prev_channel, finding.prev_outcome)].append(finding)
    if not findings:
        return []
    planned = dict(
        LeadContactPlan.objects.filter(
            contact_id__in={a.contact_id for a in touches},
            status__in=RUNNING_STATUSES,
            current_step__isnull=False,
        ).values_list("contact_id", "current_step__activity_type")
    )
    proposals = []
    for touch in touches:
        industry, band = touch.company.industry, size_band(touch.company.size)
        matching = [
            f
            for f in findings.get((touch.activity_type, touch.outcome), ())
            if f.industry in ("", industry) and f.size_band in ("", band)
        ]
        if not matching:
            continue
        # The most specific profile first, then the best reply rate.
        best = max(matching, key=lambda f: (bool(f.industry) + bool(f.size_band), f.rate))
        if planned.get(touch.contact_id) == best.channel:
            continue
        first_day, last_day = bucket_days(best.delay_bucket)
        name = rules._name(touch)
        days = "the same day" if last_day == 0 else f"in {first_day}-{last_day} days"
        proposals.append(
            rules.KINDS[SuggestionKind.RECOMMENDATION].proposal(
                touch,
                activity_type=best.channel,
                due_at=touch.occurred_at + datetime.timedelta(days=first_day),
                title=f"{best.channel} to {name} {days}",
                reason=best.sentence,
                finding_id=best.pk,
            )
        )
    return proposals


@transaction.atomic
def suggestions_on_activities(activities: list[Activity]) -> int:
    """React to activities just logged: withdraw what they make moot, then run the event rules
    and the recommendations on them. Returns how many suggestions were made."""
    activities = [a for a in activities if a.pk is not None]
    if not activities:
        return 0
    _withdraw_moot(activities)
    users = {u.pk: u for u in User.objects.filter(pk__in={a.user_id for a in activities})}
    for activity in activities:
        activity.user = users[activity.user_id]
    settings = rule_settings({u.team_id for u in users.values()})
    proposals = []
    for activity in activities:
        per_kind = settings[activity.user.team_id]
        context = {"unanswered_streak": _unanswered_streak}
        for kind, definition in rules.KINDS.items():
            enabled, params = per_kind[kind]
            if enabled and not definition.timed:
                proposals.extend(definition.on_activity(activity, params, context))
    proposals.extend(_recommendations(activities, settings))
    return _create(proposals)


def suggestions_replay(*, activities: Iterable[Activity], now: datetime.datetime) -> int:
    """Run the rules over a history written in bulk (demo data, an import), one activity at a
    time in the order they happened, as if each had just been logged; then the time rules as of
    ``now``. Returns how many suggestions were made."""
    made = 0
    for activity in sorted(activities, key=lambda a: (a.occurred_at, str(a.pk))):
        made += suggestions_on_activities([activity])
    return made + suggestions_generate_due(now=now)


# -- Time rules: the scheduler pass ---------------------------------------------------------------


def _covered_until(kind: str) -> datetime.datetime | None:
    """Where the kind's previous finished pass stopped (``None`` before the first)."""
    return RuleWatermark.objects.filter(kind=kind).values_list("covered_until", flat=True).first()


def _advance_watermark(kind: str, now: datetime.datetime) -> None:
    """Record that the kind's pass covered everything up to ``now``. Forward only: a pass that
    started earlier and finishes later (a slow worker, a skewed clock) leaves a later mark."""
    RuleWatermark.objects.bulk_create(
        [RuleWatermark(kind=kind, covered_until=now)], ignore_conflicts=True
    )
    RuleWatermark.objects.filter(kind=kind, covered_until__lt=now).update(
        covered_until=now, updated_at=timezone.now()
    )


def _withdraw_resumed(now: datetime.datetime) -> int:
    """Open "resume or close" suggestions whose plan is no longer paused."""
    return (
        Suggestion.objects.filter(kind=SuggestionKind.PAUSED_STALE, status=SuggestionStatus.OPEN)
        .exclude(plan__status=PlanStatus.PAUSED)
        .update(
            status=SuggestionStatus.WITHDRAWN,
            withdrawn_reason="The plan is no longer paused.",
            decided_at=now,
            updated_at=now,
        )
    )


def _withdraw_stopped(now: datetime.datetime) -> int:
    """Open suggestions about a contact who opted out, or tied to a plan someone ended by hand:
    changes that log no activity for the listener to see."""
    withdrawn = 0
    for condition, reason in (
        (Q(contact__opted_out=True), "The contact opted out."),
        (
            Q(plan__exit_reason__in=(ExitReason.MANUAL, ExitReason.OPTED_OUT)),
            "The plan was ended.",
        ),
    ):
        withdrawn += Suggestion.objects.filter(condition, status=SuggestionStatus.OPEN).update(
            status=SuggestionStatus.WITHDRAWN,
            withdrawn_reason=reason,
            decided_at=now,
            updated_at=now,
        )
    return withdrawn


def _withdraw_expired(now: datetime.datetime) -> int:
    return Suggestion.objects.filter(
        status=SuggestionStatus.OPEN, due_at__lt=now - rules.EXPIRE_AFTER
    ).update(
        status=SuggestionStatus.WITHDRAWN,
        withdrawn_reason=f"Not acted on within {rules.EXPIRE_AFTER.days} days of its date.",
        decided_at=now,
        updated_at=now,
    )


def suggestions_generate_due(*, now: datetime.datetime | None = None) -> int:
    """The scheduler pass's step: make the suggestions of the time rules (silences), withdraw
    the ones overtaken by events that log no activity and the ones long past their date.
    Returns how many were made.

    Each pass covers everything since the previous finished one (its watermark, however long
    ago), so a scheduler that was down, or an email logged days after it was sent, still gets
    its suggestion, unless it would be older than ``rules.EXPIRE_AFTER``."""
    now = now or timezone.now()
    teams = set(User.objects.filter(is_active=True).values_list("team_id", flat=True).distinct())
    teams.add(None)
    settings = rule_settings(teams)

    def settings_for(kind: str) -> dict:
        return {
            team_id: per_kind[kind][1].get("days")
            for team_id, per_kind in settings.items()
            if per_kind[kind][0]
        }

    _withdraw_resumed(now)
    _withdraw_expired(now)
    _withdraw_stopped(now)
    email_kind = rules.KINDS[SuggestionKind.EMAIL_NO_REPLY]
    # From the previous finished pass, however long ago (bounded by the expiry inside); the
    # first pass ever starts an expiry back. Not past ``now``: a pass may start "earlier" than
    # the mark a faster worker, or one with a clock ahead, has left.
    since = min(_covered_until(email_kind.kind) or now - rules.EXPIRE_AFTER, now)
    made = _create(email_kind.due(now, settings_for(email_kind.kind), since))
    _advance_watermark(email_kind.kind, now)
    # Paused plans need no watermark: the rule reads their current state (see PausedStale).
    paused_kind = rules.KINDS[SuggestionKind.PAUSED_STALE]
    made += _create(paused_kind.due(now, settings_for(paused_kind.kind), since))
    return made
