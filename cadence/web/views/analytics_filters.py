"""The Analytics pages' filters: the form (a period in the viewer's calendar, and the team,
person and strategy a viewer may narrow to), its defaults and bounds, and what a page carries
from it to its tabs, links and CSV download. The names are the CSV API's, so a page's address
and its "Download CSV" link read the same filters.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import team_list, user_list
from cadence.analytics import reports
from cadence.analytics.types import ReportFilter
from cadence.scheduling.zones import local_to_utc, resolve_zone, to_local
from cadence.strategies.selectors import strategy_list

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


def _day_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD.", "required": "Enter a date."},
    )


def _list_field(label: str, *, empty_label: str, plural: str) -> ListChoiceField:
    """An optional choice from a list the form fills in for its viewer."""
    return ListChoiceField(
        label=label,
        queryset=None,
        required=False,
        empty_label=empty_label,
        error_messages={"invalid_choice": f"Choose one of the {plural} in the list."},
    )


class ReportFilterForm(forms.Form):
    """The period (dates in the viewer's calendar, both days included) and the narrowing a
    viewer may choose: reps see only their own plans, so they get neither team nor person."""

    start = _day_field("From")
    end = _day_field("To")
    team_id = _list_field("Team", empty_label="All teams", plural="teams")
    user_id = _list_field("Person", empty_label="Everyone", plural="people")
    strategy_id = _list_field("Strategy", empty_label="All strategies", plural="strategies")
    grace_hours = forms.IntegerField(
        label="Grace period (hours)",
        required=False,
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"), f"Enter whole hours from 0 to {MAX_GRACE_HOURS}."
        ),
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
