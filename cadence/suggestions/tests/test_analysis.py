"""The history analysis on the database: the SQL aggregation against a brute-force recount, the
recovery of planted effects, no findings on effect-free histories, and how runs are recorded."""

import datetime
import itertools
import random
import uuid
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.suggestions import analysis, history, stats
from cadence.suggestions.choices import RunStatus
from cadence.suggestions.models import AnalysisRun, Finding
from cadence.suggestions.profiles import delay_bucket, size_band
from cadence.suggestions.tasks import analyze_history_task

pytestmark = pytest.mark.django_db

#: The sample sizes of the proof (documented in history.py and docs/suggestions.md).
RECOVERY_CONTACTS = 12_000
RECOVERY_SEEDS = (1, 2)
NULL_CONTACTS = 3_000
NULL_SEEDS = range(1, 21)


# -- the SQL aggregation against a recount in Python ---------------------------------------


def brute_force(response_days: int) -> tuple[int, dict]:
    """The definitions of ``analysis``, applied activity by activity in Python."""
    rows = list(
        Activity.objects.filter(contact__isnull=False).values(
            "activity_id",
            "contact_id",
            "activity_type",
            "direction",
            "outcome",
            "occurred_at",
            "company__industry",
            "company__size",
        )
    )
    by_contact = defaultdict(list)
    for row in rows:
        by_contact[row["contact_id"]].append(row)
    groups: dict = defaultdict(lambda: [0, 0])
    for history_rows in by_contact.values():
        history_rows.sort(key=lambda r: (r["occurred_at"], r["activity_id"]))
        previous = None
        for index, row in enumerate(history_rows):
            if row["direction"] != Direction.OUTBOUND:
                continue
            if previous is not None:
                days = (row["occurred_at"] - previous["occurred_at"]) // datetime.timedelta(days=1)
                bucket = delay_bucket(days)
                if bucket is not None:
                    following = history_rows[index + 1] if index + 1 < len(history_rows) else None
                    responded = row["outcome"] in analysis.RESPONSE_OUTCOMES or (
                        following is not None
                        and following["direction"] == Direction.INBOUND
                        and following["occurred_at"] - row["occurred_at"]
                        <= datetime.timedelta(days=response_days)
                    )
                    key = (
                        row["company__industry"],
                        size_band(row["company__size"]),
                        previous["activity_type"],
                        previous["outcome"],
                        row["activity_type"],
                        bucket,
                    )
                    groups[key][0] += 1
                    groups[key][1] += int(responded)
            previous = row
    return len(rows), {key: tuple(counts) for key, counts in groups.items()}


def random_history(rng: random.Random) -> None:
    """A messy small history: every channel, direction and outcome, same-time ties, delays of
    exactly whole days, replies exactly ``response_days`` later, leads without industry or
    size, and activities without a contact."""
    user = UserFactory()
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(days=90)
    companies = [
        CompanyFactory(owner=user, industry=industry, size=size)
        for industry, size in [
            ("Technology", "1-10"),
            ("Technology", "5001+"),
            ("Finance", "51-200"),
            ("", "201-500"),
            ("Retail", ""),
            ("", ""),
        ]
    ]
    outcomes = ["", *Outcome.values]
    activities = []
    for number in range(40):
        company = companies[number % len(companies)]
        contact = ContactFactory(company=company, owner=user)
        at = start + datetime.timedelta(hours=rng.randrange(48))
        for _ in range(rng.randrange(2, 18)):
            step = rng.choice(
                [
                    datetime.timedelta(0),  # a tie: the activity ID decides the order
                    datetime.timedelta(days=rng.randrange(12)),  # whole days exactly
                    datetime.timedelta(days=14),  # a reply exactly at the response limit
                    datetime.timedelta(seconds=rng.randrange(12 * 86400)),
                    datetime.timedelta(seconds=rng.randrange(20 * 86400), microseconds=1),
                ]
            )
            at += step
            activities.append(
                Activity(
                    activity_id=uuid.UUID(int=rng.getrandbits(128)),
                    company=company,
                    contact=contact,
                    user=user,
                    activity_type=rng.choice(ActivityType.values),
                    direction=rng.choice([Direction.OUTBOUND] * 3 + [Direction.INBOUND]),
                    outcome=rng.choice(outcomes),
                    occurred_at=at,
                )
            )
    for _ in range(10):
        activities.append(
            Activity(
                company=rng.choice(companies),
                contact=None,
                user=user,
                activity_type=ActivityType.EMAIL,
                outcome=Outcome.SENT,
                occurred_at=start + datetime.timedelta(hours=rng.randrange(500)),
            )
        )
    Activity.objects.bulk_create(activities)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_aggregation_agrees_with_a_brute_force_recount(seed):
    random_history(random.Random(seed))
    for response_days in (14, 3, 0):
        counted = analysis.aggregate(response_days=response_days)
        activities, expected = brute_force(response_days)
        assert counted.activities == activities
        assert counted.groups == expected
        assert sum(k for _, k in expected.values()) > 0
    assert {key[1] for key in expected} >= {"small", "large", "mid", "unknown"}
    assert "" in {key[0] for key in expected}


# -- the proof: planted effects found, none invented ------------------------------------------


def recovered(effect: history.PlantedEffect, findings: list[Finding]) -> bool:
    return any(
        f.industry == effect.industry
        and f.size_band == effect.size_band
        and f.prev_channel == effect.prev_channel
        and f.prev_outcome == effect.prev_outcome
        and f.channel == effect.channel
        and f.delay_bucket == effect.bucket
        and (f.ratio > 1) == (effect.multiplier > 1)
        for f in findings
    )


def test_the_analysis_recovers_the_planted_effects():
    found = planted = 0
    for seed in RECOVERY_SEEDS:
        history.history_clear()
        history.history_generate(seed=seed, contacts=RECOVERY_CONTACTS)
        run = analysis.history_analyze()
        findings = list(run.findings.all())
        assert run.status == RunStatus.DONE
        assert run.findings_count == len(findings) > 0
        found += sum(recovered(effect, findings) for effect in history.DEFAULT_EFFECTS)
        planted += len(history.DEFAULT_EFFECTS)
    assert found / planted >= 0.9


def test_effect_free_histories_yield_no_findings_and_say_so():
    seeds_with_findings = []
    for seed in NULL_SEEDS:
        history.history_clear()
        history.history_generate(seed=seed, contacts=NULL_CONTACTS, effects=())
        run = analysis.history_analyze()
        assert run.status == RunStatus.DONE
        assert run.comparisons > 0
        if run.findings_count:
            seeds_with_findings.append(seed)
        else:
            assert run.summary.endswith(
                "no comparison had enough evidence for a finding; nothing is recommended."
            )
            assert not run.findings.exists()
    assert len(seeds_with_findings) <= 1, seeds_with_findings


# -- runs ---------------------------------------------------------------------------------


def test_a_run_stores_its_numbers_and_findings():
    history.history_generate(seed=7, contacts=4000)
    run = analysis.history_analyze(min_n=80, q=0.01, min_ratio=1.5, response_days=10)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.finished_at >= run.started_at
    assert run.seconds > 0
    assert run.params == {"min_n": 80, "q": 0.01, "min_ratio": 1.5, "response_days": 10}
    assert run.activities == Activity.objects.count()
    assert 0 < run.touches < run.activities
    assert run.comparisons > 0
    assert run.findings_count == run.findings.count() > 0
    assert run.summary.startswith(f"Read {run.activities:,} activities: {run.touches:,} ")
    plural = "s" if run.findings_count != 1 else ""
    assert run.summary.endswith(f"; {run.findings_count:,} finding{plural}.")
    for finding in run.findings.all():
        assert finding.q_value <= 0.01
        assert finding.ratio >= 1.5 or finding.ratio <= 1 / 1.5
        assert finding.ci_low <= finding.rate <= finding.ci_high
        assert finding.n >= 80 and finding.baseline_n >= 80
        assert finding.rate == pytest.approx(finding.responses / finding.n)
        assert finding.baseline_rate == pytest.approx(
            finding.baseline_responses / finding.baseline_n
        )
        assert f"n = {finding.n:,}" in finding.sentence
        assert finding.size_band != "unknown"


def test_an_empty_history_is_a_run_without_comparisons():
    run = analysis.history_analyze()
    assert run.status == RunStatus.DONE
    assert (run.activities, run.touches, run.comparisons, run.findings_count) == (0, 0, 0, 0)
    assert run.summary == (
        "Read 0 activities: 0 follow-up touches, 0 comparisons with enough data (at least 100 "
        "touches in a cell and in its baseline); no comparison was possible, so nothing is "
        "recommended."
    )


def test_a_failing_run_is_recorded_as_failed(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("statistics exploded")

    monkeypatch.setattr(analysis.stats, "analyse", broken)
    with pytest.raises(RuntimeError, match="statistics exploded"):
        analysis.history_analyze()
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "statistics exploded" in run.summary
    assert run.finished_at is not None
    assert not Finding.objects.exists()


def test_bad_parameters_are_refused_before_a_run():
    for bad in ({"min_n": 0}, {"q": 0}, {"q": 1.5}, {"min_ratio": 1}, {"response_days": -1}):
        with pytest.raises(ValueError):
            analysis.history_analyze(**bad)
    assert not AnalysisRun.objects.exists()


def test_the_task_runs_the_analysis():
    assert analyze_history_task() == AnalysisRun.objects.get().summary


# -- the generator ------------------------------------------------------------------------


def fingerprint() -> list[tuple]:
    return list(
        Activity.objects.order_by("activity_id").values_list(
            "activity_id", "contact_id", "activity_type", "direction", "outcome", "occurred_at"
        )
    )


def test_the_generator_is_deterministic_and_clearable():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    made = history.history_generate(seed=3, contacts=300, now=now)
    first = fingerprint()
    assert made["activities"] == len(first) == Activity.objects.count()
    assert made["contacts"] == Contact.objects.count() == Company.objects.count() == 300
    with pytest.raises(ValueError, match="clear it"):
        history.history_generate(seed=3, contacts=300, now=now)
    deleted = history.history_clear()
    assert deleted == {"activities": len(first), "contacts": 300, "companies": 300}
    assert not Activity.objects.exists() and not Company.objects.exists()
    history.history_generate(seed=3, contacts=300, now=now)
    assert fingerprint() == first
    history.history_clear()
    history.history_generate(seed=4, contacts=300, now=now)
    assert fingerprint() != first


def test_the_generator_follows_its_rules():
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    history.history_generate(seed=5, contacts=500, touches=3, now=now)
    user = history.generator_user()
    assert Company.objects.exclude(owner=user).count() == 0
    for contact in Contact.objects.all()[:100]:
        touches = list(contact.activities.order_by("occurred_at"))
        first = touches[0]
        assert (first.activity_type, first.outcome, first.direction) == (
            "Email",
            "Sent",
            "outbound",
        )
        assert now - datetime.timedelta(days=365) <= first.occurred_at <= now
        outbound = [a for a in touches if a.direction == Direction.OUTBOUND]
        assert 1 <= len(outbound) <= 4
        for before, after in itertools.pairwise(outbound):
            assert (after.occurred_at - before.occurred_at).days <= 10
        # A response ends the history: only the last touch can have one.
        for touch in touches[:-1]:
            assert touch.direction == Direction.OUTBOUND
            assert touch.outcome in (Outcome.SENT, Outcome.NO_ANSWER, Outcome.VOICEMAIL_LEFT)


def test_the_generator_keeps_unrelated_data():
    other = ContactFactory()
    Activity.objects.create(company=other.company, contact=other, user=other.owner)
    history.history_generate(seed=1, contacts=20)
    history.history_clear()
    assert Activity.objects.count() == 1
    assert Contact.objects.get() == other


def test_planted_effects_parse_and_refuse_nonsense():
    effect = history.PlantedEffect.parse("Technology|*|Email:Sent|LinkedIn Message|3-5|2.4")
    assert effect == history.PlantedEffect(
        "Technology", "", "Email", "Sent", "LinkedIn Message", "3-5", 2.4
    )
    assert str(effect) == "Technology|*|Email:Sent|LinkedIn Message|3-5|2.4"
    for bad in (
        "Technology|*|Email:Sent|LinkedIn Message|3-5",
        "Mining|*|Email:Sent|Call|0|2",
        "*|huge|Email:Sent|Call|0|2",
        "*|*|Email:Replied|Call|0|2",
        "*|*|Email:Sent|Fax|0|2",
        "*|*|Email:Sent|Call|11-20|2",
        "*|*|Email:Sent|Call|0|lots",
        "*|*|Email:Sent|Call|0|-1",
    ):
        with pytest.raises(ValueError):
            history.PlantedEffect.parse(bad)


# -- the commands -------------------------------------------------------------------------


def test_the_commands_generate_and_analyse(capsys):
    call_command("generate_history", "--seed", "2", "--contacts", "2000", "--touches", "4")
    out = capsys.readouterr().out
    assert "with 6 planted effect(s):" in out
    assert "Made 2,000 companies, 2,000 contacts and " in out
    call_command("analyze_history", "--min-n", "50", "--q", "0.05")
    out = capsys.readouterr().out
    run = AnalysisRun.objects.get()
    assert run.summary in out
    for finding in run.findings.all():
        assert f"- {finding.sentence}" in out
    call_command(
        "generate_history",
        "--clear",
        "--seed",
        "3",
        "--contacts",
        "10",
        "--effect",
        "*|*|Email:Sent|Call|0|3",
    )
    out = capsys.readouterr().out
    assert "Deleted " in out and "*|*|Email:Sent|Call|0|3" in out
    assert Company.objects.count() == 10


@pytest.mark.parametrize(
    "args",
    [
        ["generate_history", "--effect", "nonsense"],
        ["generate_history", "--contacts", "-5"],
        ["generate_history", "--base-rate", "2"],
        ["generate_history", "--no-effects", "--effect", "*|*|Email:Sent|Call|0|3"],
        ["analyze_history", "--q", "1.5"],
        ["analyze_history", "--min-n", "0"],
        ["analyze_history", "--min-ratio", "0.5"],
        ["analyze_history", "--response-days", "soon"],
    ],
)
def test_the_commands_refuse_bad_input(args):
    with pytest.raises(CommandError):
        call_command(*args)


def test_generating_the_same_seed_twice_asks_for_clear():
    call_command("generate_history", "--seed", "9", "--contacts", "5", "--no-effects")
    with pytest.raises(CommandError, match="--clear"):
        call_command("generate_history", "--seed", "9", "--contacts", "5", "--no-effects")


def test_stats_defaults_are_the_analysis_defaults():
    run = analysis.history_analyze()
    assert run.params == {
        "min_n": stats.DEFAULT_MIN_N,
        "q": stats.DEFAULT_Q,
        "min_ratio": stats.DEFAULT_MIN_RATIO,
        "response_days": analysis.DEFAULT_RESPONSE_DAYS,
    }


def test_the_benchmark_runs_at_two_sizes_and_cleans_up(capsys):
    call_command("bench_analysis", "--sizes", "3000,1000")
    out = capsys.readouterr().out
    assert "| Database | Activities | Analysis time |" in out
    assert out.count("tracemalloc peak of Python allocations") == 2
    assert not Activity.objects.exists() and not AnalysisRun.objects.exists()


def test_the_benchmark_refuses_a_database_with_other_activities():
    other = ContactFactory()
    Activity.objects.create(company=other.company, contact=other, user=other.owner)
    with pytest.raises(CommandError, match="database of its own"):
        call_command("bench_analysis", "--sizes", "1000")
    with pytest.raises(CommandError):
        call_command("bench_analysis", "--sizes", "0")
