"""The Analytics section: strategy performance, a strategy's step funnel, adherence to the plan
schedule and automated email outcomes, each as a chart and as the same numbers in tables.

Every number comes from ``cadence.analytics.reports``, which scopes by the viewer (reps see
their own plans, managers their team's, admins everyone's); these views only read the filters,
format and draw. The filters are GET parameters with the CSV API's names, so a page can be
bookmarked and its "Download CSV" link asks the API for the same rows.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import team_list, user_list
from cadence.analytics import reports
from cadence.analytics.types import Funnel, ReportFilter
from cadence.core.errors import CadenceError
from cadence.plans.choices import ExitReason
from cadence.scheduling.zones import local_to_utc, resolve_zone, to_local
from cadence.strategies.selectors import strategy_list
from cadence.web.forms import show_service_error

#: The period a page shows when none is chosen: the last year, today included.
DEFAULT_DAYS = 365
# Bounds that keep a period's midnights within what datetimes hold in any time zone, and the
# adherence trend (one point a week) within what a chart can show.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2999, 12, 31)
MAX_DAYS = 10 * 365
MAX_GRACE_HOURS = reports.MAX_GRACE_HOURS
#: The filters the tabs and the CSV links carry along, in the API's names.
FILTER_KEYS = ("start", "end", "team_id", "user_id", "strategy_id", "grace_hours")
#: From this many hours on a duration reads better in days.
DAYS_FROM_HOURS = 48
#: Strategies named in a chart's text alternative; the table below it has them all.
SUMMARY_ITEMS = 5
#: What a table shows where there is no number (nothing to divide by, nothing measured).
NO_VALUE = "\N{EM DASH}"
EXIT_LABELS = dict(ExitReason.choices) | {"aborted": "Aborted"}


class ListChoiceField(forms.ModelChoiceField):
    """A choice from a list by primary key: a malformed key is the same mistake as a key not in
    the list, and says so in the list's words rather than "not a valid UUID"."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from exc


class ReportFilterForm(forms.Form):
    """The period (dates in the viewer's calendar, both days included) and the narrowing a
    viewer may choose: reps see only their own plans, so they get neither team nor person."""

    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD.", "required": "Enter a date."},
    )
    end = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD.", "required": "Enter a date."},
    )
    team_id = ListChoiceField(
        label="Team",
        queryset=None,
        required=False,
        empty_label="All teams",
        error_messages={"invalid_choice": "Choose one of the teams in the list."},
    )
    user_id = ListChoiceField(
        label="Person",
        queryset=None,
        required=False,
        empty_label="Everyone",
        error_messages={"invalid_choice": "Choose one of the people in the list."},
    )
    strategy_id = ListChoiceField(
        label="Strategy",
        queryset=None,
        required=False,
        empty_label="All strategies",
        error_messages={"invalid_choice": "Choose one of the strategies in the list."},
    )
    grace_hours = forms.IntegerField(
        label="Grace period (hours)",
        required=False,
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        error_messages={
            "invalid": f"Enter whole hours from 0 to {MAX_GRACE_HOURS}.",
            "min_value": f"Enter whole hours from 0 to {MAX_GRACE_HOURS}.",
            "max_value": f"Enter whole hours from 0 to {MAX_GRACE_HOURS}.",
        },
    )

    def __init__(
        self,
        data,
        *,
        viewer: User,
        with_grace: bool = False,
        strategy_required: bool = False,
        strategy_prompt: str = "All strategies",
    ):
        super().__init__(data)
        self.viewer = viewer
        if viewer.is_admin or viewer.is_manager:
            self.fields["team_id"].queryset = team_list(viewer=viewer).order_by("name")
            self.fields["user_id"].queryset = user_list(viewer=viewer).order_by(
                "display_name", "first_name", "last_name", "username"
            )
            self.fields["user_id"].label_from_instance = _person_label
        else:
            del self.fields["team_id"]
            del self.fields["user_id"]
        strategies = self.fields["strategy_id"]
        strategies.queryset = strategy_list(viewer=viewer).order_by("name")
        strategies.required = strategy_required
        strategies.empty_label = None if strategy_required else strategy_prompt
        # Validation accepts any strategy the viewer may see, but the list offers the templates
        # only: every custom plan has its own strategy, and an admin's list would run to
        # thousands of them. A custom strategy already chosen (from a table's link) stays.
        strategies.widget.choices = self._strategy_choices(strategies)
        if with_grace:
            default = reports.grace_period() / datetime.timedelta(hours=1)
            grace = self.fields["grace_hours"]
            grace.widget.attrs["placeholder"] = f"{default:g}"
            grace.help_text = (
                f"How late a step may be done and still count as on time; empty means "
                f"{default:g} hours."
            )
        else:
            del self.fields["grace_hours"]

    def _strategy_choices(self, field) -> list[tuple[str, str]]:
        chosen = Q(is_template=True)
        with contextlib.suppress(ValueError):
            chosen |= Q(pk=uuid.UUID(str(self.data.get("strategy_id") or "")))
        rows = strategy_list(viewer=self.viewer).filter(chosen).order_by("name")
        choices = [] if field.empty_label is None else [("", field.empty_label)]
        return choices + [(str(pk), name) for pk, name in rows.values_list("pk", "name")]

    def _clean_day(self, name: str) -> datetime.date:
        day = self.cleaned_data[name]
        if not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                f"Enter a date from {EARLIEST.year} to {LATEST.year}.", code="out_of_range"
            )
        return day

    def clean_start(self) -> datetime.date:
        return self._clean_day("start")

    def clean_end(self) -> datetime.date:
        return self._clean_day("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        elif start and end and (end - start).days >= MAX_DAYS:
            self.add_error("start", f"Choose a period of at most {MAX_DAYS // 365} years.")
        return cleaned

    def report_filter(self) -> ReportFilter:
        """The period as the reports take it: ``[start, end)`` in UTC, from the start of the
        first day to the start of the day after the last, in the viewer's time zone."""
        zone = resolve_zone(self.viewer.time_zone)
        data = self.cleaned_data

        def midnight(day: datetime.date) -> datetime.datetime:
            return local_to_utc(datetime.datetime.combine(day, datetime.time.min), zone)

        def key(name: str) -> uuid.UUID | None:
            value = data.get(name)
            return value.pk if value is not None else None

        return ReportFilter(
            start=midnight(data["start"]),
            end=midnight(data["end"] + datetime.timedelta(days=1)),
            team_id=key("team_id"),
            user_id=key("user_id"),
            strategy_id=key("strategy_id"),
        )


def _person_label(user: User) -> str:
    return f"{user} ({user.team.name})" if user.team_id else str(user)


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


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- Shared page machinery ------------------------------------------------------------------------


@dataclass
class Filters:
    """A page's filter form and what it gives the page: the report filter when the form is
    valid, and the filters as given, which the tabs, the links and the CSV download carry."""

    form: ReportFilterForm
    report: ReportFilter | None
    query: dict[str, str]

    def url(self, base: str) -> str:
        return f"{base}?{urlencode(self.query)}" if self.query else base

    def csv_url(self, base: str) -> str:
        """The same rows from the CSV API: the period as the page read it, as instants (the API
        reads a bare date as UTC midnight and its end as exclusive, the page the viewer's days
        with the last one included), and only the filters this page reads."""
        params = {"start": self.report.start.isoformat(), "end": self.report.end.isoformat()}
        params |= {
            key: self.form.data[key]
            for key in FILTER_KEYS
            if key in self.form.fields and key not in params and self.form.data.get(key)
        }
        return f"{base}?{urlencode(params | {'format': 'csv'})}"


def _default_period(viewer: User) -> tuple[datetime.date, datetime.date]:
    today = to_local(timezone.now(), resolve_zone(viewer.time_zone)).date()
    return today - datetime.timedelta(days=DEFAULT_DAYS - 1), today


def read_filters(
    request: HttpRequest, *, strategy=None, with_grace=False, **form_options
) -> Filters:
    """The GET filters as a bound form, with the default period filled in where none is given.
    A page about one strategy shows that one whatever ``strategy_id`` says; links carry only
    what the viewer chose, so the tabs do not narrow the other reports to this strategy."""
    given = {key: request.GET[key] for key in FILTER_KEYS if request.GET.get(key)}
    data = dict(given)
    start, end = _default_period(request.user)
    data.setdefault("start", start.isoformat())
    data.setdefault("end", end.isoformat())
    if strategy is not None:
        data["strategy_id"] = str(strategy.pk)
    form = ReportFilterForm(
        data,
        viewer=request.user,
        with_grace=with_grace,
        strategy_required=strategy is not None,
        **form_options,
    )
    if "user_id" not in form.fields:
        given = {key: value for key, value in given.items() if key not in ("team_id", "user_id")}
    report = form.report_filter() if form.is_valid() else None
    return Filters(form=form, report=report, query=given)


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


def _adherence_chart(weeks) -> tuple[dict, str]:
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
    overall = percent(_ratio(sum(week.on_time for week in weeks), sum(week.due for week in weeks)))
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
        data, label = _adherence_chart(result.weekly)
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
            "reply_rate": percent(_ratio(row.replied, row.sent)),
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
