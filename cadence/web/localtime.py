"""Instants as a user reads them: on their own wall clock, whichever page shows them."""

import datetime

from django.utils import dateformat, timezone

from cadence.accounts.models import User
from cadence.scheduling.zones import local_to_utc, resolve_zone, to_local


def local_text(user: User, instant: datetime.datetime) -> str:
    """An instant as the user reads it on their wall clock, e.g. "Tue 4 Jun, 09:00"."""
    return dateformat.format(to_local(instant, resolve_zone(user.time_zone)), "D j M, H:i")


def local_today(user: User, now: datetime.datetime | None = None) -> datetime.date:
    """The day it is on the user's wall clock."""
    return to_local(now or timezone.now(), resolve_zone(user.time_zone)).date()


def local_instant(user: User, day: datetime.date, at: datetime.time) -> datetime.datetime:
    """The UTC instant of ``day`` at ``at`` on the user's wall clock."""
    return local_to_utc(datetime.datetime.combine(day, at), resolve_zone(user.time_zone))


def day_start(user: User, day: datetime.date) -> datetime.datetime:
    """The start of the user's working day on ``day``: what a day chosen in a form means."""
    return local_instant(user, day, user.work_day_start)


def plan_start_at(
    user: User, day: datetime.date, now: datetime.datetime | None = None
) -> datetime.datetime:
    """When a plan chosen to start on ``day`` starts: today starts now, so a first step without
    delay is due at once rather than at the start of a working day already begun; another day
    at the start of the user's working day."""
    now = now or timezone.now()
    return now if day == local_today(user, now) else day_start(user, day)
