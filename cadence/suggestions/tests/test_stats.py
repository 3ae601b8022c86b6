"""The statistics of the history analysis, on plain numbers (no database)."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from cadence.suggestions import stats
from cadence.suggestions.choices import DelayBucket, SizeBand
from cadence.suggestions.stats import Cell, Comparison, Counts, Profile, Result

EMAIL_SENT = ("Email", "Sent")


def comparison(
    industry="",
    band="",
    *,
    n=200,
    k=40,
    base_n=2000,
    base_k=200,
    channel="LinkedIn Message",
    bucket="3-5",
    prev=EMAIL_SENT,
    p_value=0.001,
) -> Comparison:
    low, high = stats.wilson_interval(k, n)
    return Comparison(
        profile=Profile(industry, band, *prev),
        cell=Cell(channel, bucket),
        n=n,
        responses=k,
        baseline_n=base_n,
        baseline_responses=base_k,
        p_value=p_value,
        ci_low=low,
        ci_high=high,
    )


def test_labels_mirror_the_choices():
    assert {b.value: b.label for b in DelayBucket} == stats.BUCKET_LABELS
    assert {b.value: b.label for b in SizeBand} == stats.BAND_LABELS


# -- roll-up ------------------------------------------------------------------------------


def test_roll_up_sums_the_four_levels_and_keeps_unknowns_out_of_specific_ones():
    groups = {
        ("Technology", "small", "Email", "Sent", "Call", "0"): (10, 2),
        ("Technology", "large", "Email", "Sent", "Call", "0"): (5, 1),
        ("", "small", "Email", "Sent", "Call", "0"): (7, 3),
        ("Finance", "unknown", "Email", "Sent", "Call", "0"): (4, 0),
        ("Finance", "mid", "Call", "No Answer", "Email", "1-2"): (6, 6),
    }
    profiles = stats.roll_up(groups)
    cell = Cell("Call", "0")

    def counts(industry, band, prev=EMAIL_SENT):
        found = profiles[Profile(industry, band, *prev)][cell]
        return found.touches, found.responses

    assert counts("", "") == (26, 6)
    assert counts("Technology", "") == (15, 3)
    assert counts("", "small") == (17, 5)
    assert counts("Technology", "small") == (10, 2)
    assert counts("Finance", "") == (4, 0)
    assert Profile("", "small", *EMAIL_SENT) in profiles
    # An unknown industry or band never makes a profile of its own.
    assert not any(p.industry == "" and p.size_band == "unknown" for p in profiles)
    assert not any(p.size_band == "unknown" for p in profiles)
    assert Profile("Finance", "unknown", *EMAIL_SENT) not in profiles
    assert profiles[Profile("Finance", "mid", "Call", "No Answer")][Cell("Email", "1-2")] == (
        Counts(6, 6)
    )


@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(["", "Technology", "Finance"]),
            st.sampled_from(["small", "mid", "unknown"]),
            st.sampled_from(["Email", "Call"]),
            st.sampled_from(["Sent", "No Answer"]),
            st.sampled_from(["Email", "Call"]),
            st.sampled_from(["0", "1-2"]),
        ),
        st.integers(min_value=0, max_value=50).flatmap(
            lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n))
        ),
        max_size=30,
    )
)
def test_roll_up_any_any_level_holds_every_touch(groups):
    profiles = stats.roll_up(groups)
    total = sum(
        counts.touches
        for profile, cells in profiles.items()
        if profile.industry == "" and profile.size_band == ""
        for counts in cells.values()
    )
    assert total == sum(n for n, _ in groups.values())
    for cells in profiles.values():
        for counts in cells.values():
            assert 0 <= counts.responses <= counts.touches


# -- tests and intervals --------------------------------------------------------------------


def test_wilson_interval_matches_the_formula():
    k, n, z = 18, 240, scipy_stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = stats.wilson_interval(k, n)
    assert low == pytest.approx(centre - half, abs=1e-9)
    assert high == pytest.approx(centre + half, abs=1e-9)


@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n))
    )
)
def test_wilson_interval_holds_the_rate(case):
    n, k = case
    low, high = stats.wilson_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1


def test_fisher_p_is_scipys_two_sided_test():
    expected = scipy_stats.fisher_exact([[30, 70], [100, 900]]).pvalue
    assert stats.fisher_p(30, 100, 100, 1000) == pytest.approx(expected)
    assert stats.fisher_p(10, 100, 100, 1000) == pytest.approx(1.0)


def test_compare_profiles_needs_min_n_in_the_cell_and_in_the_baseline():
    profile = Profile("", "", *EMAIL_SENT)
    profiles = {
        profile: {
            Cell("Call", "0"): Counts(100, 30),
            Cell("Call", "1-2"): Counts(99, 10),
            Cell("Email", "0"): Counts(50, 5),
        }
    }
    compared = stats.compare_profiles(profiles, min_n=100)
    assert [(c.cell, c.n, c.baseline_n, c.baseline_responses) for c in compared] == [
        (Cell("Call", "0"), 100, 149, 15),
        # (Call, 1-2) has 99 touches: too few. (Email, 0) too.
    ]
    assert compared[0].p_value == pytest.approx(stats.fisher_p(30, 100, 15, 149))
    assert stats.compare_profiles(profiles, min_n=151) == []  # no baseline of 151 or more


def test_ratio_of_rates():
    assert comparison(n=100, k=20, base_n=1000, base_k=100).ratio == pytest.approx(2.0)
    assert comparison(n=100, k=5, base_n=1000, base_k=100).ratio == pytest.approx(0.5)
    assert comparison(n=100, k=5, base_n=1000, base_k=0).ratio == math.inf
    assert comparison(n=100, k=0, base_n=1000, base_k=0).ratio == 1.0


# -- false discovery rate and effect size ---------------------------------------------------


def test_bh_adjust_known_values():
    assert stats.bh_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.bh_adjust([]) == []


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=60))
def test_bh_adjust_is_monotone_and_never_below_p(p_values):
    adjusted = stats.bh_adjust(p_values)
    assert len(adjusted) == len(p_values)
    for p, q in zip(p_values, adjusted, strict=True):
        assert p <= q + 1e-12
        assert q <= 1
    ordered = sorted(zip(p_values, adjusted, strict=True))
    assert all(a[1] <= b[1] + 1e-12 for a, b in itertools.pairwise(ordered))


def test_large_enough():
    assert stats.large_enough(1.25) and stats.large_enough(0.8) and stats.large_enough(3)
    assert not stats.large_enough(1.2) and not stats.large_enough(0.85)
    assert stats.large_enough(1.6, min_ratio=1.5) and not stats.large_enough(1.4, 1.5)


def test_select_keeps_significant_and_large_effects_only():
    strong = comparison(n=200, k=60, p_value=1e-6)
    weak_effect = comparison(channel="Call", n=200, k=22, p_value=1e-6)  # 1.1x: too small
    not_significant = comparison(channel="Email", n=200, k=40, p_value=0.2)
    kept = stats.select([strong, weak_effect, not_significant], q=0.05)
    assert [r.comparison for r in kept] == [strong]
    assert kept[0].q_value == pytest.approx(1.5e-6)  # two tied p-values of 1e-6 among 3


def test_select_adjusts_over_every_comparison():
    # Alone, p = 0.02 passes q = 0.05; among 10 comparisons of p = 0.5 it does not.
    lone = comparison(p_value=0.02)
    assert stats.select([lone], q=0.05)
    crowd = [comparison(channel="Call", bucket=str(i), p_value=0.5) for i in range(10)]
    assert not stats.select([lone, *crowd], q=0.05)


# -- redundancy ---------------------------------------------------------------------------


def result(c: Comparison) -> Result:
    return Result(comparison=c, q_value=0.001)


def test_a_finer_finding_inside_the_coarser_interval_is_dropped():
    coarse = result(comparison("Technology", "", n=400, k=100))  # 25%, CI ~21-30%
    inside = result(comparison("Technology", "small", n=150, k=39))  # 26%
    outside = result(comparison("Technology", "large", n=150, k=60))  # 40%
    kept = stats.prune_redundant([coarse, inside, outside])
    assert kept == [coarse, outside]


def test_redundancy_needs_the_same_direction_cell_and_previous_touch():
    coarse = result(comparison("", "", n=400, k=100))
    other_cell = result(comparison("Technology", "", n=150, k=39, bucket="6-10"))
    other_prev = result(comparison("Technology", "", n=150, k=39, prev=("Call", "No Answer")))
    # A coarse finding of fewer responses whose interval holds the finer rate: other direction.
    fewer = result(comparison("", "", n=400, k=100, base_k=1000, base_n=2000))
    more = result(comparison("Finance", "", n=150, k=39))
    assert stats.prune_redundant([coarse, other_cell, other_prev]) == [
        coarse,
        other_cell,
        other_prev,
    ]
    assert stats.prune_redundant([fewer, more]) == [fewer, more]


def test_redundancy_looks_at_every_coarser_level():
    top = result(comparison("", "", n=2000, k=500))  # 25%, narrow interval
    finest = result(comparison("Technology", "small", n=150, k=50))  # 33%: outside
    band = result(comparison("", "small", n=300, k=100))  # 33%, interval holds finest
    assert stats.prune_redundant([top, finest]) == [top, finest]
    assert stats.prune_redundant([top, band, finest]) == [top, band]


# -- sentences -----------------------------------------------------------------------------


def test_sentence_for_each_level():
    sentences = [
        stats.sentence(comparison(industry, band, n=240, k=43, base_n=2000, base_k=150))
        for industry, band in [
            ("Technology", "small"),
            ("Technology", ""),
            ("", "large"),
            ("", ""),
        ]
    ]
    assert sentences[0] == (
        "Technology leads at small companies (1-50) reply 2.4x more often to a LinkedIn "
        "message 3-5 days after an email (Sent) (17.9% vs 7.5%, n = 240, 95% CI 13.6-23.3%)."
    )
    assert sentences[1].startswith("Technology leads reply 2.4x more often to ")
    assert sentences[2].startswith("Leads at large companies (501+) reply 2.4x more often ")
    assert sentences[3].startswith("Leads reply 2.4x more often to a LinkedIn message ")


def test_sentence_for_fewer_responses_the_same_day():
    text = stats.sentence(
        comparison(
            "Finance",
            "mid",
            channel="Call",
            bucket="0",
            prev=("Call", "Voicemail Left"),
            n=1200,
            k=60,
            base_n=5000,
            base_k=500,
        )
    )
    assert text == (
        "Finance leads at mid-size companies (51-500) reply 0.5x as often to a call the same day "
        "after a call (Voicemail Left) (5.0% vs 10.0%, n = 1,200, 95% CI 3.9-6.4%)."
    )


def test_sentence_without_baseline_responses_or_previous_outcome():
    text = stats.sentence(
        comparison(prev=("LinkedIn Connect", ""), bucket="6-10", n=100, k=9, base_k=0)
    )
    assert text.startswith(
        "Leads reply more often to a LinkedIn message 6-10 days after a LinkedIn connection "
        "request (9.0% vs 0.0%"
    )


# -- end to end ----------------------------------------------------------------------------


def test_analyse_finds_a_planted_difference_and_nothing_in_noise():
    prev = EMAIL_SENT
    cells = [(ch, b) for ch in ("Email", "Call", "LinkedIn Message") for b in DelayBucket.values]
    noise = {("Technology", "small", *prev, ch, b): (400, 40) for ch, b in cells}
    result = stats.analyse(noise, min_n=100, q=0.01)
    assert result.comparisons > 0
    assert result.findings == []
    assert result.touches == 400 * len(cells)

    planted = dict(noise)
    planted[("Technology", "small", *prev, "Call", "1-2")] = (400, 120)
    found = stats.analyse(planted, min_n=100, q=0.01).findings
    assert found
    # The effect exists at every level (the data has one industry and band); only the coarsest
    # survives, the finer ones saying nothing new.
    assert [(r.comparison.profile, r.comparison.cell) for r in found] == [
        (Profile("", "", *prev), Cell("Call", "1-2"))
    ]
    assert found[0].sentence.startswith("Leads reply 3.0x more often to a call 1-2 days after")
