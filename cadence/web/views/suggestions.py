"""Follow-up suggestions on the web: acting on them (accept, dismiss, close the task an accepted
one made), the full list, and the boxes the dashboard, plan and contact pages show.

Actions work as htmx requests, which swap the suggestion's row for a short confirmation (or the
refusal, with a 200 so htmx swaps it in), and as plain form posts, which go back to the page
they came from with a message. Every rule lives in ``cadence.suggestions.actions``; a
suggestion the viewer may not see is a 404.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from cadence.accounts.models import User
from cadence.activities.choices import ReminderStatus
from cadence.core.errors import CadenceError
from cadence.suggestions import actions
from cadence.suggestions.choices import SuggestionStatus
from cadence.suggestions.models import Suggestion
from cadence.suggestions.selectors import (
    current_run,
    finding_list,
    run_list,
    suggestion_list,
    suggestions_open,
)
from cadence.web.localtime import day_start, local_text, local_today
from cadence.web.views.responses import next_url, render_list, status_tabs

#: Rows the dashboard lists per section; the rest are in the full list.
SHOWN = 20
PAGE_SIZE = 25
#: Where an action's row sits, which decides what its htmx answer carries along.
PLACES = ("dashboard", "lead", "plan", "list")
TABS = [
    (SuggestionStatus.OPEN.value, "Open"),
    (SuggestionStatus.ACCEPTED.value, "Accepted"),
    (SuggestionStatus.DISMISSED.value, "Dismissed"),
    (SuggestionStatus.WITHDRAWN.value, "Withdrawn"),
    ("", "All"),
]


class AcceptForm(forms.Form):
    """An optional day for the task, in the user's calendar; empty keeps the suggested time."""

    due_date = forms.DateField(
        label="Due on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, suggestion: Suggestion, user: User, **kwargs):
        # Every row of a page has this form: ids must stay unique.
        kwargs.setdefault("auto_id", f"suggestion-{suggestion.pk}-%s")
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_due_date(self) -> datetime.date | None:
        day = self.cleaned_data["due_date"]
        if day is not None and day < local_today(self.user):
            raise forms.ValidationError("Choose today or a later day.")
        return day

    def due_at(self) -> datetime.datetime | None:
        """The chosen day at the start of the user's working day, and never in the past."""
        day = self.cleaned_data.get("due_date")
        if day is None:
            return None
        return max(day_start(self.user, day), timezone.now())


# -- Selections the pages share -------------------------------------------------------------------


def open_tasks(viewer: User) -> QuerySet[Suggestion]:
    """The viewer's accepted suggestions whose task (reminder) is still open, soonest first."""
    return (
        suggestion_list(viewer=viewer)
        .filter(user=viewer, status=SuggestionStatus.ACCEPTED, reminder__isnull=False)
        .exclude(reminder__status=ReminderStatus.DISMISSED)
        .order_by("reminder__due_at", "suggestion_id")
    )


def dashboard_context(user: User) -> dict:
    """The dashboard's two sections in two queries: one more row than shown tells whether the
    full list has more, without counting."""
    pending = suggestions_open(viewer=user, limit=SHOWN + 1)
    tasks = list(open_tasks(user)[: SHOWN + 1])
    return {
        "suggestions": pending[:SHOWN],
        "more_suggestions": len(pending) > SHOWN,
        "followups": tasks[:SHOWN],
        "more_followups": len(tasks) > SHOWN,
    }


def task_is_open(suggestion: Suggestion) -> bool:
    return suggestion.reminder is not None and suggestion.reminder.status != (
        ReminderStatus.DISMISSED
    )


# -- Helpers --------------------------------------------------------------------------------------


def _suggestion_or_404(request: HttpRequest, pk) -> Suggestion:
    """A suggestion the viewer may see; another team's is a 404, not a 403."""
    return get_object_or_404(suggestion_list(viewer=request.user), pk=pk)


def _next_url(request: HttpRequest) -> str:
    return next_url(request, reverse("web-dashboard"))


def _place(request: HttpRequest) -> str:
    place = request.POST.get("place", "")
    return place if place in PLACES else "list"


def _row_context(request: HttpRequest, suggestion: Suggestion, **extra) -> dict:
    return {
        "s": suggestion,
        "place": _place(request),
        "next": _next_url(request),
        **extra,
    }


def _row(request: HttpRequest, suggestion: Suggestion, *, status: int = 200, **extra):
    return render(
        request,
        "web/suggestions/partials/suggestion.html",
        _row_context(request, suggestion, **extra),
        status=status,
    )


def _refused(request: HttpRequest, pk, message: str) -> HttpResponse:
    """A refusal: in the row for htmx (as it stands now), as a message otherwise."""
    if request.htmx:
        return _row(request, _suggestion_or_404(request, pk), error=message)
    messages.error(request, message)
    return redirect(_next_url(request))


def _accepted_text(request: HttpRequest, suggestion: Suggestion) -> str:
    if suggestion.step_id is not None:
        return f"Added “{suggestion.title}” as the plan's next step."
    due = local_text(request.user, suggestion.reminder.due_at)
    return f"Accepted: a task is due {due}."


# -- Actions --------------------------------------------------------------------------------------


@login_required
@require_POST
def suggestion_accept(request, pk):
    """Make the suggestion a task (or, with ``as_step``, its custom plan's next step)."""
    suggestion = _suggestion_or_404(request, pk)
    form = AcceptForm(request.POST, suggestion=suggestion, user=request.user)
    as_step = request.POST.get("as_step") == "1"
    if not form.is_valid():
        if request.htmx:
            # htmx swaps only successful responses: the row with its error comes back as a 200.
            return _row(request, suggestion, form=form)
        context = _row_context(request, suggestion, form=form)
        return render(request, "web/suggestions/accept.html", context, status=400)
    try:
        suggestion = actions.suggestion_accept(
            suggestion=suggestion, actor=request.user, due_at=form.due_at(), as_step=as_step
        )
    except CadenceError as exc:
        return _refused(request, pk, exc.message)
    notice = _accepted_text(request, suggestion)
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_next_url(request))
    if as_step:
        # The plan's timeline changed under the row: show the whole page again.
        messages.success(request, notice)
        return HttpResponseClientRefresh()
    context = {"done": notice}
    if _place(request) == "dashboard":
        context["followups_oob"] = dashboard_context(request.user)
    return _row(request, _suggestion_or_404(request, pk), **context)


@login_required
@require_POST
def suggestion_dismiss(request, pk):
    """Dismiss the suggestion: it is not made again for the same cause."""
    suggestion = _suggestion_or_404(request, pk)
    try:
        suggestion = actions.suggestion_dismiss(suggestion=suggestion, actor=request.user)
    except CadenceError as exc:
        return _refused(request, pk, exc.message)
    notice = f"Dismissed “{suggestion.title}”."
    if not request.htmx:
        messages.success(request, notice)
        return redirect(_next_url(request))
    return _row(request, _suggestion_or_404(request, pk), done=notice)


@login_required
@require_POST
def suggestion_task_done(request, pk):
    """Close the task an accepted suggestion made."""
    suggestion = _suggestion_or_404(request, pk)
    error = ""
    if not task_is_open(suggestion):
        error = "This task is already closed."
    else:
        try:
            actions.suggestion_task_done(suggestion=suggestion, actor=request.user)
        except CadenceError as exc:
            error = exc.message
    notice = "" if error else f"Done: “{suggestion.title}”."
    if request.htmx:
        template = (
            "web/suggestions/partials/task.html"
            if _place(request) == "dashboard"
            else "web/suggestions/partials/suggestion.html"
        )
        context = _row_context(request, _suggestion_or_404(request, pk), done=notice, error=error)
        return render(request, template, context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(_next_url(request))


# -- The full list --------------------------------------------------------------------------------


@login_required
def suggestions_page(request):
    """The viewer's suggestions (their team's for managers, everyone's for admins) by status."""
    status = request.GET.get("status", SuggestionStatus.OPEN.value)
    if status not in SuggestionStatus.values:
        status = ""
    queryset = suggestion_list(viewer=request.user)
    if status:
        queryset = queryset.filter(status=status)
    if status != SuggestionStatus.OPEN:
        queryset = queryset.order_by("-due_at", "suggestion_id")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    url = reverse("web-suggestions")
    context = {
        "page": page,
        "status": status,
        # All has a value of its own here: no status at all means the Open tab.
        "tabs": status_tabs(
            suggestion_list(viewer=request.user),
            TABS,
            lambda value: f"{url}?status={value or 'all'}",
        ),
        "next": request.get_full_path(),
    }
    return render_list(
        request, "web/suggestions/list.html", "web/suggestions/partials/results.html", context
    )


# -- Recommendations ------------------------------------------------------------------------------


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _p_text(value: float) -> str:
    """A p-value as people read it: tiny ones do not need their digits."""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def finding_rows(findings) -> list[dict]:
    return [
        {
            "finding": finding,
            "rate": _percent(finding.rate),
            "baseline": _percent(finding.baseline_rate),
            "interval": f"{_percent(finding.ci_low)} to {_percent(finding.ci_high)}",
            "ratio": f"{finding.ratio:.2f}",
            "q": _p_text(finding.q_value),
        }
        for finding in findings
    ]


@login_required
def recommendations_page(request):
    """What the newest finished history analysis read and found, with each finding's numbers."""
    run = current_run()
    latest = run_list().first()
    findings = list(finding_list())
    context = {
        "run": run,
        # A newer run still going, or one that failed, is worth a line above the current one.
        "latest": latest if latest is not None and latest != run else None,
        "rows": finding_rows(findings),
    }
    return render(request, "web/suggestions/recommendations.html", context)


urlpatterns = [
    path("recommendations/", recommendations_page, name="web-recommendations"),
    path("suggestions/", suggestions_page, name="web-suggestions"),
    path("suggestions/<uuid:pk>/accept/", suggestion_accept, name="web-suggestion-accept"),
    path("suggestions/<uuid:pk>/dismiss/", suggestion_dismiss, name="web-suggestion-dismiss"),
    path("suggestions/<uuid:pk>/done/", suggestion_task_done, name="web-suggestion-done"),
]
