"""Time-zone helpers: turning local wall-clock times into UTC instants, predictably.

Rules:

- A time-zone name is an IANA key (``"Europe/Berlin"``). An empty, malformed or unknown name means
  UTC; it never raises, because the name comes from user and contact records.
- A local time that does not exist (the spring-forward gap) resolves to the first instant after
  the gap, i.e. the transition itself: 02:30 on the day Berlin jumps from 02:00 to 03:00 becomes
  03:00 local. Every wall-clock time at or after 02:30 is therefore reached no earlier than it.
- A local time that occurs twice (the fall-back overlap) resolves to its first occurrence
  (``fold=0``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "first_offset_change",
    "local_to_utc",
    "require_aware",
    "resolve_zone",
    "to_local",
    "utc_offset",
]

_RESOLUTION = timedelta(microseconds=1)


@lru_cache(maxsize=512)
def resolve_zone(name: str) -> tzinfo:
    """The ``tzinfo`` for an IANA zone name; UTC for an empty, malformed or unknown name."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    # ZoneInfoNotFoundError: unknown key; ValueError: malformed key ("../x", NUL bytes);
    # OSError: the key names a directory ("America") or is too long for the file system.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def require_aware(value: datetime, name: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a timezone-aware datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def to_local(instant: datetime, zone: tzinfo) -> datetime:
    """The aware ``instant`` as a normalized local time in ``zone``.

    Goes through UTC because ``astimezone()`` returns a datetime unchanged when it is already in
    ``zone``: a wall-clock time inside a gap (which does not exist) would then stay as given.
    """
    return instant.astimezone(UTC).astimezone(zone)


def utc_offset(instant: datetime, zone: tzinfo) -> timedelta:
    """The UTC offset of ``zone`` at an aware ``instant``."""
    offset = to_local(instant, zone).utcoffset()
    assert offset is not None  # astimezone() always yields an aware datetime
    return offset


def first_offset_change(start: datetime, end: datetime, zone: tzinfo) -> datetime | None:
    """The first instant in ``(start, end]`` where ``zone``'s UTC offset differs from at ``start``.

    ``None`` when the offsets at both ends are equal. Assumes at most one transition in the range
    (true of every real zone for ranges of a day or so); found by bisection to the microsecond,
    since ``zoneinfo`` exposes no transition table.
    """
    before = utc_offset(start, zone)
    if utc_offset(end, zone) == before:
        return None
    low, high = start, end  # invariant: offset(low) == before != offset(high)
    while high - low > _RESOLUTION:
        middle = low + (high - low) / 2
        if utc_offset(middle, zone) == before:
            low = middle
        else:
            high = middle
    return high


def local_to_utc(local: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of the naive wall-clock time ``local`` in ``zone``.

    Ambiguous times take their first occurrence; non-existent times move forward to the end of
    the gap (the transition instant). See the module docstring.
    """
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == local:
        return first  # exists (possibly twice: fold=0 is the first occurrence)
    # In a gap, fold=0 applies the offset from before the transition and fold=1 the one after;
    # the transition lies between the two readings, and it is the first instant after the gap.
    # (With fold=0 as the later reading the gap is forward; min/max keeps this order-agnostic.)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(first, second), max(first, second)
    transition = first_offset_change(low - _RESOLUTION, high, zone)
    return transition if transition is not None else high
