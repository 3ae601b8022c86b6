"""Making, withdrawing, accepting and dismissing suggestions, and tuning the rules.

Suggestions come from two places: activities just logged (``suggestions_on_activities``, which
plans calls for every activity) and the scheduler pass (``suggestions_generate_due``) for rules
about silences. Each is made at most once: its ``dedupe_key`` is unique in the database, and
inserts skip a key that exists, so reruns and concurrent passes cannot duplicate one.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import can_manage_user_work
from cadence.activities.choices import ActivityType, Direction, ReminderStatus
from cadence.activities.models import Activity, Reminder
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.choices import EmailStatus
from cadence.plans import services as plan_services
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES, ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.suggestions import rules
from cadence.suggestions.choices import RunStatus, SuggestionKind, SuggestionStatus
from cadence.suggestions.models import (
    AnalysisRun,
    Finding,
    RuleWatermark,
    Suggestion,
    SuggestionRule,
)
from cadence.suggestions.profiles import bucket_days, size_band

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
#: How far in the past a chosen due time may lie (a form filled in a minute ago) before it is
#: refused rather than making a task that is overdue the moment it exists.
PAST_LEEWAY = datetime.timedelta(minutes=5)
#: How many of a lead's latest activities the unanswered-calls rule reads back.
STREAK_LOOKBACK = 50


class SuggestionStateError(CadenceError):
    """An action that the suggestion's state does not allow (accepting a dismissed one)."""


# -- Rule settings ------------------------------------------------------------------------------


def rule_settings(team_ids: Iterable) -> dict:
    """``{team_id: {kind: (enabled, params)}}`` for the given teams (``None`` included for users
    without one): the team's own row, else the organisation default row, else the code's
    defaults, read in one query."""
    team_ids = set(team_ids)
    rows = SuggestionRule.objects.filter(Q(team__isnull=True) | Q(team_id__in=team_ids - {None}))
    own: dict = defaultdict(dict)
    defaults: dict = {}
    for row in rows:
        if row.team_id is None:
            defaults[row.kind] = row
        else:
            own[row.team_id][row.kind] = row
    settings = {}
    for team_id in team_ids:
        per_kind = {}
        for kind, definition in rules.KINDS.items():
            row = own[team_id].get(kind) or defaults.get(kind)
            params = definition.defaults()
            if row is not None:
                params.update({k: v for k, v in row.params.items() if k in params})
            per_kind[kind] = (row.enabled if row is not None else True, params)
        settings[team_id] = per_kind
    return settings


def _check_may_tune(actor: User, team: Team | None) -> None:
    if actor.is_admin:
        return
    if actor.is_manager and team is not None and team.pk == actor.team_id:
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
    """A team goes back to the organisation's settings for a kind."""
    _check_may_tune(actor, team)
    SuggestionRule.objects.filter(team=team, kind=kind).delete()


# -- Making suggestions -------------------------------------------------------------------------


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
        if rules.is_response(earlier) or earlier.outcome in rules.STOP_OUTCOMES:
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
            Reminder.objects.filter(pk=suggestion.reminder_id).update(
                status=ReminderStatus.DISMISSED, updated_at=now
            )
    return withdrawn


def _moot_reason(activity: Activity) -> str:
    if rules.is_response(activity):
        return f"The lead answered ({activity.activity_type}, {_local(activity.occurred_at)})."
    if activity.outcome in rules.STOP_OUTCOMES:
        return f"The lead can no longer be contacted ({activity.outcome})."
    return f"A later {activity.activity_type.lower()} was logged ({_local(activity.occurred_at)})."


def _local(at: datetime.datetime) -> str:
    return f"{at:%Y-%m-%d}"


def current_run() -> AnalysisRun | None:
    return AnalysisRun.objects.filter(status=RunStatus.DONE).order_by("-started_at").first()


def _recommendations(activities: list[Activity], settings: dict) -> list[rules.Proposal]:
    """For each outbound touch, the next touch the analysis found works better for leads like
    this one, unless the lead's plan already has that channel next."""
    touches = [
        a
        for a in activities
        if a.direction == Direction.OUTBOUND
        and a.contact_id is not None
        and not rules.is_response(a)
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


def _email_no_reply_due(
    now: datetime.datetime, settings_for, since: datetime.datetime
) -> list[rules.Proposal]:
    """Emails with no reply whose silence came due (sent + the team's days) after ``since``, the
    previous pass, or that were logged since then however long ago they were sent; in both
    cases due at most ``EXPIRE_AFTER`` ago."""
    kind = rules.KINDS[SuggestionKind.EMAIL_NO_REPLY]
    thresholds = settings_for(kind.kind)
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
        .exclude(outcome__in=[*rules.STOP_OUTCOMES, *rules.RESPONSE_OUTCOMES])
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
        name = rules._name(email)
        subject = f" \u201c{email.subject}\u201d" if email.subject else ""
        proposals.append(
            kind.proposal(
                email,
                activity_type=ActivityType.CALL,
                due_at=due,
                title=f"Call {name}",
                reason=(
                    f"No reply logged {rules._plural(days, 'day')} after your email{subject} "
                    f"of {rules._day(email.occurred_at)}."
                ),
            )
        )
    return proposals


def _paused_stale_due(now: datetime.datetime, settings_for) -> list[rules.Proposal]:
    kind = rules.KINDS[SuggestionKind.PAUSED_STALE]
    thresholds = settings_for(kind.kind)
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
            rules.Proposal(
                kind=kind.kind,
                key=f"{kind.kind}:{plan.pk}:{last.isoformat()}",
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
                    f"{rules._day(plan.paused_at)} with no touch for "
                    f"{rules._plural((now - last).days, 'day')}."
                ),
            )
        )
    return proposals


def _latest(activities):
    return Subquery(activities.order_by("-occurred_at").values("occurred_at")[:1])


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
        status=SuggestionStatus.OPEN, due_at__lt=now - EXPIRE_AFTER
    ).update(
        status=SuggestionStatus.WITHDRAWN,
        withdrawn_reason=f"Not acted on within {EXPIRE_AFTER.days} days of its date.",
        decided_at=now,
        updated_at=now,
    )


def suggestions_generate_due(*, now: datetime.datetime | None = None) -> int:
    """The scheduler pass's step: make the suggestions of the time rules (silences), withdraw
    the ones overtaken by events that log no activity and the ones long past their date.
    Returns how many were made.

    Each pass covers everything since the previous finished one (its watermark, however long
    ago), so a scheduler that was down, or an email logged days after it was sent, still gets
    its suggestion, unless it would be older than ``EXPIRE_AFTER``."""
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
    email_kind = SuggestionKind.EMAIL_NO_REPLY
    # From the previous finished pass, however long ago (bounded by the expiry inside); the
    # first pass ever starts an expiry back. Not past ``now``: a pass may start "earlier" than
    # the mark a faster worker, or one with a clock ahead, has left.
    since = min(_covered_until(email_kind) or now - EXPIRE_AFTER, now)
    made = _create(_email_no_reply_due(now, settings_for, since))
    _advance_watermark(email_kind, now)
    # Paused plans need no watermark: the rule reads their current state (paused, and quiet for
    # the set days, late-logged touches included), so the next pass after an outage finds
    # every one that went quiet meanwhile.
    made += _create(_paused_stale_due(now, settings_for))
    return made


# -- Acting on suggestions ----------------------------------------------------------------------


def _check_may_act(actor: User, suggestion: Suggestion) -> None:
    if not can_manage_user_work(actor, suggestion.user):
        raise PermissionDeniedError("Only its owner or their manager may act on this suggestion.")


def _locked_open(suggestion: Suggestion, action: str) -> Suggestion:
    suggestion = (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related(
            "plan", "plan__strategy", "plan__current_step", "contact", "company", "user"
        )
        .get(pk=suggestion.pk)
    )
    if suggestion.status != SuggestionStatus.OPEN:
        raise SuggestionStateError(
            f"Cannot {action} this suggestion: it is {suggestion.get_status_display().lower()}"
            + (f" ({suggestion.withdrawn_reason})" if suggestion.withdrawn_reason else "")
            + ".",
            field="status",
        )
    return suggestion


def _why_stale(suggestion: Suggestion) -> str | None:
    plan = suggestion.plan
    if suggestion.kind == SuggestionKind.PAUSED_STALE and (
        plan is None or plan.status != PlanStatus.PAUSED
    ):
        return "The plan is no longer paused."
    contact = suggestion.contact
    if contact is not None and suggestion.activity_type == ActivityType.EMAIL:
        if contact.opted_out:
            return "The contact opted out."
        if contact.email_status == EmailStatus.BOUNCED:
            return "The contact's email address bounced."
    return None


def suggestion_accept(
    *,
    suggestion: Suggestion,
    actor: User,
    due_at: datetime.datetime | None = None,
    as_step: bool = False,
) -> Suggestion:
    """Turn the suggestion into work: a task (a reminder with a due date) for its owner, or,
    with ``as_step``, a step inserted as the next one of its custom plan. One that no longer
    applies is withdrawn instead, and the answer says why."""
    _check_may_act(actor, suggestion)
    now = timezone.now()
    if due_at is not None and due_at < now - PAST_LEEWAY:
        raise CadenceError("A task cannot be due in the past.", field="due_at")
    with transaction.atomic():
        suggestion = _locked_open(suggestion, "accept")
        stale = _why_stale(suggestion)
        if stale is None:
            return _accept(suggestion, actor, now=now, due=due_at, as_step=as_step)
    Suggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.OPEN).update(
        status=SuggestionStatus.WITHDRAWN, withdrawn_reason=stale, decided_at=now, updated_at=now
    )
    raise SuggestionStateError(f"This suggestion no longer applies: {stale}", field="status")


def _accept(suggestion, actor, *, now, due, as_step) -> Suggestion:
    due = due or max(suggestion.due_at, now)
    if as_step:
        suggestion.step = plan_services.plan_insert_step(
            plan=suggestion.plan,
            activity_type=suggestion.activity_type or ActivityType.TASK,
            subject=suggestion.title,
            note=suggestion.reason,
            due_at=due,
        )
    else:
        suggestion.reminder = Reminder.objects.create(
            user=suggestion.user,
            plan=suggestion.plan,
            activity=suggestion.trigger_activity,
            remind_at=due,
            due_at=due,
            message=f"{suggestion.title}. {suggestion.reason}",
        )
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_at = now
    suggestion.decided_by = actor
    suggestion.save()
    return suggestion


@transaction.atomic
def suggestion_dismiss(*, suggestion: Suggestion, actor: User) -> Suggestion:
    """Not now, not ever: a dismissed suggestion is not made again for the same cause."""
    _check_may_act(actor, suggestion)
    suggestion = _locked_open(suggestion, "dismiss")
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = actor
    suggestion.save()
    return suggestion


@transaction.atomic
def suggestion_task_done(*, suggestion: Suggestion, actor: User) -> Suggestion:
    """Close the task an accepted suggestion made (when the work was not logged as an
    activity that closes it by itself)."""
    _check_may_act(actor, suggestion)
    if suggestion.reminder_id is None:
        raise SuggestionStateError("This suggestion has no open task.", field="status")
    Reminder.objects.filter(pk=suggestion.reminder_id).update(
        status=ReminderStatus.DISMISSED, updated_at=timezone.now()
    )
    return suggestion
