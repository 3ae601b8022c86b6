"""next_due_at: when a plan's next step is due.

Example tests pin concrete cases; property tests check the rules over random instants (many of
them near DST changes), zones, delays and countries, with numpy's busday functions as the oracle
for business days.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.scheduling.due import fit_send_window, next_due_at
from cadence.scheduling.tests import oracle
from cadence.scheduling.tests.support import (
    BERLIN,
    NEW_YORK,
    ONE_MICROSECOND,
    TOKYO,
    ZONES,
    ZONES_WITHOUT_SKIPPED_DAYS,
    countries,
    delays,
    exists,
    utc,
    wall_clock,
    zoned_instants,
)


class TestNextDueAtExamples:
    def test_calendar_days_same_local_time(self):
        base = utc(2026, 6, 1, 7, 0)  # 09:00 in Berlin
        result = next_due_at(
            base=base, delay_days=2, business_days=False, time_zone="Europe/Berlin"
        )
        assert result == utc(2026, 6, 3, 7, 0)
        assert result.tzinfo is UTC

    def test_zero_delay_is_the_base_instant(self):
        base = datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN)
        result = next_due_at(
            base=base, delay_days=0, business_days=False, time_zone="Europe/Berlin"
        )
        assert result == base
        assert result.tzinfo is UTC

    def test_zero_delay_keeps_the_second_occurrence_of_an_overlap(self):
        """01:30 EST (the second 01:30) is not rewound to 01:30 EDT, an hour earlier."""
        base = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK)  # a Sunday
        result = next_due_at(
            base=base, delay_days=0, business_days=False, time_zone="America/New_York"
        )
        # Compare in UTC: PEP 495 makes an aware datetime in an overlap unequal to any other zone.
        assert result == base.astimezone(UTC) == utc(2026, 11, 1, 6, 30)

    def test_friday_plus_one_business_day_is_monday(self):
        base = datetime(2026, 1, 9, 10, 0, tzinfo=BERLIN)  # Friday
        result = next_due_at(base=base, delay_days=1, business_days=True, time_zone="Europe/Berlin")
        assert result == datetime(2026, 1, 12, 10, 0, tzinfo=BERLIN)

    def test_german_christmas_is_skipped(self):
        """Thu 24 Dec 2026 + 1 business day in Germany: Fri 25 and Sat 26 are holidays -> Mon 28."""
        base = datetime(2026, 12, 24, 15, 0, tzinfo=BERLIN)
        result = next_due_at(
            base=base, delay_days=1, business_days=True, time_zone="Europe/Berlin", country="DE"
        )
        assert result == datetime(2026, 12, 28, 15, 0, tzinfo=BERLIN)

    def test_us_thanksgiving_is_skipped(self):
        base = datetime(2026, 11, 25, 9, 0, tzinfo=NEW_YORK)  # Wednesday
        result = next_due_at(
            base=base, delay_days=1, business_days=True, time_zone="America/New_York", country="US"
        )
        assert result == datetime(2026, 11, 27, 9, 0, tzinfo=NEW_YORK)

    def test_weekend_base_rolls_forward_keeping_time_of_day(self):
        """A step completed on Saturday 14:00 with delay 0 is due Monday 14:00; delay 1: Tuesday."""
        base = datetime(2026, 1, 10, 14, 0, tzinfo=BERLIN)
        due = [
            next_due_at(base=base, delay_days=n, business_days=True, time_zone="Europe/Berlin")
            for n in (0, 1)
        ]
        assert due == [
            datetime(2026, 1, 12, 14, 0, tzinfo=BERLIN),
            datetime(2026, 1, 13, 14, 0, tzinfo=BERLIN),
        ]

    def test_business_days_count_on_the_local_calendar(self):
        """Friday 23:30 UTC is already Saturday 08:30 in Tokyo: it rolls to Monday 08:30 JST."""
        base = utc(2026, 1, 9, 23, 30)
        result = next_due_at(base=base, delay_days=0, business_days=True, time_zone="Asia/Tokyo")
        assert result == datetime(2026, 1, 12, 8, 30, tzinfo=TOKYO)

    @pytest.mark.parametrize(
        ("zone_name", "base", "expected_utc"),
        [
            # Berlin springs forward on 2026-03-29 and falls back on 2026-10-25.
            ("Europe/Berlin", datetime(2026, 3, 27, 9, 0), utc(2026, 3, 30, 7, 0)),
            ("Europe/Berlin", datetime(2026, 10, 23, 9, 0), utc(2026, 10, 26, 8, 0)),
            # New York springs forward on 2026-03-08 and falls back on 2026-11-01.
            ("America/New_York", datetime(2026, 3, 6, 9, 0), utc(2026, 3, 9, 13, 0)),
            ("America/New_York", datetime(2026, 10, 30, 9, 0), utc(2026, 11, 2, 14, 0)),
        ],
    )
    @pytest.mark.parametrize("business_days", [False, True])
    def test_dst_change_keeps_the_local_hour(self, zone_name, base, expected_utc, business_days):
        """Friday 09:00 + 3 calendar days or + 1 business day is Monday 09:00 local."""
        zone = ZoneInfo(zone_name)
        result = next_due_at(
            base=base.replace(tzinfo=zone),
            delay_days=1 if business_days else 3,
            business_days=business_days,
            time_zone=zone_name,
        )
        assert result == expected_utc
        assert wall_clock(result, zone).time() == time(9, 0)

    @pytest.mark.parametrize(
        ("zone_name", "base", "expected_local"),
        [
            ("Europe/Berlin", datetime(2026, 3, 28, 2, 30), datetime(2026, 3, 29, 3, 0)),
            ("America/New_York", datetime(2026, 3, 7, 2, 30), datetime(2026, 3, 8, 3, 0)),
        ],
    )
    def test_missing_local_time_moves_past_the_gap(self, zone_name, base, expected_local):
        """02:30 does not exist on spring-forward day; the step is due when the gap ends, 03:00."""
        zone = ZoneInfo(zone_name)
        result = next_due_at(
            base=base.replace(tzinfo=zone), delay_days=1, business_days=False, time_zone=zone_name
        )
        assert wall_clock(result, zone) == expected_local

    def test_base_given_as_a_nonexistent_local_time_is_normalized(self):
        """Sunday 02:30 in Berlin's gap means 01:30 UTC (03:30 CEST); + 1 business day: Tuesday."""
        base = datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)
        result = next_due_at(base=base, delay_days=1, business_days=True, time_zone="Europe/Berlin")
        assert result == datetime(2026, 3, 31, 3, 30, tzinfo=BERLIN)

    def test_ambiguous_local_time_takes_the_first_occurrence(self):
        """01:30 on 2026-11-01 in New York happens twice; the first one (EDT) is used."""
        base = datetime(2026, 10, 31, 1, 30, tzinfo=NEW_YORK)
        result = next_due_at(
            base=base, delay_days=1, business_days=False, time_zone="America/New_York"
        )
        assert result == utc(2026, 11, 1, 5, 30)

    @pytest.mark.parametrize("zone_name", ["", "Not/AZone", "europe/berlin"])
    def test_unknown_time_zone_counts_in_utc(self, zone_name):
        base = utc(2026, 1, 9, 23, 30)  # Friday in UTC, Saturday in Berlin
        result = next_due_at(base=base, delay_days=1, business_days=True, time_zone=zone_name)
        assert result == utc(2026, 1, 12, 23, 30)

    def test_unknown_country_skips_weekends_only(self):
        base = datetime(2026, 12, 24, 9, 0, tzinfo=BERLIN)
        result = next_due_at(
            base=base, delay_days=1, business_days=True, time_zone="Europe/Berlin", country="XX"
        )
        assert result == datetime(2026, 12, 25, 9, 0, tzinfo=BERLIN)

    def test_negative_delay_is_refused(self):
        with pytest.raises(ValueError):
            next_due_at(base=utc(2026, 1, 1), delay_days=-1, business_days=False, time_zone="")

    def test_naive_base_is_refused(self):
        with pytest.raises(ValueError):
            next_due_at(
                base=datetime(2026, 1, 1), delay_days=1, business_days=False, time_zone="UTC"
            )


class TestNextDueAtProperties:
    @settings(max_examples=300, deadline=None)
    @given(
        zoned=zoned_instants(),
        delay=delays,
        business_days=st.booleans(),
        country=countries,
    )
    def test_result_is_utc_and_never_before_base(self, zoned, delay, business_days, country):
        zone_name, base = zoned
        result = next_due_at(
            base=base,
            delay_days=delay,
            business_days=business_days,
            time_zone=zone_name,
            country=country,
        )
        assert result.tzinfo is UTC
        assert result >= base

    @settings(max_examples=300, deadline=None)
    @given(
        zoned=zoned_instants(ZONES_WITHOUT_SKIPPED_DAYS),
        delay=st.one_of(st.integers(min_value=0, max_value=3), delays),
        business_days=st.booleans(),
        country=countries,
    )
    def test_due_date_and_wall_clock(self, zoned, delay, business_days, country):
        """Local date: base date + delay (calendar) or numpy's busday_offset (business days).

        Local time: the base's wall-clock time, or the end of the gap when that time does not
        exist on the due date; the base instant itself when the due date is the base date.
        """
        zone_name, base = zoned
        zone = ZONES[zone_name]
        result = next_due_at(
            base=base,
            delay_days=delay,
            business_days=business_days,
            time_zone=zone_name,
            country=country,
        )
        local_base = base.astimezone(UTC).astimezone(zone)
        if business_days:
            expected_date = oracle.busday_offset(local_base.date(), delay, country)
        else:
            expected_date = local_base.date() + timedelta(days=delay)
        assert result.astimezone(zone).date() == expected_date

        wanted = datetime.combine(expected_date, local_base.time())
        # Compared in UTC: PEP 495 makes an aware datetime in a gap or overlap unequal to any
        # datetime in another zone.
        if expected_date == local_base.date():
            assert result == base.astimezone(UTC)
        elif exists(wanted, zone):
            assert result == wanted.replace(tzinfo=zone, fold=0).astimezone(UTC)
        else:  # in a gap: the first instant after it, i.e. exactly where the offset changes
            assert wall_clock(result, zone) > wanted
            assert (result - ONE_MICROSECOND).astimezone(zone).utcoffset() != (
                result.astimezone(zone).utcoffset()
            )

    @settings(max_examples=200, deadline=None)
    @given(
        zoned=zoned_instants(),
        delay=st.one_of(st.integers(min_value=0, max_value=3), delays),
        more=st.integers(min_value=0, max_value=30),
        business_days=st.booleans(),
        country=countries,
    )
    def test_monotonic_in_delay(self, zoned, delay, more, business_days, country):
        """A longer delay is never due earlier."""
        zone_name, base = zoned

        def due(days: int) -> datetime:
            return next_due_at(
                base=base,
                delay_days=days,
                business_days=business_days,
                time_zone=zone_name,
                country=country,
            )

        assert due(delay) <= due(delay + more)


def test_due_then_window_never_precedes_the_base():
    """The scheduler's composition: due date in the owner's zone, send window in the contact's."""
    base = datetime(2026, 1, 9, 16, 0, tzinfo=NEW_YORK)  # Friday afternoon in New York
    due = next_due_at(
        base=base, delay_days=1, business_days=True, time_zone="America/New_York", country="US"
    )
    send = fit_send_window(
        due,
        window_start=time(8),
        window_end=time(17),
        time_zone="Asia/Tokyo",
        business_days=True,
        country="JP",
    )
    # Monday 16:00 in New York is Tuesday 06:00 in Tokyo, before the window opens at 08:00.
    assert due == datetime(2026, 1, 12, 16, 0, tzinfo=NEW_YORK)
    assert send == datetime(2026, 1, 13, 8, 0, tzinfo=TOKYO)
