"""Shared helpers and Hypothesis strategies for the due-date engine's tests."""

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from cadence.scheduling.tests import oracle

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
APIA = ZoneInfo("Pacific/Apia")
ONE_MICROSECOND = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def wall_clock(instant: datetime, zone: tzinfo) -> datetime:
    """The naive local wall-clock reading of ``instant`` in ``zone``.

    Via UTC: ``astimezone()`` leaves a datetime already in ``zone`` as given, even in a gap.
    """
    return instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


# Zones with DST at various local hours (Sao Paulo: midnight; Lord Howe: 30-minute shift),
# fractional offsets, a skipped calendar day (Apia, 2011-12-30), and names that mean UTC.
ZONES: dict[str, tzinfo] = {
    name: ZoneInfo(name)
    for name in [
        "UTC",
        "Europe/Berlin",
        "Europe/London",
        "America/New_York",
        "America/Sao_Paulo",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Asia/Tehran",
        "Australia/Lord_Howe",
        "Pacific/Apia",
    ]
} | {"": UTC, "Not/AZone": UTC}
# Apia's skipped day has no local date to land on, so date-exact properties leave it out.
ZONES_WITHOUT_SKIPPED_DAYS = tuple(name for name in ZONES if name != "Pacific/Apia")

countries = st.sampled_from(oracle.COUNTRIES)
delays = st.integers(min_value=0, max_value=400)
# Aware instants given in assorted zones, including times in gaps and either fold of overlaps.
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK, TOKYO, SAO_PAULO]),
)


def _offset_changes() -> list[tuple[str, datetime]]:
    """The minutes at which some zones' UTC offsets change: anchors for generated inputs.

    Random instants almost never fall near a DST change, so half of the drawn inputs are placed
    around these on purpose. Found by a coarse scan refined minute by minute (these zones change
    on whole minutes).
    """
    years = {
        "Europe/Berlin": 2026,
        "Europe/London": 2026,
        "America/New_York": 2026,
        "Australia/Lord_Howe": 2026,  # half-hour shift
        "America/Sao_Paulo": 2018,  # springs forward at midnight
        "Asia/Tehran": 2021,
        "Pacific/Apia": 2011,  # skipped 30 Dec 2011
    }

    def offset(instant: datetime, zone: tzinfo) -> timedelta | None:
        return instant.astimezone(zone).utcoffset()

    coarse, fine = timedelta(hours=6), timedelta(minutes=1)
    anchors = []
    for name, year in years.items():
        zone = ZONES[name]
        instant, end = utc(year, 1, 1), utc(year + 1, 1, 1)
        while instant < end:
            if offset(instant, zone) != offset(instant + coarse, zone):
                change = instant
                while offset(change, zone) == offset(instant, zone):
                    change += fine
                anchors.append((name, change))
            instant += coarse
    return anchors


OFFSET_CHANGES = _offset_changes()


@st.composite
def zoned_instants(draw, zone_choices: tuple[str, ...] = tuple(ZONES)) -> tuple[str, datetime]:
    """A zone name and an aware instant: anywhere, or near an offset change of that zone.

    "Near" is within 90 minutes of the change or of the same instant 1-3 days earlier, so that
    adding a few days lands on the change day, in or around its gap or overlap.
    """
    anchors = [(name, anchor) for name, anchor in OFFSET_CHANGES if name in zone_choices]
    if draw(st.booleans()):
        name, anchor = draw(st.sampled_from(anchors))
        instant = (
            anchor
            - timedelta(days=draw(st.integers(min_value=0, max_value=3)))
            + timedelta(minutes=draw(st.integers(min_value=-90, max_value=90)))
            + timedelta(microseconds=draw(st.integers(min_value=0, max_value=59_999_999)))
        )
        # Presented in the zone itself too, so overlaps come with either fold.
        presented = draw(st.sampled_from([UTC, ZONES[name]]))
        return name, instant.astimezone(presented)
    return draw(st.sampled_from(zone_choices)), draw(instants)


def exists(local: datetime, zone: tzinfo) -> bool:
    """Whether the naive wall-clock time ``local`` occurs in ``zone`` (is not in a gap)."""
    return wall_clock(local.replace(tzinfo=zone).astimezone(UTC), zone) == local
