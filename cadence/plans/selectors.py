import datetime

from django.db.models import Count, Q, QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.plans.choices import RUNNING_STATUSES
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
    today_start, today_end = local_day_bounds(now, time_zone=user.time_zone)
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
        context = template_context(
            contact=plan.contact,
            company=plan.company,
            user=plan.user,
            plan=plan,
            step=plan.current_step,
        )
        plan.subject = render_text(plan.current_step.subject_template, context)
    return tasks
