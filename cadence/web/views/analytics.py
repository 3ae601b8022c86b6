"""The Analytics section: strategy performance, a strategy's step funnel, adherence to the plan
schedule and automated email outcomes, each as a chart and as the same numbers in tables.

Every number comes from ``cadence.analytics.reports``, which scopes by the viewer (reps see
their own plans, managers their team's, admins everyone's); these views only read the filters
(``analytics_filters``), format and draw. The filters are GET parameters with the CSV API's
names, so a page can be bookmarked and its "Download CSV" link asks the API for the same rows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from cadence.analytics import reports
from cadence.analytics.types import Funnel
from cadence.core.errors import CadenceError
from cadence.plans.choices import ExitReason
from cadence.strategies.selectors import strategy_list
from cadence.web.forms import show_service_error
from cadence.web.views.analytics_filters import FILTER_KEYS, Filters, read_filters

#: From this many hours on a duration reads better in days.
DAYS_FROM_HOURS = 48
#: Strategies named in a chart's text alternative; the table below it has them all.
SUMMARY_ITEMS = 5
#: What a table shows where there is no number (nothing to divide by, nothing measured).
NO_VALUE = "\N{EM DASH}"
EXIT_LABELS = dict(ExitReason.choices) | {"aborted": "Aborted"}


# -- Formatting -----------------------------------------------------------------------------------


def percent(rate: float | None) -> str:
    return NO_VALUE if rate is None else f"{rate * 100:.1f}%"


def interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"{low * 100:.1f}% to {high * 100:.1f}%"


def duration(hours: float | None) -> str:
    """Hours as people read them: days once it is two days or more."""
    if hours is None:
        return NO_VALUE
    if hours >= DAYS_FROM_HOURS:
        return f"{hours / 24:.1f} days"
    return f"{hours:.1f} h"


def number(value: float | None, digits: int = 1) -> str:
    return NO_VALUE if value is None else f"{value:.{digits}f}"


def exit_list(exits: dict[str, int]) -> list[dict]:
    """Exit counts by reason, biggest first, leaving out the reasons nobody left for."""
    rows = [
        {
            "label": EXIT_LABELS.get(reason, reason.replace("_", " ").capitalize()),
            "count": count,
        }
        for reason, count in exits.items()
        if count
    ]
    return sorted(rows, key=lambda row: (-row["count"], row["label"]))


# -- Shared page machinery ------------------------------------------------------------------------


TABS = [
    ("strategies", "Strategy performance", "web-analytics"),
    ("funnel", "Step funnel", "web-analytics-funnel-choose"),
    ("adherence", "Adherence", "web-analytics-adherence"),
    ("email", "Email outcomes", "web-analytics-email"),
]
CSV_PATHS = {
    "strategies": "/api/v1/analytics/strategies/",
    "adherence": "/api/v1/analytics/adherence/",
    "email": "/api/v1/analytics/email/",
}


def _tabs(request: HttpRequest, filters: Filters, current: str) -> list[dict]:
    return [
        {
            # The current tab is this page: a funnel's tab stays on its strategy.
            "url": filters.url(request.path if key == current else reverse(name)),
            "label": label,
            "current": key == current,
        }
        for key, label, name in TABS
    ]


def _page(
    request: HttpRequest, template: str, filters: Filters, tab: str, context: dict, *, csv: str
) -> HttpResponse:
    context = {
        "form": filters.form,
        "filters": filters,
        "tabs": _tabs(request, filters, tab),
        "csv_url": filters.csv_url(csv) if filters.report and csv else "",
        "show_people": "user_id" in filters.form.fields,
        "show_grace": "grace_hours" in filters.form.fields,
        **context,
    }
    # A filter the form refused is the request's fault: 400, with the page and its errors.
    status = 200 if filters.report is not None else 400
    return render(request, f"web/analytics/{template}", context, status=status)


def _run(filters: Filters, report, **kwargs):
    """The report, or None with its refusal shown on the form (the form checks what the
    reports check, so this is the rare case of a rule the form does not know yet)."""
    try:
        return report(filters=filters.report, **kwargs)
    except CadenceError as exc:
        show_service_error(filters.form, exc, fields={key: key for key in FILTER_KEYS})
        filters.report = None
        return None


# -- Strategy performance -------------------------------------------------------------------------


def _performance_rows(rows, filters: Filters) -> list[dict]:
    return [
        {
            "row": row,
            "funnel_url": (
                filters.url(reverse("web-analytics-funnel", args=[row.strategy_id]))
                if row.strategy_id
                else ""
            ),
            "rate": percent(row.conversion_rate),
            "interval": interval(row.ci_low, row.ci_high),
            "median_days": number(row.median_days_to_conversion),
            "exits": exit_list(row.exits),
        }
        for row in rows
    ]


def _conversion_chart(rows) -> tuple[dict, str]:
    """The conversion chart's data, and its text alternative (the highest rates in words)."""
    rated = [row for row in rows if row.conversion_rate is not None]
    data = {
        "labels": [row.strategy_name for row in rated],
        "rates": [round(row.conversion_rate * 100, 2) for row in rated],
        "low": [round((row.ci_low or 0) * 100, 2) for row in rated],
        "high": [round((row.ci_high or 0) * 100, 2) for row in rated],
        "started": [row.started for row in rated],
    }
    best = sorted(rated, key=lambda row: -row.conversion_rate)[:SUMMARY_ITEMS]
    named = "; ".join(
        f"{row.strategy_name} {percent(row.conversion_rate)} "
        f"(95% interval {interval(row.ci_low, row.ci_high)})"
        for row in best
    )
    more = f" and {len(rated) - len(best)} more" if len(rated) > len(best) else ""
    label = (
        f"Bar chart of the conversion rates of {len(rated)} strategies, highest first: "
        f"{named}{more}. The table below has every number."
    )
    return data, label


@login_required
def performance_page(request):
    """How each strategy converts the plans that started in the period."""
    filters = read_filters(request)
    context: dict = {"rows": [], "chart": None}
    rows = filters.report and _run(filters, reports.strategy_performance, viewer=request.user)
    if rows:
        data, label = _conversion_chart(rows)
        context = {
            "rows": _performance_rows(rows, filters),
            "chart": data if data["labels"] else None,
            "chart_label": label,
        }
    csv = CSV_PATHS["strategies"]
    return _page(request, "performance.html", filters, "strategies", context, csv=csv)


# -- Step funnel ----------------------------------------------------------------------------------


def _funnel_rows(funnel: Funnel) -> list[dict]:
    return [
        {
            "step": step,
            "exits": exit_list(step.exits),
            "reply_rate": percent(step.reply_rate),
            "median": duration(step.median_hours),
            "p90": duration(step.p90_hours),
            "late_share": percent(step.late_share),
        }
        for step in funnel.steps
    ]


def _funnel_chart(funnel: Funnel) -> tuple[dict, str]:
    steps = funnel.steps
    data = {
        "labels": [f"{step.step_number}. {step.activity_type}" for step in steps],
        "reached": [step.reached for step in steps],
        "completed": [step.completed for step in steps],
    }
    named = "; ".join(
        f"step {step.step_number} ({step.activity_type}) {step.reached} reached, "
        f"{step.completed} completed"
        for step in steps
    )
    label = (
        f"Bar chart of the plans that reached and completed each of the {len(steps)} steps of "
        f"{funnel.strategy_name}: {named}."
    )
    return data, label


@login_required
def funnel_page(request, pk):
    """Where the plans of one strategy get to, step by step, and where they leave."""
    # The report leaves the check to its caller: a strategy the viewer may not see (another
    # team's custom one) is not found, not forbidden.
    strategy = get_object_or_404(strategy_list(viewer=request.user), pk=pk)
    filters = read_filters(request, strategy=strategy, with_grace=True)
    context: dict = {"strategy": strategy, "funnel": None, "rows": [], "chart": None}
    funnel = filters.report and _run(
        filters,
        reports.step_funnel,
        viewer=request.user,
        strategy=strategy,
        grace_hours=filters.form.cleaned_data.get("grace_hours"),
    )
    if funnel:
        data, label = _funnel_chart(funnel)
        context |= {
            "funnel": funnel,
            "rows": _funnel_rows(funnel),
            "chart": data if funnel.steps else None,
            "chart_label": label,
        }
    # Choosing another strategy goes through the chooser, which sends the filters on to it.
    context["form_action"] = reverse("web-analytics-funnel-choose")
    csv = f"/api/v1/analytics/strategies/{strategy.pk}/funnel/"
    return _page(request, "funnel.html", filters, "funnel", context, csv=csv)


@login_required
def funnel_choose_page(request):
    """The funnel tab with no strategy yet: choose one (the choice comes back here and goes on
    to that strategy's funnel, with the other filters)."""
    filters = read_filters(request, with_grace=True, strategy_prompt="Choose a strategy")
    chosen = filters.form.cleaned_data.get("strategy_id") if filters.report else None
    if chosen is not None:
        query = {key: value for key, value in filters.query.items() if key != "strategy_id"}
        url = reverse("web-analytics-funnel", args=[chosen.pk])
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    context = {
        "strategy": None,
        "funnel": None,
        "rows": [],
        "chart": None,
        "performance_url": filters.url(reverse("web-analytics")),
    }
    return _page(request, "funnel.html", filters, "funnel", context, csv="")


# -- Adherence ------------------------------------------------------------------------------------


def _adherence_rows(rows) -> list[dict]:
    return [
        {
            "row": row,
            "lateness": duration(row.average_lateness_hours),
            "adherence": percent(row.adherence),
        }
        for row in rows
    ]


def _adherence_chart(result) -> tuple[dict, str]:
    weeks = result.weekly
    data = {
        "labels": [week.week_start.isoformat() for week in weeks],
        "adherence": [
            None if week.adherence is None else round(week.adherence * 100, 2) for week in weeks
        ],
        "due": [week.due for week in weeks],
    }
    rated = [week for week in weeks if week.adherence is not None]
    if not rated:
        return data, "Line chart of weekly adherence: no steps fell due in the period."
    low = min(rated, key=lambda week: week.adherence)
    high = max(rated, key=lambda week: week.adherence)
    overall = percent(result.overall)
    label = (
        f"Line chart of weekly adherence over {len(weeks)} weeks, {overall} on time overall: "
        f"lowest {percent(low.adherence)} in the week of {low.week_start:%-d %b %Y}, highest "
        f"{percent(high.adherence)} in the week of {high.week_start:%-d %b %Y}. The weekly "
        "table below has every number."
    )
    return data, label


@login_required
def adherence_page(request):
    """Whether planned steps were done on time, per person, per team and week by week."""
    filters = read_filters(request, with_grace=True)
    context: dict = {"users": [], "teams": [], "weeks": [], "chart": None}
    result = filters.report and _run(
        filters,
        reports.adherence,
        viewer=request.user,
        grace_hours=filters.form.cleaned_data.get("grace_hours"),
    )
    if result:
        data, label = _adherence_chart(result)
        context = {
            "users": _adherence_rows(result.users),
            "teams": _adherence_rows(result.teams),
            "weeks": [
                {"week": week, "adherence": percent(week.adherence)} for week in result.weekly
            ],
            "chart": data if result.weekly else None,
            "chart_label": label,
        }
    csv = CSV_PATHS["adherence"]
    return _page(request, "adherence.html", filters, "adherence", context, csv=csv)


# -- Email outcomes -------------------------------------------------------------------------------


def _email_rows(rows) -> list[dict]:
    return [
        {
            "row": row,
            "reply_rate": percent(row.reply_rate),
            # Consecutive rows of one strategy share its name cell.
            "first": index == 0
            or (rows[index - 1].strategy_id, rows[index - 1].strategy_name)
            != (row.strategy_id, row.strategy_name),
        }
        for index, row in enumerate(rows)
    ]


@login_required
def email_page(request):
    """What became of the automated emails, per strategy and step."""
    filters = read_filters(request)
    rows = filters.report and _run(filters, reports.email_outcomes, viewer=request.user)
    context = {"rows": _email_rows(rows or [])}
    return _page(request, "email.html", filters, "email", context, csv=CSV_PATHS["email"])


urlpatterns = [
    path("analytics/", performance_page, name="web-analytics"),
    path("analytics/funnel/", funnel_choose_page, name="web-analytics-funnel-choose"),
    path("analytics/strategies/<uuid:pk>/", funnel_page, name="web-analytics-funnel"),
    path("analytics/adherence/", adherence_page, name="web-analytics-adherence"),
    path("analytics/email/", email_page, name="web-analytics-email"),
]
