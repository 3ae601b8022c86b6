"""The synthetic history with planted effects (``cadence.ops.bench.history``) and the proof it
exists for: the history analysis recovers the planted effects and invents none; the generator is
deterministic, follows its rules and clears what it made; and ``generate_history`` works."""

import datetime
import itertools

import pytest
from django.core.management import CommandError, call_command

from cadence.activities.choices import Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import ContactFactory
from cadence.ops.bench import history
from cadence.suggestions import analysis
from cadence.suggestions.choices import RunStatus
from cadence.suggestions.models import AnalysisRun, Finding

pytestmark = pytest.mark.django_db

#: The sample sizes of the proof (documented in history.py and docs/suggestions.md).
RECOVERY_CONTACTS = 12_000
RECOVERY_SEEDS = (1, 2)
NULL_CONTACTS = 3_000
NULL_SEEDS = range(1, 21)


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


# -- a run over a generated history -------------------------------------------------------


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
    ],
)
def test_the_command_refuses_bad_input(args):
    with pytest.raises(CommandError):
        call_command(*args)


def test_generating_the_same_seed_twice_asks_for_clear():
    call_command("generate_history", "--seed", "9", "--contacts", "5", "--no-effects")
    with pytest.raises(CommandError, match="--clear"):
        call_command("generate_history", "--seed", "9", "--contacts", "5", "--no-effects")
