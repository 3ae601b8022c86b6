"""The due-date engine: when a plan's next step is due, and when an automated send may go out.

Pure functions over plain values (no ORM, no settings). Every result is an aware datetime in UTC;
inputs must be timezone-aware. Time-zone names follow :mod:`cadence.scheduling.zones` (empty or
unknown means UTC; gaps move forward to the end of the gap; overlaps take the first occurrence)
and countries follow :mod:`cadence.scheduling.calendars` (empty or unknown means weekends only).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from cadence.scheduling.calendars import add_business_days, is_business_day
from cadence.scheduling.zones import (
    first_offset_change,
    local_to_utc,
    require_aware,
    resolve_zone,
    to_local,
    utc_offset,
)

__all__ = [
    "add_business_days",
    "fit_send_window",
    "is_business_day",
    "local_day_bounds",
    "next_due_at",
]

_ONE_DAY = timedelta(days=1)
# fit_send_window() advances at least to the next offset change or by a day per round; a window
# always opens within a few days (weekends plus a holiday run), so this only guards against bugs.
_MAX_WINDOW_ROUNDS = 1000


def next_due_at(
    *,
    base: datetime,
    delay_days: int,
    business_days: bool,
    time_zone: str,
    country: str = "",
) -> datetime:
    """When a step is due: ``delay_days`` after ``base``, at the same local time of day.

    ``base`` is the previous step's completion (or the plan start), timezone-aware. Days are
    counted on the local calendar of ``time_zone``:

    - Calendar days: the local date of ``base`` plus ``delay_days``, at the local wall-clock time
      of ``base``, so a DST change in between keeps the local hour (a 09:00 base is due at 09:00).
    - Business days: the local date of ``base`` is first rolled forward to a business day of
      ``country`` (Monday to Friday, not a public holiday), then ``delay_days`` business days are
      added (``numpy.busday_offset(..., roll="forward")``); the local time of ``base`` is kept.

    When the due date is the local date of ``base`` (``delay_days=0`` without a roll) the result
    is the ``base`` instant itself. The result is never earlier than ``base``.

    Raises ``ValueError`` for ``delay_days`` < 0 or a naive ``base``.
    """
    require_aware(base, "base")
    if delay_days < 0:
        raise ValueError(f"delay_days must be >= 0, got {delay_days}")
    zone = resolve_zone(time_zone)
    local = to_local(base, zone)
    if business_days:
        due_date = add_business_days(local.date(), delay_days, country=country)
    else:
        due_date = local.date() + timedelta(days=delay_days)
    if due_date == local.date():
        # Rebuilding from the wall-clock time would lose the fold and could move a base in the
        # second occurrence of an overlap back by an hour, i.e. before itself.
        return base.astimezone(UTC)
    return local_to_utc(datetime.combine(due_date, local.time()), zone)


def fit_send_window(
    due: datetime,
    *,
    window_start: time | None,
    window_end: time | None,
    time_zone: str,
    business_days: bool = False,
    country: str = "",
) -> datetime:
    """The earliest instant at or after ``due`` inside the send window, in UTC.

    The window is the local wall-clock interval ``[window_start, window_end)`` in ``time_zone``
    (the contact's zone), on every day, or only on business days of ``country`` when
    ``business_days`` is set. A ``due`` already inside is returned unchanged. When both ends are
    ``None`` there is no window and ``due`` is returned unchanged (business days not applied); when
    only one end is ``None`` the window runs from midnight, or to the end of the day.

    Membership is decided by the local wall-clock time of each instant, so DST is exact: a window
    opening inside a spring-forward gap opens at the end of the gap, and after a fall-back the
    repeated hour is inside the window again if its wall-clock time is.

    Raises ``ValueError`` for a naive ``due`` or when ``window_start`` >= ``window_end``.
    """
    require_aware(due, "due")
    if window_start is None and window_end is None:
        return due.astimezone(UTC)
    start = window_start if window_start is not None else time.min
    if window_end is not None and start >= window_end:
        raise ValueError(f"window_start {start} must be before window_end {window_end}")
    if start.tzinfo is not None or (window_end is not None and window_end.tzinfo is not None):
        raise ValueError("window times are local wall-clock times and must be naive")

    def is_open_day(day: date) -> bool:
        return not business_days or is_business_day(day, country=country)

    def inside(local: datetime) -> bool:
        clock = local.time()
        return (
            start <= clock
            and (window_end is None or clock < window_end)
            and is_open_day(local.date())
        )

    def next_opening(local: datetime) -> datetime:
        """The first wall-clock time after ``local`` (not inside) where the window opens."""
        if local.time() < start and is_open_day(local.date()):
            return datetime.combine(local.date(), start)
        day = local.date() + _ONE_DAY
        if business_days:
            day = add_business_days(day, 0, country=country)
        return datetime.combine(day, start)

    zone = resolve_zone(time_zone)
    instant = due.astimezone(UTC)
    # Walk the timeline in stretches where the UTC offset is constant: within one, wall-clock
    # time moves in step with UTC, so the opening can be computed directly. An offset change
    # before the computed opening restarts the walk from the change itself, where the wall clock
    # may have jumped into (or past) the window. Steps are capped at a day so that two offset
    # changes can never hide between the ends of one step.
    for _ in range(_MAX_WINDOW_ROUNDS):
        offset = utc_offset(instant, zone)
        local = (instant + offset).replace(tzinfo=None)
        if inside(local):
            return instant
        opening = (next_opening(local) - offset).replace(tzinfo=UTC)
        step_end = min(opening, instant + _ONE_DAY)
        change = first_offset_change(instant, step_end, zone)
        if change is not None:
            instant = change
        elif opening == step_end:
            return opening
        else:
            instant = step_end
    raise RuntimeError("no send window found")  # pragma: no cover - unreachable by construction


def local_day_bounds(now: datetime, *, time_zone: str) -> tuple[datetime, datetime]:
    """UTC start (inclusive) and end (exclusive) of the local calendar day containing ``now``.

    The local day usually lasts 24 hours, but 23 or 25 on DST change days. A midnight that falls
    in a gap starts the day at the end of the gap; an ambiguous one at its first occurrence.
    Raises ``ValueError`` for a naive ``now``.
    """
    require_aware(now, "now")
    zone = resolve_zone(time_zone)
    today = to_local(now, zone).date()
    start = local_to_utc(datetime.combine(today, time.min), zone)
    end = local_to_utc(datetime.combine(today + _ONE_DAY, time.min), zone)
    return start, end
