"""Pure statistics for the reports: no ORM, no database, so they are tested in milliseconds.

Durations reach Python as histograms (``{bucket: count}``, one bucket per whole hour) that the
database aggregated, so the memory a report needs does not grow with the number of plans.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy import stats as scipy_stats


def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (SciPy's), ``None`` without trials.

    Chosen over the normal approximation because it stays inside [0, 1] and behaves for the
    small counts a new strategy has (0 of 3 converted is not "exactly 0%")."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and trials")
    interval = scipy_stats.binomtest(successes, trials).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return max(0.0, float(interval.low)), min(1.0, float(interval.high))


def _sorted_items(histogram: Mapping[int, int]) -> list[tuple[int, int]]:
    return sorted((bucket, count) for bucket, count in histogram.items() if count > 0)


def _value_at(items: list[tuple[int, int]], rank: int) -> int:
    """The value of the ``rank``-th (1-based) observation of a sorted histogram."""
    seen = 0
    for bucket, count in items:
        seen += count
        if seen >= rank:
            return bucket
    raise IndexError(rank)


def histogram_median(histogram: Mapping[int, int]) -> float | None:
    """The median of the observations a histogram counts (the mean of the two middle ones
    for an even count), as a plain list's median would be; ``None`` when empty."""
    items = _sorted_items(histogram)
    total = sum(count for _, count in items)
    if total == 0:
        return None
    if total % 2:
        return float(_value_at(items, total // 2 + 1))
    return (_value_at(items, total // 2) + _value_at(items, total // 2 + 1)) / 2


def histogram_percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the
    observations at or below it. ``None`` when empty."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must lie in (0, 1]")
    items = _sorted_items(histogram)
    total = sum(count for _, count in items)
    if total == 0:
        return None
    # Rounded before ceil so 0.9 * 10 (9.000000000000002 in floating point) is rank 9.
    return float(_value_at(items, math.ceil(round(fraction * total, 9))))


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by."""
    return part / whole if whole else None


def hours_to_days(hours: float | None) -> float | None:
    """Hours as days with one decimal, the resolution the reports promise."""
    return None if hours is None else round(hours / 24, 1)
