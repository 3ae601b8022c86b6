"""How the analysis groups leads and touches: company size bands and delay buckets."""

from __future__ import annotations

from cadence.crm.choices import CompanySize
from cadence.suggestions.choices import DelayBucket, SizeBand

SIZE_BANDS: dict[str, str] = {
    CompanySize.S1_10: SizeBand.SMALL,
    CompanySize.S11_50: SizeBand.SMALL,
    CompanySize.S51_200: SizeBand.MID,
    CompanySize.S201_500: SizeBand.MID,
    CompanySize.S501_1000: SizeBand.LARGE,
    CompanySize.S1001_5000: SizeBand.LARGE,
    CompanySize.S5001_PLUS: SizeBand.LARGE,
}

#: (bucket, first day, last day) of the delay between two touches, in whole days.
DELAY_BUCKETS: tuple[tuple[str, int, int], ...] = (
    (DelayBucket.SAME_DAY, 0, 0),
    (DelayBucket.D1_2, 1, 2),
    (DelayBucket.D3_5, 3, 5),
    (DelayBucket.D6_10, 6, 10),
)
MAX_DELAY_DAYS = DELAY_BUCKETS[-1][2]


def size_band(size: str) -> str:
    return SIZE_BANDS.get(size, SizeBand.UNKNOWN)


def delay_bucket(days: int) -> str | None:
    """The bucket of a delay of ``days`` whole days, or ``None`` past the last one."""
    for bucket, first, last in DELAY_BUCKETS:
        if first <= days <= last:
            return bucket
    return None


def bucket_days(bucket: str) -> tuple[int, int]:
    for name, first, last in DELAY_BUCKETS:
        if name == bucket:
            return first, last
    raise KeyError(bucket)
