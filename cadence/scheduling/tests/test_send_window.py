"""fit_send_window: the earliest instant inside a contact's local send window."""

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.scheduling.due import fit_send_window
from cadence.scheduling.tests import oracle
from cadence.scheduling.tests.support import (
    BERLIN,
    NEW_YORK,
    ONE_MICROSECOND,
    TOKYO,
    ZONES,
    countries,
    utc,
    wall_clock,
    zoned_instants,
)


class TestFitSendWindowExamples:
    window = {"window_start": time(8, 0), "window_end": time(17, 0)}

    def test_early_due_waits_for_the_window_to_open(self):
        """03:00 in Tokyo is pushed to 08:00 Tokyo the same day."""
        due = datetime(2026, 6, 3, 3, 0, tzinfo=TOKYO)
        result = fit_send_window(due, **self.window, time_zone="Asia/Tokyo")
        assert result == datetime(2026, 6, 3, 8, 0, tzinfo=TOKYO)
        assert result.tzinfo is UTC

    def test_due_inside_the_window_is_unchanged(self):
        due = datetime(2026, 6, 3, 11, 17, 5, tzinfo=TOKYO)
        result = fit_send_window(due, **self.window, time_zone="Asia/Tokyo")
        assert result == due
        assert result.tzinfo is UTC

    def test_window_start_is_inside_and_window_end_is_not(self):
        start = datetime(2026, 6, 3, 8, 0, tzinfo=TOKYO)
        end = datetime(2026, 6, 3, 17, 0, tzinfo=TOKYO)
        assert fit_send_window(start, **self.window, time_zone="Asia/Tokyo") == start
        assert fit_send_window(end, **self.window, time_zone="Asia/Tokyo") == start + timedelta(
            days=1
        )

    def test_due_after_the_window_goes_to_next_day_start(self):
        due = datetime(2026, 6, 3, 18, 30, tzinfo=NEW_YORK)
        result = fit_send_window(due, **self.window, time_zone="America/New_York")
        assert result == datetime(2026, 6, 4, 8, 0, tzinfo=NEW_YORK)

    def test_window_is_in_the_contacts_zone(self):
        """09:00 UTC is 18:00 in Tokyo, after the window: next Tokyo morning, 23:00 UTC."""
        result = fit_send_window(utc(2026, 6, 3, 9, 0), **self.window, time_zone="Asia/Tokyo")
        assert result == utc(2026, 6, 3, 23, 0)

    def test_business_day_window_skips_the_weekend(self):
        due = datetime(2026, 1, 9, 17, 30, tzinfo=BERLIN)  # Friday evening
        result = fit_send_window(due, **self.window, time_zone="Europe/Berlin", business_days=True)
        assert result == datetime(2026, 1, 12, 8, 0, tzinfo=BERLIN)
        # Without business days the window is open on Saturday.
        assert fit_send_window(due, **self.window, time_zone="Europe/Berlin") == datetime(
            2026, 1, 10, 8, 0, tzinfo=BERLIN
        )

    def test_business_day_window_skips_holidays(self):
        """Thu 24 Dec 2026 evening in Germany: next window is Mon 28 Dec 08:00."""
        due = datetime(2026, 12, 24, 18, 0, tzinfo=BERLIN)
        result = fit_send_window(
            due, **self.window, time_zone="Europe/Berlin", business_days=True, country="DE"
        )
        assert result == datetime(2026, 12, 28, 8, 0, tzinfo=BERLIN)

    def test_no_window_leaves_due_unchanged(self):
        due = datetime(2026, 1, 10, 3, 0, tzinfo=BERLIN)
        result = fit_send_window(
            due, window_start=None, window_end=None, time_zone="Europe/Berlin", business_days=True
        )
        assert result == due
        assert result.tzinfo is UTC

    def test_open_ended_windows(self):
        """A missing start means from midnight; a missing end means to the end of the day."""
        due = datetime(2026, 6, 3, 18, 0, tzinfo=BERLIN)
        only_start = fit_send_window(
            due, window_start=time(8), window_end=None, time_zone="Europe/Berlin"
        )
        only_end = fit_send_window(
            due, window_start=None, window_end=time(12), time_zone="Europe/Berlin"
        )
        assert only_start == due
        assert only_end == datetime(2026, 6, 4, 0, 0, tzinfo=BERLIN)

    def test_window_opening_in_a_gap_opens_when_the_gap_ends(self):
        """A 02:30-04:00 window on Berlin's spring-forward day first holds 03:00 CEST."""
        due = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
        result = fit_send_window(
            due, window_start=time(2, 30), window_end=time(4, 0), time_zone="Europe/Berlin"
        )
        assert result == utc(2026, 3, 29, 1, 0)
        assert wall_clock(result, BERLIN) == datetime(2026, 3, 29, 3, 0)

    def test_repeated_hour_reenters_the_window(self):
        """After 01:25 EDT on fall-back day the clock returns to 01:00 EST, inside 01:00-01:20."""
        due = datetime(2026, 11, 1, 1, 25, tzinfo=NEW_YORK)  # fold=0: EDT
        result = fit_send_window(
            due, window_start=time(1, 0), window_end=time(1, 20), time_zone="America/New_York"
        )
        assert result == utc(2026, 11, 1, 6, 0)  # 01:00 EST

    @pytest.mark.parametrize(("start", "end"), [(time(17), time(8)), (time(8), time(8))])
    def test_empty_or_reversed_window_is_refused(self, start, end):
        with pytest.raises(ValueError):
            fit_send_window(utc(2026, 1, 1), window_start=start, window_end=end, time_zone="UTC")

    def test_naive_due_is_refused(self):
        with pytest.raises(ValueError):
            fit_send_window(datetime(2026, 1, 1), **self.window, time_zone="UTC")


@st.composite
def windows(draw) -> tuple[time | None, time | None]:
    """Windows on a five-minute grid; either end may be open, but not both."""
    slot = 5  # minutes
    slots_per_day = 24 * 60 // slot
    first = draw(st.integers(min_value=0, max_value=slots_per_day - 1))
    last = draw(st.integers(min_value=first + 1, max_value=slots_per_day))
    start = time(*divmod(first * slot, 60))
    end = None if last == slots_per_day else time(*divmod(last * slot, 60))
    if end is not None and first == 0 and draw(st.booleans()):
        start = None
    return start, end


class TestFitSendWindowProperties:
    @settings(max_examples=250, deadline=None)
    @given(
        zoned=zoned_instants(),
        window=windows(),
        business_days=st.booleans(),
        country=countries,
    )
    def test_earliest_instant_inside_the_window(self, zoned, window, business_days, country):
        """The result is in the window, not before ``due``, and no earlier instant qualifies.

        Checked against a brute-force scan: window openings (a start time, or a clock change
        into the window) fall on the five-minute UTC grid for these zones and dates, so
        scanning that grid between ``due`` and the result finds any earlier opening.
        """
        zone_name, due = zoned
        start, end = window
        zone = ZONES[zone_name]

        def inside(instant: datetime) -> bool:
            local = wall_clock(instant, zone)
            return (
                (start is None or start <= local.time())
                and (end is None or local.time() < end)
                and (not business_days or oracle.is_busday(local.date(), country))
            )

        result = fit_send_window(
            due,
            window_start=start,
            window_end=end,
            time_zone=zone_name,
            business_days=business_days,
            country=country,
        )
        assert result.tzinfo is UTC
        assert result >= due
        assert inside(result)
        if result == due.astimezone(UTC):  # in UTC: see PEP 495 on gaps and overlaps
            return
        assert not inside(due)
        assert not inside(result - ONE_MICROSECOND)
        grid = timedelta(minutes=5)
        epoch = utc(2000, 1, 1)
        probe = epoch + -((epoch - due) // grid) * grid  # first grid point at or after due
        while probe < result:
            assert not inside(probe), probe
            probe += grid
