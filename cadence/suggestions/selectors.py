import itertools
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import scope_by_user
from cadence.suggestions import rules
from cadence.suggestions.choices import RunStatus, SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion, SuggestionRule
from cadence.suggestions.profiles import delay_bucket


def suggestion_list(*, viewer: User) -> QuerySet[Suggestion]:
    """Suggestions for the viewer, their team's for managers, everyone's for admins."""
    return Suggestion.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "company", "contact", "plan", "plan__strategy", "user", "finding", "reminder"
    )


def suggestions_open(*, viewer: User, limit: int | None = None) -> list[Suggestion]:
    """The viewer's own open suggestions, soonest first."""
    qs = suggestion_list(viewer=viewer).filter(user=viewer, status=SuggestionStatus.OPEN)
    return list(qs[:limit] if limit is not None else qs)


def suggestions_of_lead(*, viewer: User, contact=None, plan=None) -> list[Suggestion]:
    """Open suggestions about a contact or a plan (a plan's include those about its contact that
    belong to no plan)."""
    qs = suggestion_list(viewer=viewer).filter(status=SuggestionStatus.OPEN)
    if contact is not None:
        qs = qs.filter(contact=contact)
    if plan is not None:
        qs = qs.filter(plan=plan) | qs.filter(contact_id=plan.contact_id, plan__isnull=True)
    return list(qs)


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


def current_run() -> AnalysisRun | None:
    """The newest finished history analysis: the one whose findings suggestions use."""
    return AnalysisRun.objects.filter(status=RunStatus.DONE).order_by("-started_at").first()


def rule_team_choices(*, viewer: User) -> list[Team | None]:
    """Teams whose rules the viewer may read; ``None`` is the organisation default."""
    if viewer.is_admin:
        return [None, *Team.objects.order_by("name")]
    return [viewer.team] if viewer.team_id else [None]


def rule_list(*, team: Team | None) -> list[dict]:
    """Each rule kind with the settings that apply to the team (or the defaults)."""
    team_id = team.pk if team is not None else None
    settings = rule_settings([team_id])[team_id]
    return [
        {
            "kind": kind,
            "label": definition.kind.label,
            "description": definition.description,
            "team": team,
            "enabled": settings[kind][0],
            "params": settings[kind][1],
            "definitions": definition.params,
        }
        for kind, definition in rules.KINDS.items()
    ]


def rule_overrides(*, team: Team | None) -> set[str]:
    """The kinds a team has settings of its own for (the rest follow the defaults)."""
    if team is None:
        return set()
    return set(SuggestionRule.objects.filter(team=team).values_list("kind", flat=True))


def finding_list() -> QuerySet[Finding]:
    """The findings of the newest finished analysis, strongest effect first."""
    run = current_run()
    if run is None:
        return Finding.objects.none()
    return Finding.objects.filter(run=run)


def run_list() -> QuerySet[AnalysisRun]:
    return AnalysisRun.objects.all()


#: How a finding bears on a strategy step's choice of channel and delay.
SUPPORTS, CONTRADICTS, ALTERNATIVE = "supports", "contradicts", "alternative"
#: Outcomes a touch on each channel has when nobody answered: what the previous step of a
#: strategy leaves behind when the lead is still in the plan.
_SILENT_OUTCOMES = {
    "Email": {"Sent"},
    "LinkedIn Message": {"Sent"},
    "LinkedIn Connect": {"Sent", ""},
    "SMS": {"Sent"},
    "Call": {"No Answer", "Voicemail Left"},
}


def step_findings(steps) -> dict:
    """``{step_id: [(verdict, finding), ...]}`` for a strategy's steps, from the newest
    analysis: findings about the step's own channel and delay after the step before it
    (``supports`` or ``contradicts`` it), and up to two better next touches after that step
    (``alternative``)."""
    steps = sorted(steps, key=lambda step: step.step_number)
    findings = list(finding_list())
    notes: dict = {}
    for previous, step in itertools.pairwise(steps):
        outcomes = _SILENT_OUTCOMES.get(previous.activity_type)
        after = [
            f
            for f in findings
            if f.prev_channel == previous.activity_type
            and (outcomes is None or f.prev_outcome in outcomes)
        ]
        bucket = delay_bucket(step.delay_days)
        same = [f for f in after if f.channel == step.activity_type and f.delay_bucket == bucket]
        verdicts = [(SUPPORTS if f.is_positive else CONTRADICTS, f) for f in same]
        better = sorted(
            (f for f in after if f.is_positive and f not in same),
            key=lambda f: -f.ratio,
        )
        verdicts += [(ALTERNATIVE, f) for f in better[:2]]
        if verdicts:
            notes[step.pk] = verdicts
    return notes


def rule_can_tune(viewer: User, team: Team | None) -> bool:
    """Who tunes suggestion rules: an admin any team's and the organisation's defaults
    (``team`` None), a manager their own team's."""
    if viewer.is_admin:
        return True
    return viewer.is_manager and team is not None and team.pk == viewer.team_id
