"""local_day_bounds: the UTC span of a local calendar day."""

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings

from cadence.scheduling.due import local_day_bounds
from cadence.scheduling.tests.support import (
    APIA,
    BERLIN,
    ONE_MICROSECOND,
    SAO_PAULO,
    ZONES,
    utc,
    wall_clock,
    zoned_instants,
)


class TestLocalDayBounds:
    def test_utc_day(self):
        assert local_day_bounds(utc(2026, 6, 3, 12, 34), time_zone="") == (
            utc(2026, 6, 3),
            utc(2026, 6, 4),
        )

    def test_berlin_summer_day(self):
        assert local_day_bounds(utc(2026, 6, 3, 22, 30), time_zone="Europe/Berlin") == (
            utc(2026, 6, 3, 22, 0),
            utc(2026, 6, 4, 22, 0),
        )

    @pytest.mark.parametrize(
        ("now", "hours"), [(utc(2026, 3, 29, 12), 23), (utc(2026, 10, 25, 12), 25)]
    )
    def test_dst_days_are_23_or_25_hours(self, now, hours):
        start, end = local_day_bounds(now, time_zone="Europe/Berlin")
        assert start == datetime.combine(now.date(), time.min, tzinfo=BERLIN)
        assert end - start == timedelta(hours=hours)

    def test_midnight_in_a_gap_starts_the_day_when_the_gap_ends(self):
        """Sao Paulo sprang from 00:00 to 01:00 on 2018-11-04: that day began at 01:00 -02."""
        start, end = local_day_bounds(utc(2018, 11, 4, 12), time_zone="America/Sao_Paulo")
        assert start == utc(2018, 11, 4, 3, 0)
        assert wall_clock(start, SAO_PAULO) == datetime(2018, 11, 4, 1, 0)
        assert end - start == timedelta(hours=23)

    def test_day_before_a_skipped_day_ends_at_the_jump(self):
        """Samoa went from 29 Dec 2011 straight to 31 Dec; the 29th ends where the 31st starts."""
        _, end_29 = local_day_bounds(utc(2011, 12, 29, 12), time_zone="Pacific/Apia")
        start_31, _ = local_day_bounds(utc(2011, 12, 30, 12), time_zone="Pacific/Apia")
        assert end_29 == start_31 == utc(2011, 12, 30, 10, 0)
        assert wall_clock(start_31, APIA) == datetime(2011, 12, 31, 0, 0)

    def test_now_given_as_a_nonexistent_local_time_is_normalized(self):
        """00:00 fold=1 on Sao Paulo's 2016-10-16 (a gap) is 02:00 UTC, still 15 Oct locally."""
        now = datetime(2016, 10, 16, 0, 0, fold=1, tzinfo=SAO_PAULO)
        start, end = local_day_bounds(now, time_zone="America/Sao_Paulo")
        assert (start, end) == (utc(2016, 10, 15, 3, 0), utc(2016, 10, 16, 3, 0))

    def test_naive_now_is_refused(self):
        with pytest.raises(ValueError):
            local_day_bounds(datetime(2026, 1, 1), time_zone="UTC")

    @settings(max_examples=300, deadline=None)
    @given(zoned=zoned_instants())
    def test_bounds_enclose_exactly_the_local_day(self, zoned):
        zone_name, now = zoned
        zone = ZONES[zone_name]
        start, end = local_day_bounds(now, time_zone=zone_name)
        today = wall_clock(now, zone).date()
        assert start.tzinfo is UTC and end.tzinfo is UTC
        assert start <= now < end
        assert (
            start.astimezone(zone).date()
            == today
            == (end - ONE_MICROSECOND).astimezone(zone).date()
        )
        assert (start - ONE_MICROSECOND).astimezone(zone).date() < today
        assert end.astimezone(zone).date() > today
