"""The history analysis on the database: the SQL aggregation against a brute-force recount, and
how runs are recorded. The proof on generated histories (planted effects recovered, none
invented) is with the generator, in ``cadence/ops/tests/test_history.py``."""

import datetime
import random
import uuid
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.activities.rules import RESPONSE_OUTCOMES
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.suggestions import analysis, stats
from cadence.suggestions.choices import RunStatus
from cadence.suggestions.models import AnalysisRun, Finding
from cadence.suggestions.profiles import delay_bucket, size_band
from cadence.suggestions.tasks import analyze_history_task

pytestmark = pytest.mark.django_db

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
                    responded = row["outcome"] in RESPONSE_OUTCOMES or (
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


# -- runs ---------------------------------------------------------------------------------


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


# -- the command --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["analyze_history", "--q", "1.5"],
        ["analyze_history", "--min-n", "0"],
        ["analyze_history", "--min-ratio", "0.5"],
        ["analyze_history", "--response-days", "soon"],
    ],
)
def test_the_command_refuses_bad_input(args):
    with pytest.raises(CommandError):
        call_command(*args)


def test_stats_defaults_are_the_analysis_defaults():
    run = analysis.history_analyze()
    assert run.params == {
        "min_n": stats.DEFAULT_MIN_N,
        "q": stats.DEFAULT_Q,
        "min_ratio": stats.DEFAULT_MIN_RATIO,
        "response_days": analysis.DEFAULT_RESPONSE_DAYS,
    }
