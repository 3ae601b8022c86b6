"""An independent business-day oracle for the tests: numpy's busday functions.

numpy is a test-only dependency. The holiday list is read straight from the ``holidays`` package,
so the oracle shares the data with the engine but none of its code (no cache, no week jumping).
"""

import warnings
from datetime import date
from functools import cache

import holidays
import numpy as np

# Property tests draw dates in 2000-2035 and add up to a few hundred business days.
ORACLE_YEARS = range(1999, 2041)
COUNTRIES = ["", "DE", "US", "FR", "GB", "JP", "IN"]


@cache
def busday_calendar(country: str) -> np.busdaycalendar:
    """numpy's Monday-Friday calendar with the public holidays of ``country`` (none for "")."""
    if not country:
        return np.busdaycalendar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "holidays only available from ... to ..."
        days = holidays.country_holidays(country, years=ORACLE_YEARS)
    return np.busdaycalendar(holidays=np.array(sorted(days), dtype="datetime64[D]"))


def busday_offset(day: date, days: int, country: str) -> date:
    """``numpy.busday_offset(day, days, roll="forward")`` with ``country``'s holidays."""
    result = np.busday_offset(
        np.datetime64(day, "D"), days, roll="forward", busdaycal=busday_calendar(country)
    )
    return result.astype(object)


def busday_count(begin: date, end: date, country: str) -> int:
    """Business days in ``[begin, end)``, per numpy."""
    return int(np.busday_count(begin, end, busdaycal=busday_calendar(country)))


def is_busday(day: date, country: str) -> bool:
    return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=busday_calendar(country)))
