"""Validators shared by models of several apps."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Accept IANA zone names only (``Europe/Paris``), so due dates can always be computed."""
    if value and value not in _time_zones():
        raise ValidationError(
            "%(value)s is not a known time zone; use an IANA name such as Europe/Paris.",
            params={"value": value},
            code="invalid_time_zone",
        )
