"""The statistics of the history analysis, as pure functions over plain values (no Django, no
database): ``analysis`` feeds them the counts the database aggregated and stores what they return.

Definitions (see also ``docs/suggestions.md``):

- A *profile* is (industry, size band, previous touch's channel, previous touch's outcome). It is
  analysed at four levels: (industry, band), (industry, any), (any, band) and (any, any), always
  with the previous touch. ``""`` means "any" in ``industry`` and ``size_band``. Leads of an
  unknown industry (``""``) count only where the industry is "any"; leads of an unknown size band
  only where the band is "any".
- A *cell* of a profile is the next touch's (channel, delay bucket). Its *baseline* is the rest
  of the profile: every other cell pooled.
- A cell is *compared* when it has at least ``min_n`` touches and its baseline has at least
  ``min_n`` too. The comparison is Fisher's exact test, two-sided, on the 2x2 table (cell vs
  baseline, responded vs not), with a 95% Wilson interval for the cell's rate.
- Every p-value of every level goes into one Benjamini-Hochberg adjustment; a comparison becomes
  a finding when its adjusted p-value (q-value) is at most ``q`` (default 0.01, see
  ``DEFAULT_Q``) and the effect is large enough to act on: a ratio of rates of at least
  ``min_ratio`` (default 1.25) or at most ``1 / min_ratio`` (0.8).
- A finding is *redundant*, and dropped, when a coarser profile containing it (same previous
  touch, industry and/or band widened to "any") has a finding for the same cell in the same
  direction whose confidence interval holds the finer finding's rate: it says nothing new.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from scipy import stats as scipy_stats

ANY = ""
#: The size band of leads whose company size is unknown: analysed only as "any band".
UNKNOWN_BAND = "unknown"
#: Ratios of rates at or beyond which (1.25x more often, 0.8x as often) a difference is worth a
#: recommendation; smaller ones can be significant on a large history and still not matter.
DEFAULT_MIN_RATIO = 1.25
#: Touches a cell, and its baseline, need before they are compared: below that an interval is
#: too wide to act on, and the many small cells would only dilute the false discovery control.
DEFAULT_MIN_N = 100
#: The false discovery rate. When nothing is really different, every finding is a false one
#: and Benjamini-Hochberg at q lets a run report anything with probability up to q: at 0.05,
#: 4 of 100 effect-free histories yielded a finding, so 2 or more of 20 (which the proof
#: forbids) would happen about one time in four. At 0.01 none of 100 did, and planted effects
#: of 1.8x are still found at about 12,000 leads (``history``'s docstring has the figures).
DEFAULT_Q = 0.01
CONFIDENCE = 0.95

# Mirrors of the labels of ``choices.DelayBucket`` and ``choices.SizeBand`` (this module stays
# free of Django); a test keeps them equal.
BUCKET_LABELS: dict[str, str] = {
    "0": "same day",
    "1-2": "1-2 days",
    "3-5": "3-5 days",
    "6-10": "6-10 days",
}
BAND_LABELS: dict[str, str] = {
    "small": "small companies (1-50)",
    "mid": "mid-size companies (51-500)",
    "large": "large companies (501+)",
    "unknown": "companies of unknown size",
}
CHANNEL_NOUNS: dict[str, str] = {
    "Email": "an email",
    "Call": "a call",
    "LinkedIn Connect": "a LinkedIn connection request",
    "LinkedIn Message": "a LinkedIn message",
    "Meeting": "a meeting",
    "SMS": "an SMS",
    "Task": "a task",
    "Other": "another kind of touch",
}


@dataclass(frozen=True, order=True)
class Profile:
    """Leads of an industry and size band (``""`` = any) whose previous touch was this one."""

    industry: str
    size_band: str
    prev_channel: str
    prev_outcome: str

    @property
    def coarser(self) -> tuple[Profile, ...]:
        """The profiles that contain this one: the industry, the band or both widened."""
        wider = []
        if self.industry != ANY:
            wider.append(replace(self, industry=ANY))
        if self.size_band != ANY:
            wider.append(replace(self, size_band=ANY))
        if self.industry != ANY and self.size_band != ANY:
            wider.append(replace(self, industry=ANY, size_band=ANY))
        return tuple(wider)


@dataclass(frozen=True, order=True)
class Cell:
    """A next touch: its channel and how long after the previous touch it came."""

    channel: str
    bucket: str


@dataclass
class Counts:
    touches: int = 0
    responses: int = 0

    def add(self, touches: int, responses: int) -> None:
        self.touches += touches
        self.responses += responses


#: The finest group the database returns: (industry, size band, previous channel, previous
#: outcome, channel, delay bucket).
GroupKey = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class Comparison:
    """One cell of one profile against its baseline, with the test's numbers."""

    profile: Profile
    cell: Cell
    n: int
    responses: int
    baseline_n: int
    baseline_responses: int
    p_value: float
    ci_low: float
    ci_high: float

    @property
    def rate(self) -> float:
        return self.responses / self.n

    @property
    def baseline_rate(self) -> float:
        return self.baseline_responses / self.baseline_n

    @property
    def ratio(self) -> float:
        """The cell's rate over the baseline's; infinite when only the cell had responses."""
        if self.baseline_responses == 0:
            return 1.0 if self.responses == 0 else math.inf
        return self.rate / self.baseline_rate


@dataclass(frozen=True)
class Result:
    """A comparison that survived: its q-value (BH-adjusted p-value) and its sentence."""

    comparison: Comparison
    q_value: float
    sentence: str = ""

    @property
    def positive(self) -> bool:
        return self.comparison.ratio > 1


@dataclass
class Analysis:
    """What the statistics made of the counts."""

    touches: int
    comparisons: int
    findings: list[Result] = field(default_factory=list)


def roll_up(groups: Mapping[GroupKey, tuple[int, int]]) -> dict[Profile, dict[Cell, Counts]]:
    """The counts of every profile at the four levels, summed from the finest groups.

    ``groups`` maps (industry, size band, previous channel, previous outcome, channel, bucket)
    to (touches, responses). An unknown industry (``""``) or size band (``"unknown"``) adds only
    to the levels where that part is "any".
    """
    profiles: dict[Profile, dict[Cell, Counts]] = defaultdict(lambda: defaultdict(Counts))
    for (industry, band, prev_channel, prev_outcome, channel, bucket), (n, k) in groups.items():
        cell = Cell(channel, bucket)
        for level_industry in {ANY, industry}:
            for level_band in {ANY, "" if band == UNKNOWN_BAND else band}:
                profile = Profile(level_industry, level_band, prev_channel, prev_outcome)
                profiles[profile][cell].add(n, k)
    return {profile: dict(cells) for profile, cells in profiles.items()}


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    interval = scipy_stats.binomtest(successes, n).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return float(interval.low), float(interval.high)


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact test of k1/n1 against k2/n2."""
    return float(scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)


def compare_profiles(
    profiles: Mapping[Profile, Mapping[Cell, Counts]], *, min_n: int = DEFAULT_MIN_N
) -> list[Comparison]:
    """Every cell with at least ``min_n`` touches, and a baseline as large, against its
    baseline (the rest of its profile)."""
    comparisons = []
    for profile in sorted(profiles):
        cells = profiles[profile]
        total_n = sum(c.touches for c in cells.values())
        total_k = sum(c.responses for c in cells.values())
        for cell in sorted(cells):
            counts = cells[cell]
            base_n, base_k = total_n - counts.touches, total_k - counts.responses
            if counts.touches < min_n or base_n < min_n:
                continue
            low, high = wilson_interval(counts.responses, counts.touches)
            comparisons.append(
                Comparison(
                    profile=profile,
                    cell=cell,
                    n=counts.touches,
                    responses=counts.responses,
                    baseline_n=base_n,
                    baseline_responses=base_k,
                    p_value=fisher_p(counts.responses, counts.touches, base_k, base_n),
                    ci_low=low,
                    ci_high=high,
                )
            )
    return comparisons


def bh_adjust(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    if not p_values:
        return []
    return [float(q) for q in scipy_stats.false_discovery_control(list(p_values), method="bh")]


def large_enough(ratio: float, min_ratio: float = DEFAULT_MIN_RATIO) -> bool:
    """Whether a ratio of rates is a practical effect: ``min_ratio`` or more, or its inverse or
    less."""
    return ratio >= min_ratio or ratio <= 1 / min_ratio


def select(
    comparisons: Sequence[Comparison],
    *,
    q: float = DEFAULT_Q,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> list[Result]:
    """The comparisons whose BH q-value (over all of ``comparisons``) is at most ``q`` and whose
    effect is large enough."""
    q_values = bh_adjust([c.p_value for c in comparisons])
    return [
        Result(comparison=c, q_value=q_value)
        for c, q_value in zip(comparisons, q_values, strict=True)
        if q_value <= q and large_enough(c.ratio, min_ratio)
    ]


def prune_redundant(results: Iterable[Result]) -> list[Result]:
    """Drop each finding that a coarser profile's finding for the same cell, in the same
    direction, already covers (the finer rate lies in its confidence interval)."""
    results = list(results)
    by_key = {(r.comparison.profile, r.comparison.cell): r for r in results}
    kept = []
    for result in results:
        comparison = result.comparison
        covered = False
        for wider in comparison.profile.coarser:
            other = by_key.get((wider, comparison.cell))
            if (
                other is not None
                and other.positive == result.positive
                and other.comparison.ci_low <= comparison.rate <= other.comparison.ci_high
            ):
                covered = True
                break
        if not covered:
            kept.append(result)
    return kept


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _channel_noun(channel: str) -> str:
    return CHANNEL_NOUNS.get(channel, f"a touch of type {channel}")


def leads_phrase(profile: Profile) -> str:
    """Who the finding is about: "Leads", "Technology leads", "Leads at large companies
    (501+)", "Technology leads at small companies (1-50)"."""
    band = BAND_LABELS.get(profile.size_band, profile.size_band)
    if profile.industry and profile.size_band:
        return f"{profile.industry} leads at {band}"
    if profile.industry:
        return f"{profile.industry} leads"
    if profile.size_band:
        return f"Leads at {band}"
    return "Leads"


def previous_phrase(channel: str, outcome: str) -> str:
    """The previous touch: "an email (Sent)", "a call (Voicemail Left)", or just "a call"."""
    noun = _channel_noun(channel)
    return f"{noun} ({outcome})" if outcome else noun


def delay_phrase(bucket: str) -> str:
    label = BUCKET_LABELS.get(bucket, f"{bucket} days")
    return f"the {label}" if bucket == "0" else label


def sentence(comparison: Comparison) -> str:
    """The finding in plain words, with its numbers, e.g. "Technology leads reply 2.4x more
    often to a LinkedIn message 3-5 days after an email (Sent) (18.1% vs 7.5%, n = 240, 95% CI
    13.5-23.5%)."."""
    ratio = comparison.ratio
    if math.isinf(ratio):
        how = "reply more often"
    elif ratio > 1:
        how = f"reply {ratio:.1f}x more often"
    else:
        how = f"reply {ratio:.1f}x as often"
    profile, cell = comparison.profile, comparison.cell
    numbers = (
        f"{_percent(comparison.rate)} vs {_percent(comparison.baseline_rate)}, "
        f"n = {comparison.n:,}, {CONFIDENCE:.0%} CI "
        f"{comparison.ci_low * 100:.1f}-{_percent(comparison.ci_high)}"
    )
    return (
        f"{leads_phrase(profile)} {how} to {_channel_noun(cell.channel)} "
        f"{delay_phrase(cell.bucket)} after "
        f"{previous_phrase(profile.prev_channel, profile.prev_outcome)} ({numbers})."
    )


def analyse(
    groups: Mapping[GroupKey, tuple[int, int]],
    *,
    min_n: int = DEFAULT_MIN_N,
    q: float = DEFAULT_Q,
    min_ratio: float = DEFAULT_MIN_RATIO,
) -> Analysis:
    """From the finest groups to the findings: roll up, compare, control the false discovery
    rate, keep practical effects, drop redundant ones, word them. Findings come strongest
    first (by ratio, then by q-value)."""
    touches = sum(n for n, _ in groups.values())
    comparisons = compare_profiles(roll_up(groups), min_n=min_n)
    kept = prune_redundant(select(comparisons, q=q, min_ratio=min_ratio))
    worded = [replace(r, sentence=sentence(r.comparison)) for r in kept]
    worded.sort(
        key=lambda r: (-r.comparison.ratio, r.q_value, r.comparison.profile, r.comparison.cell)
    )
    return Analysis(touches=touches, comparisons=len(comparisons), findings=worded)
