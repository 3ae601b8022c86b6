"""Time-zone helpers: forgiving zone lookup, gaps and overlaps resolved predictably."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence.scheduling.zones import (
    first_offset_change,
    local_to_utc,
    require_aware,
    resolve_zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "name", ["", "Nope/Zone", "europe/berlin", "America", "../etc/passwd", "\x00", "a" * 300]
)
def test_unknown_or_malformed_zone_is_utc(name):
    """Zone names come from user records: anything unusable means UTC, never an error."""
    assert resolve_zone(name) is UTC


def test_known_zone_resolves():
    assert resolve_zone("Europe/Berlin") == BERLIN


def test_existing_local_time():
    assert local_to_utc(datetime(2026, 7, 1, 9, 0), BERLIN) == datetime(2026, 7, 1, 7, tzinfo=UTC)


def test_spring_forward_gap_moves_to_end_of_gap():
    """02:30 does not exist on 2026-03-29 in Berlin (02:00 -> 03:00): it becomes 03:00 CEST."""
    result = local_to_utc(datetime(2026, 3, 29, 2, 30), BERLIN)
    assert result == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert result.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)


def test_whole_day_gap_moves_to_end_of_gap():
    """Samoa skipped 2011-12-30 entirely; any time that day becomes 00:00 on the 31st."""
    apia = ZoneInfo("Pacific/Apia")
    result = local_to_utc(datetime(2011, 12, 30, 10, 0), apia)
    assert result.astimezone(apia).replace(tzinfo=None) == datetime(2011, 12, 31, 0, 0)


def test_fall_back_overlap_takes_first_occurrence():
    """01:30 happens twice on 2026-11-01 in New York; the first (EDT, UTC-4) wins."""
    result = local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert result == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_first_offset_change_finds_the_transition_exactly():
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    end = datetime(2026, 3, 29, 12, tzinfo=UTC)
    assert first_offset_change(start, end, BERLIN) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert first_offset_change(start, start + timedelta(hours=6), BERLIN) is None


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        require_aware(datetime(2026, 1, 1), "base")
