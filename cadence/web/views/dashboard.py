"""The dashboard, the home page after signing in: the user's planned steps (overdue, today,
upcoming), their open follow-up suggestions and the tasks accepted ones made, their unread
notifications and their plans by status.

Managers and admins can switch it to their team's tasks (``?view=team``): who is behind, with
each person's overdue and due-today counts, and the team's tasks labelled with whose they are.
An admin sees every team, or picks one (``&team=<id>``). For a rep the switch is not offered and
``?view=team`` shows their own tasks, as the selector's scope would anyway.

Each task has one-click actions (log it done, skip it, snooze its reminder) that work as htmx
requests, which swap the task's row, and as plain form posts, which come back to the dashboard.
The helpers about a task's step (its outcomes, its rendered subject, the user's local time) are
shared with the plan page, which imports them from here.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import can_view_team_work, team_list
from cadence.activities.choices import ActivityType, ReminderStatus
from cadence.activities.rules import outcomes_allowed
from cadence.activities.selectors import reminder_list
from cadence.activities.services import reminder_snooze
from cadence.core.errors import CadenceError
from cadence.notifications.selectors import notification_list
from cadence.plans import services
from cadence.plans.choices import RUNNING_STATUSES, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.plans.selectors import plan_list, task_counts, task_list, team_tasks
from cadence.scheduling.due import local_day_bounds
from cadence.strategies.rendering import render_text, template_context
from cadence.web.localtime import local_instant, local_text, local_today
from cadence.web.views.suggestions import dashboard_context

#: Tasks listed per section; the rest are a link away, in the plans list (a rep back from a
#: holiday can have thousands overdue, and each task renders its subject).
TASKS_SHOWN = 50
#: The dashboard's task sections, by ``task_list``'s windows.
SECTIONS = [
    ("due", "Overdue", "Nothing overdue."),
    ("today", "Today", "Nothing due today."),
    ("upcoming", "Upcoming", "Nothing due in the next 7 days."),
]
#: A snoozed reminder comes back "tomorrow" at this local time.
TOMORROW_AT = datetime.time(9, 0)
NOTIFICATIONS_SHOWN = 5


def outcome_choices(activity_type: str) -> list[tuple[str, str]]:
    outcomes = outcomes_allowed(activity_type)
    return [(outcome.value, outcome.label) for outcome in outcomes]


def activity_type_of(step) -> str:
    """The activity type to record for a step. Step types are free text, activities' are a
    fixed list, so a type of the strategy's own becomes Other instead of failing validation."""
    return step.activity_type if step.activity_type in ActivityType.values else ActivityType.OTHER


def step_subject(plan: LeadContactPlan, step) -> str:
    """The step's subject template rendered for this plan's lead."""
    context = template_context(
        contact=plan.contact, company=plan.company, user=plan.user, plan=plan, step=step
    )
    return render_text(step.subject_template, context)


class TaskDoneForm(forms.Form):
    """What came of a task: the outcome (those that fit the step's activity type) and notes.

    ``step`` is the step the row showed: if the plan moved on meanwhile (a double click, another
    tab), the service refuses instead of completing the next step too."""

    step = forms.UUIDField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label="Outcome")
    notes = forms.CharField(
        label="Notes", required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, plan: LeadContactPlan, **kwargs):
        # Several rows may show this form at once: ids must stay unique on the page.
        kwargs.setdefault("auto_id", f"task-{plan.pk}-%s")
        kwargs.setdefault("initial", {"step": plan.current_step_id})
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = outcome_choices(plan.current_step.activity_type)


def _task(request, pk) -> LeadContactPlan:
    """The plan behind a task, as the user may see it (a manager may act on their team's), with
    the attributes ``task_list`` gives its tasks: ``window`` and the rendered ``subject``.

    The window is by the owner's calendar day, as on their dashboard and in the team view."""
    plan = get_object_or_404(plan_list(viewer=request.user).select_related("user"), pk=pk)
    due = plan.next_step_due_date
    plan.window = None
    if due is not None:
        start, end = local_day_bounds(timezone.now(), time_zone=plan.user.time_zone)
        plan.window = "due" if due < start else "today" if due < end else "upcoming"
    plan.subject = step_subject(plan, plan.current_step) if plan.current_step else ""
    return plan


def _has_open_step(plan: LeadContactPlan) -> bool:
    return plan.status in RUNNING_STATUSES and plan.current_step_id is not None


def _shown_step_is_current(request, plan: LeadContactPlan) -> bool:
    shown = request.POST.get("step")
    return not shown or shown == str(plan.current_step_id)


def _row(request, plan: LeadContactPlan, status: int = 200, **context):
    return render(
        request, "web/dashboard/partials/task.html", {"task": plan, **context}, status=status
    )


def _refused(request, plan: LeadContactPlan, message: str):
    """A refusal: in the row for htmx (a 200, so htmx swaps it in), as a message otherwise."""
    if request.htmx:
        return _row(request, plan, error=message)
    messages.error(request, message)
    return redirect("web-dashboard")


def _finished(request, plan: LeadContactPlan, message: str):
    """The task is done with: htmx replaces its row by the confirmation."""
    if request.htmx:
        return _row(request, plan, done=message)
    messages.success(request, message)
    return redirect("web-dashboard")


def _what_next(request, plan: LeadContactPlan) -> str:
    plan.refresh_from_db()
    if plan.status not in RUNNING_STATUSES or plan.current_step is None:
        return f"The plan is {plan.status}."
    due = local_text(request.user, plan.next_step_due_date)
    return f"Next: step {plan.current_step.step_number}, due {due}."


#: The plans list's ``due`` filter that lists the rest of each section.
MORE_FILTERS = {"due": "overdue", "today": "today", "upcoming": "week"}


class TeamPickForm(forms.Form):
    """An admin's choice of team for the team view; none is every team."""

    team = forms.ModelChoiceField(
        label="Team", queryset=Team.objects.none(), required=False, empty_label="All teams"
    )

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = team_list(viewer=viewer).order_by("name")
        self.fields["team"].widget.attrs["data-autosubmit"] = ""


def _section(key, title, empty, tasks, total, filters: dict) -> dict:
    more = urlencode({"due": MORE_FILTERS[key], **filters})
    return {
        "key": key,
        "title": title,
        "empty": empty,
        "tasks": tasks,
        "total": total,
        "more": total - len(tasks),
        "more_url": f"{reverse('web-plans')}?{more}",
    }


def _my_sections(user: User, now: datetime.datetime) -> list[dict]:
    counts_by_window = task_counts(user=user, now=now)
    return [
        _section(
            key,
            title,
            empty,
            task_list(user=user, now=now, window=key, limit=TASKS_SHOWN),
            counts_by_window[key],
            {"owner": user.pk},
        )
        for key, title, empty in SECTIONS
    ]


def _team_context(request, now: datetime.datetime) -> dict:
    """The team view: each person's counts, most behind first, and the team's tasks."""
    user = request.user
    team, picker = None, None
    if user.is_admin:
        picker = TeamPickForm(request.GET, viewer=user)
        # A team that is gone or mistyped shows every team, with the picker saying so.
        team = picker.cleaned_data["team"] if picker.is_valid() else None
    board = team_tasks(viewer=user, now=now, team=team, limit=TASKS_SHOWN)
    plans_url = reverse("web-plans")
    reps = [
        {
            "user": rep.user,
            "due": rep.due,
            "today": rep.today,
            "upcoming": rep.upcoming,
            "due_url": f"{plans_url}?{urlencode({'due': 'overdue', 'owner': rep.user.pk})}",
            "today_url": f"{plans_url}?{urlencode({'due': 'today', 'owner': rep.user.pk})}",
        }
        for rep in board.reps
    ]
    sections = [
        _section(key, title, empty, board.tasks[key], board.total(key), {})
        for key, title, empty in SECTIONS
    ]
    return {"sections": sections, "reps": reps, "team_picker": picker, "picked_team": team}


@login_required
def dashboard(request):
    """The user's own tasks by window (or, for managers and admins who ask, their team's),
    latest unread notifications and plan counts by status."""
    user = request.user
    now = timezone.now()
    plans_url = reverse("web-plans")
    can_view_team = can_view_team_work(user)
    team_view = can_view_team and request.GET.get("view") == "team"
    view_context = (
        _team_context(request, now) if team_view else {"sections": _my_sections(user, now)}
    )
    counts = dict(
        plan_list(viewer=user)
        .filter(user=user)
        .order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
    )
    status_counts = [
        {
            "label": status.label,
            "count": counts.get(status.value, 0),
            "url": f"{plans_url}?{urlencode({'status': status.value, 'owner': user.pk})}",
        }
        for status in PlanStatus
    ]
    context = {
        **view_context,
        "can_view_team": can_view_team,
        "team_view": team_view,
        "notifications": notification_list(user=user, unread=True)[:NOTIFICATIONS_SHOWN],
        "status_counts": status_counts,
        **dashboard_context(user),
    }
    return render(request, "web/dashboard/index.html", context)


@login_required
def task_row(request, pk):
    """The task's row as it stands (the log form's Cancel); without htmx, the dashboard."""
    plan = _task(request, pk)
    if not request.htmx:
        return redirect("web-dashboard")
    return _row(request, plan)


@login_required
@require_http_methods(["GET", "POST"])
def task_done(request, pk):
    """Log the task's step as done with an outcome and notes: the plan moves to its next step.

    The form opens inside the row for htmx, or as its own page without JavaScript."""
    plan = _task(request, pk)
    if not _has_open_step(plan):
        return _refused(request, plan, f"This plan is {plan.status}: it has no step to do.")
    if request.method == "POST" and not _shown_step_is_current(request, plan):
        return _refused(request, plan, "This task has moved on; nothing was logged.")
    form = TaskDoneForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        step = plan.current_step
        outcome = form.cleaned_data["outcome"]
        try:
            services.activity_log(
                actor=request.user,
                plan=plan,
                step=step,
                activity_type=activity_type_of(step),
                outcome=outcome,
                subject=plan.subject[:255],
                description=form.cleaned_data["notes"],
            )
        except CadenceError as exc:
            form.add_error("outcome" if exc.field == "outcome" else None, exc.message)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            done = f"Step {step.step_number} logged as {outcome}. {_what_next(request, plan)}"
            return _finished(request, plan, done)
    if request.htmx:
        # htmx swaps only successful responses: the form with its errors comes back as a 200.
        return _row(request, plan, form=form)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/dashboard/task_done.html", {"task": plan, "form": form}, status=status
    )


@login_required
@require_POST
def task_skip(request, pk):
    """Skip the task's step; the plan's next step becomes current."""
    plan = _task(request, pk)
    if not _has_open_step(plan):
        return _refused(request, plan, f"This plan is {plan.status}: it has no step to skip.")
    if not _shown_step_is_current(request, plan):
        return _refused(request, plan, "This task has moved on; nothing was skipped.")
    number = plan.current_step.step_number
    try:
        services.plan_skip(plan=plan, actor=request.user)
    except CadenceError as exc:
        return _refused(request, plan, exc.message)
    return _finished(request, plan, f"Step {number} skipped. {_what_next(request, plan)}")


def _snooze_until(choice: str, request) -> datetime.datetime | None:
    now = timezone.now()
    if choice == "hour":
        return now + datetime.timedelta(hours=1)
    if choice == "tomorrow":
        tomorrow = local_today(request.user, now) + datetime.timedelta(days=1)
        return local_instant(request.user, tomorrow, TOMORROW_AT)
    return None


@login_required
@require_POST
def task_snooze(request, pk):
    """Deliver the task's reminder again in an hour or tomorrow at 9:00 (local time).

    The scheduler makes a step's reminder shortly before it is due; before then there is
    nothing to snooze, and the user is told so rather than a reminder being made early."""
    plan = _task(request, pk)
    until = _snooze_until(request.POST.get("until", ""), request)
    if until is None:
        return _refused(request, plan, "Choose how long to snooze for.")
    if not _has_open_step(plan) or not _shown_step_is_current(request, plan):
        return _refused(request, plan, "This task has moved on; there is nothing to snooze.")
    reminder = (
        reminder_list(viewer=request.user)
        .filter(plan=plan, step_id=plan.current_step_id, due_at=plan.next_step_due_date)
        .exclude(status=ReminderStatus.DISMISSED)
        .select_related("user")
        .first()
    )
    if reminder is None:
        return _refused(
            request, plan, "There is no reminder for this step yet, so nothing to snooze."
        )
    try:
        reminder_snooze(reminder=reminder, actor=request.user, until=until)
    except CadenceError as exc:
        return _refused(request, plan, exc.message)
    notice = f"Reminder snoozed until {local_text(request.user, until)}."
    if request.htmx:
        return _row(request, plan, notice=notice)
    messages.success(request, notice)
    return redirect("web-dashboard")


urlpatterns = [
    path("", dashboard, name="web-dashboard"),
    path("tasks/<uuid:pk>/", task_row, name="web-task"),
    path("tasks/<uuid:pk>/done/", task_done, name="web-task-done"),
    path("tasks/<uuid:pk>/skip/", task_skip, name="web-task-skip"),
    path("tasks/<uuid:pk>/snooze/", task_snooze, name="web-task-snooze"),
]
