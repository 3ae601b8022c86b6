"""Instants as a user reads them: on their own wall clock, whichever page shows them."""

import datetime

from django.utils import dateformat

from cadence.accounts.models import User
from cadence.scheduling.zones import resolve_zone, to_local


def local_text(user: User, instant: datetime.datetime) -> str:
    """An instant as the user reads it on their wall clock, e.g. "Tue 4 Jun, 09:00"."""
    return dateformat.format(to_local(instant, resolve_zone(user.time_zone)), "D j M, H:i")
