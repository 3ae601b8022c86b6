"""Business-day calendars: weekends plus the public holidays of a country.

Rules:

- A business day is a Monday to Friday that is not a public holiday of ``country``.
- ``country`` is an ISO 3166 code as understood by the ``holidays`` package (``"DE"``, ``"US"``,
  ...), matched case-insensitively. An empty or unknown code means "weekends only"; it never
  raises, because the code comes from user profiles and a typo must not stop the scheduler.
- Holidays are the package's default (public) category, including its "observed" days
  (e.g. a US holiday falling on a Saturday is observed on the Friday).
- ``add_business_days(day, n)`` follows ``numpy.busday_offset(day, n, roll="forward")``: a day
  that is not a business day first rolls forward to the next business day, then ``n`` business
  days are added.

Holiday sets are loaded once per (country, year) and cached, since the scheduler asks about the
same few countries and years for every plan.
"""

from __future__ import annotations

import warnings
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import holidays

__all__ = ["add_business_days", "is_business_day"]

_SATURDAY = 5  # date.weekday() of Saturday; Monday is 0


class _YearHolidays(NamedTuple):
    """The public holidays of one country in one calendar year."""

    dates: frozenset[date]
    # Ordinals of the holidays that fall on a weekday, sorted: only those remove business days,
    # and sorted ordinals let a range be counted with two bisections.
    weekday_ordinals: tuple[int, ...]


_NO_HOLIDAYS = _YearHolidays(frozenset(), ())


def _normalize_country(country: str) -> str:
    return (country or "").strip().upper()


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=4096)
def _year_holidays(country: str, year: int) -> _YearHolidays:
    """Holidays of an already normalized ``country`` in ``year``; empty when unknown."""
    # Whitelisting matters: country_holidays() resolves the code with getattr() on the package, so
    # arbitrary strings ("__init__", "HolidayBase") would otherwise reach unrelated attributes.
    if country not in _supported_countries():
        return _NO_HOLIDAYS
    try:
        with warnings.catch_warnings():
            # The package warns for years outside its data range; such a year simply has no
            # holidays (weekends only), which is the documented fallback, not an error.
            warnings.simplefilter("ignore")
            calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return _NO_HOLIDAYS
    # Observed days can in principle spill into a neighbouring year; keep each date in the
    # cache entry of its own year so lookups by day.year stay exact.
    dates = frozenset(day for day in calendar if day.year == year)
    weekday_ordinals = tuple(sorted(d.toordinal() for d in dates if d.weekday() < _SATURDAY))
    return _YearHolidays(dates, weekday_ordinals)


def _as_date(day: date) -> date:
    # A datetime is a date subclass but never equals a date, so it would silently miss every
    # holiday; which local date it means depends on a time zone the caller must choose.
    if isinstance(day, datetime):
        raise TypeError("expected a date, got a datetime; pass its local .date()")
    return day


def _is_business_day(day: date, country: str) -> bool:
    return day.weekday() < _SATURDAY and day not in _year_holidays(country, day.year).dates


def is_business_day(day: date, *, country: str = "") -> bool:
    """Whether ``day`` is a Monday to Friday that is not a public holiday of ``country``.

    An empty or unknown ``country`` counts weekends only.
    """
    return _is_business_day(_as_date(day), _normalize_country(country))


def _weekday_holidays_between(first: int, last: int, country: str) -> int:
    """Number of weekday holidays with ordinal in ``[first, last]``."""
    count = 0
    for year in range(date.fromordinal(first).year, date.fromordinal(last).year + 1):
        ordinals = _year_holidays(country, year).weekday_ordinals
        count += bisect_right(ordinals, last) - bisect_left(ordinals, first)
    return count


def _add_weekdays(day: date, days: int) -> date:
    """``day`` (a Monday to Friday) plus ``days`` weekdays, ignoring holidays, in O(1)."""
    weeks, rest = divmod(days, 5)
    offset = 7 * weeks + rest
    if day.weekday() + rest >= _SATURDAY:  # the remaining days cross a weekend
        offset += 2
    return day + timedelta(days=offset)


def add_business_days(day: date, days: int, *, country: str = "") -> date:
    """The business day ``days`` business days after ``day``, numpy ``roll="forward"`` style.

    A ``day`` that is not a business day first rolls forward to the next business day; then
    ``days`` business days are added. So ``days=0`` returns ``day`` itself when it is a business
    day, else the next one. Weekends and the public holidays of ``country`` are skipped (an empty
    or unknown ``country`` skips weekends only). ``days`` < 0 raises ``ValueError``.

    Runs in time proportional to the number of holidays crossed, not to ``days``.
    """
    day = _as_date(day)
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    country = _normalize_country(country)

    # Roll forward. Holiday runs are short, so a day-by-day walk is cheap here.
    while not _is_business_day(day, country):
        day += timedelta(days=1)

    # Jump over weekends arithmetically, then pay back the holidays that fell on weekdays inside
    # the jump by jumping again from where we landed. Invariant: `current` is a weekday and
    # (day, current] holds exactly `days - remaining` business days. Each round only has to cover
    # the holidays of the previous one, so this converges in a handful of rounds.
    current, remaining = day, days
    while remaining:
        target = _add_weekdays(current, remaining)
        remaining = _weekday_holidays_between(current.toordinal() + 1, target.toordinal(), country)
        current = target
    return current
