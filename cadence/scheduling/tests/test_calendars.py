"""Business days: weekends, public holidays per country, numpy-style roll-forward offsets."""

import time
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.scheduling import calendars
from cadence.scheduling.calendars import add_business_days, is_business_day
from cadence.scheduling.tests import oracle

FRIDAY = date(2026, 1, 9)
SATURDAY = date(2026, 1, 10)
MONDAY = date(2026, 1, 12)

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))
countries = st.sampled_from(oracle.COUNTRIES)


class TestIsBusinessDay:
    def test_weekdays_are_business_days_and_weekends_are_not(self):
        """Monday to Friday count, Saturday and Sunday do not."""
        week = [MONDAY + timedelta(days=i) for i in range(7)]
        assert [is_business_day(day) for day in week] == [True] * 5 + [False] * 2

    def test_public_holidays_of_the_country_are_not_business_days(self):
        """Christmas Day and St Stephen's Day 2026 (Fri, Sat) are German holidays."""
        assert not is_business_day(date(2026, 12, 25), country="DE")
        assert is_business_day(date(2026, 12, 25))  # no country: weekends only
        assert not is_business_day(date(2026, 11, 26), country="US")  # Thanksgiving

    def test_country_codes_are_case_and_space_insensitive(self):
        """User-entered codes like " de " work like "DE"."""
        assert not is_business_day(date(2026, 12, 25), country=" de ")

    @pytest.mark.parametrize("country", ["", "XX", "Germany", "__init__", "HolidayBase", "../x"])
    def test_empty_or_unknown_country_means_weekends_only(self, country):
        """Unknown codes never raise; only weekends are skipped."""
        assert is_business_day(date(2026, 12, 25), country=country)
        assert not is_business_day(SATURDAY, country=country)

    def test_years_without_holiday_data_fall_back_to_weekends(self):
        """A year outside the package's data range has no holidays rather than an error."""
        assert is_business_day(date(1800, 12, 25), country="IN")  # a Thursday

    def test_datetime_is_refused(self):
        """A datetime's date depends on a time zone, so the caller must pick it."""
        with pytest.raises(TypeError):
            is_business_day(datetime(2026, 1, 9, 12))

    def test_holiday_lookups_are_cached_per_country_and_year(self):
        """Repeated questions about the same country and year do not reload holidays."""
        is_business_day(date(2026, 5, 1), country="FR")
        before = calendars._year_holidays.cache_info()
        for day in range(1, 29):
            is_business_day(date(2026, 2, day), country="FR")
        after = calendars._year_holidays.cache_info()
        assert after.misses == before.misses
        assert after.hits > before.hits

    @settings(max_examples=300, deadline=None)
    @given(day=dates, country=countries)
    def test_agrees_with_numpy(self, day, country):
        """Same answer as numpy.is_busday with the same holiday list."""
        assert is_business_day(day, country=country) == oracle.is_busday(day, country)


class TestAddBusinessDays:
    def test_friday_plus_one_is_monday(self):
        assert add_business_days(FRIDAY, 1) == MONDAY

    def test_zero_days_keeps_a_business_day(self):
        assert add_business_days(FRIDAY, 0) == FRIDAY

    def test_weekend_rolls_forward_before_adding(self):
        """Saturday + 0 is Monday; Saturday + 1 is Tuesday (roll, then offset)."""
        assert add_business_days(SATURDAY, 0) == MONDAY
        assert add_business_days(SATURDAY, 1) == MONDAY + timedelta(days=1)

    def test_german_christmas_is_skipped(self):
        """Thu 2026-12-24 + 1 in Germany skips Fri 25 (holiday) and the weekend: Mon 28."""
        assert add_business_days(date(2026, 12, 24), 1, country="DE") == date(2026, 12, 28)
        assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 25)

    def test_german_holiday_rolls_forward(self):
        """Starting on a holiday rolls to the next business day first."""
        assert add_business_days(date(2026, 12, 25), 0, country="DE") == date(2026, 12, 28)

    def test_us_thanksgiving_is_skipped(self):
        """Wed 2026-11-25 + 1 in the US skips Thanksgiving (Thu 26): Fri 27."""
        assert add_business_days(date(2026, 11, 25), 1, country="US") == date(2026, 11, 27)

    def test_crosses_years_with_holidays_on_both_sides(self):
        """Ten years of German business days land where numpy says."""
        start = date(2026, 1, 2)
        assert add_business_days(start, 2500, country="DE") == oracle.busday_offset(
            start, 2500, "DE"
        )

    def test_negative_days_are_refused(self):
        with pytest.raises(ValueError):
            add_business_days(FRIDAY, -1)

    def test_ten_years_of_business_days_is_fast(self):
        """3650 business days with holidays takes microseconds once holidays are cached."""
        add_business_days(date(2026, 1, 2), 3650, country="DE")  # warm the cache
        runs = 1000
        started = time.perf_counter()
        for _ in range(runs):
            add_business_days(date(2026, 1, 2), 3650, country="DE")
        per_call = (time.perf_counter() - started) / runs
        assert per_call < 1e-3  # measured ~10 microseconds; generous for slow CI machines

    @settings(max_examples=400, deadline=None)
    @given(day=dates, days=st.integers(min_value=0, max_value=400), country=countries)
    def test_agrees_with_numpy_busday_offset(self, day, days, country):
        """Same date as numpy.busday_offset(day, days, roll="forward", holidays=...)."""
        assert add_business_days(day, days, country=country) == oracle.busday_offset(
            day, days, country
        )

    @settings(max_examples=200, deadline=None)
    @given(day=dates, days=st.integers(min_value=0, max_value=400), country=countries)
    def test_result_is_a_business_day_exactly_days_after_the_roll(self, day, days, country):
        """The result is a business day, with exactly ``days`` business days after the roll."""
        result = add_business_days(day, days, country=country)
        rolled = add_business_days(day, 0, country=country)
        assert oracle.is_busday(result, country)
        assert result >= rolled >= day
        assert oracle.busday_count(rolled, result, country) == days

    @settings(max_examples=200, deadline=None)
    @given(
        day=dates,
        days=st.integers(min_value=0, max_value=400),
        more=st.integers(min_value=0, max_value=400),
        country=countries,
    )
    def test_monotonic_and_additive(self, day, days, more, country):
        """More days never give an earlier date; offsets compose from a business day."""
        first = add_business_days(day, days, country=country)
        second = add_business_days(day, days + more, country=country)
        assert first <= second
        assert add_business_days(first, more, country=country) == second
