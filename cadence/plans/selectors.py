import dataclasses
import datetime
import functools
import operator

from django.db.models import Count, Q, QuerySet

from cadence.accounts.choices import Role
from cadence.accounts.models import Team, User
from cadence.accounts.selectors import can_view_team_work, scope_by_user
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.scheduling.due import local_day_bounds
from cadence.strategies.rendering import render_text, template_context


def plan_list(*, viewer: User) -> QuerySet[LeadContactPlan]:
    """Plans the viewer runs, or (managers) their team runs, or (admins) all."""
    return LeadContactPlan.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "company", "contact", "strategy", "current_step"
    )


TASK_WINDOWS = ("due", "today", "upcoming")


def _task_bounds(user: User, now: datetime.datetime, days: int) -> dict:
    return _task_bounds_in(user.time_zone, now, days)


def _task_bounds_in(time_zone: str, now: datetime.datetime, days: int) -> dict:
    today_start, today_end = local_day_bounds(now, time_zone=time_zone)
    horizon = today_end + datetime.timedelta(days=days)
    return {
        "due": (None, today_start),
        "today": (today_start, today_end),
        "upcoming": (today_end, horizon),
    }


def _tasks_of(user: User):
    return LeadContactPlan.objects.filter(
        user=user, status__in=RUNNING_STATUSES, current_step__isnull=False
    )


def task_counts(*, user: User, now: datetime.datetime, days: int = 7) -> dict[str, int]:
    """How many tasks fall in each of ``task_list``'s windows, in one query."""
    counts = {}
    for window, (low, high) in _task_bounds(user, now, days).items():
        condition = Q(next_step_due_date__lt=high)
        if low is not None:
            condition &= Q(next_step_due_date__gte=low)
        counts[window] = Count("pk", filter=condition)
    return _tasks_of(user).aggregate(**counts)


def task_list(
    *,
    user: User,
    now: datetime.datetime,
    window: str | None = None,
    days: int = 7,
    limit: int | None = None,
) -> list[LeadContactPlan]:
    """The user's planned steps to do: overdue (``due``: before today), due ``today`` and
    ``upcoming`` in the next ``days`` days, where "today" is the user's local calendar day.
    Each plan comes with ``window`` and the step's rendered ``subject``, oldest first."""
    bounds = _task_bounds(user, now, days)
    today_start, today_end = bounds["today"]
    horizon = bounds["upcoming"][1]
    low, high = (None, horizon) if window is None else bounds[window]
    plans = _tasks_of(user).filter(next_step_due_date__lt=high)
    if low is not None:
        plans = plans.filter(next_step_due_date__gte=low)
    plans = plans.select_related("company", "contact", "strategy", "current_step", "user")
    plans = plans.order_by("next_step_due_date", "plan_id")
    # The subjects are rendered per task: a page shows the first ``limit``, not thousands.
    tasks = list(plans[:limit] if limit is not None else plans)
    for plan in tasks:
        due = plan.next_step_due_date
        plan.window = "due" if due < today_start else "today" if due < today_end else "upcoming"
        plan.subject = _rendered_subject(plan)
    return tasks


def _rendered_subject(plan: LeadContactPlan):
    context = template_context(
        contact=plan.contact,
        company=plan.company,
        user=plan.user,
        plan=plan,
        step=plan.current_step,
    )
    return render_text(plan.current_step.subject_template, context)


@dataclasses.dataclass(frozen=True)
class RepTaskCounts:
    """One person's tasks in the team view: overdue (``due``), due ``today``, ``upcoming``."""

    user: User
    due: int
    today: int
    upcoming: int


@dataclasses.dataclass(frozen=True)
class TeamTasks:
    """What a manager opens first: each person's task counts, the most behind first, and the
    tasks of each window asked for, oldest first, each with ``window`` and rendered ``subject``
    like ``task_list``'s (and its ``user``, to label it)."""

    reps: list[RepTaskCounts]
    tasks: dict[str, list[LeadContactPlan]]

    def total(self, window: str) -> int:
        return sum(getattr(rep, window) for rep in self.reps)


def _team_people(viewer: User, team: Team | None) -> Q:
    """Whose tasks the team view holds, over ``User``: an admin's everyone (or ``team``'s
    members), a manager's team and themselves; a rep only themselves, so the view can show
    nobody else's work whoever calls it."""
    if viewer.is_admin:
        return Q(team=team) if team is not None else Q()
    if can_view_team_work(viewer):
        return Q(team=viewer.team_id) | Q(pk=viewer.pk)
    return Q(pk=viewer.pk)


def team_tasks(
    *,
    viewer: User,
    now: datetime.datetime,
    team: Team | None = None,
    windows: tuple[str, ...] = TASK_WINDOWS,
    days: int = 7,
    limit: int | None = None,
) -> TeamTasks:
    """The tasks of the people the viewer oversees, with each person's counts by window.

    ``team`` narrows an admin's view to one team; a manager always sees their own team. The
    people listed are the active reps in scope and anyone in scope with a task. Windows are
    ``task_list``'s, by each person's own calendar day, so a rep's counts here are the ones on
    their own dashboard. ``limit`` caps the tasks of each window. Two queries, and one per
    window, however many people and tasks.
    """
    people = _team_people(viewer, team)
    tasks = LeadContactPlan.objects.filter(status__in=RUNNING_STATUSES, current_step__isnull=False)
    if people:
        tasks = tasks.filter(user__in=User.objects.filter(people))
    members = list(
        User.objects.filter(people).filter(
            Q(is_active=True, role=Role.REP) | Q(pk__in=tasks.values("user_id"))
        )
    )
    if not members:
        return TeamTasks(reps=[], tasks={window: [] for window in windows})

    # One condition per window over every time zone in the team: a task is overdue when it
    # fell due before the day began where its owner is.
    bounds = {zone: _task_bounds_in(zone, now, days) for zone in {m.time_zone for m in members}}

    def in_window(window: str) -> Q:
        conditions = []
        for zone, by_window in bounds.items():
            low, high = by_window[window]
            condition = Q(user__time_zone=zone, next_step_due_date__lt=high)
            if low is not None:
                condition &= Q(next_step_due_date__gte=low)
            conditions.append(condition)
        return functools.reduce(operator.or_, conditions)

    counts = {
        row["user_id"]: row
        for row in tasks.order_by()
        .values("user_id")
        .annotate(**{window: Count("pk", filter=in_window(window)) for window in TASK_WINDOWS})
    }
    reps = [
        RepTaskCounts(
            user=member,
            **{window: counts.get(member.pk, {}).get(window, 0) for window in TASK_WINDOWS},
        )
        for member in members
    ]
    reps.sort(key=lambda rep: (-rep.due, -rep.today, str(rep.user).casefold()))

    by_window = {}
    for window in windows:
        plans = (
            tasks.filter(in_window(window))
            .select_related("company", "contact", "strategy", "current_step", "user")
            .order_by("next_step_due_date", "plan_id")
        )
        # The subjects are rendered per task: a page shows the first ``limit``, not thousands.
        by_window[window] = list(plans[:limit] if limit is not None else plans)
        for plan in by_window[window]:
            plan.window = window
            plan.subject = _rendered_subject(plan)
    return TeamTasks(reps=reps, tasks=by_window)


def active_plan_counts(*, strategy_ids) -> dict:
    """How many active plans follow each of these strategies (absent: none), in one grouped
    query: counted for a page of strategies after paginating, as an annotation on the list
    would count once per joined step row."""
    return dict(
        LeadContactPlan.objects.filter(
            strategy_id__in=list(strategy_ids), status__in=ACTIVE_STATUSES
        )
        .order_by()
        .values_list("strategy_id")
        .annotate(n=Count("pk"))
    )


def overdue_q(now: datetime.datetime) -> Q:
    """Plans overdue at ``now``: running, with their step's due instant passed (``is_overdue``
    in Python). The task list's ``due`` window is narrower: due before the user's today."""
    return Q(status__in=RUNNING_STATUSES, next_step_due_date__lt=now)


def is_overdue(plan: LeadContactPlan, now: datetime.datetime) -> bool:
    """Whether the plan is overdue at ``now`` (``overdue_q`` as a filter)."""
    return (
        plan.status in RUNNING_STATUSES
        and plan.next_step_due_date is not None
        and plan.next_step_due_date < now
    )
