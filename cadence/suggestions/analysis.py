"""The history analysis: which next touches get more (or fewer) responses than usual, by lead
profile, estimated from the recorded activities (``history_analyze``; the Celery task
``suggestions.analyze_history`` and ``manage.py analyze_history`` run it).

Definitions (``docs/suggestions.md`` has the full account):

- A *touch* is an outbound activity with a contact. Its *previous touch* is the contact's
  previous outbound activity, in order of ``occurred_at`` with ties broken by ``activity_id``.
  The *delay* is the whole number of days between the two (elapsed time floored to 24 hours);
  touches without a previous touch, or more than ``MAX_DELAY_DAYS`` (10) days after it, are not
  analysed. The delay's bucket comes from ``profiles.delay_bucket``.
- A touch *got a response* when its own outcome is a response (Replied, Connected or Meeting
  Booked: ``cadence.activities.rules.RESPONSE_OUTCOMES``), or the contact's very next activity
  after it (any direction, same order) is inbound and comes within ``response_days`` (default
  14) days of it.
- The lead's profile is its company's industry and size band (``profiles.size_band``) and the
  previous touch's channel and outcome. The company is the touch's own ``company``.

All of the reading happens in the database: besides a count of the activities read, one SQL
statement with window functions (``LEAD`` over a contact's activities for the next activity,
then ``LAG`` over its outbound ones for the previous touch) returns the counts of touches and
responses per (industry, company size, previous channel, previous outcome, channel, delay in
days). Those few groups are streamed from the cursor; nothing per activity reaches Python, so
memory does not grow with the history. The statistics (``stats``) then compare, adjust for
multiple comparisons and word the findings, which are stored with their run in one transaction.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from cadence.activities.choices import Direction
from cadence.activities.models import Activity
from cadence.activities.rules import RESPONSE_OUTCOMES
from cadence.crm.models import Company
from cadence.suggestions import stats
from cadence.suggestions.choices import RunStatus
from cadence.suggestions.models import AnalysisRun, Finding
from cadence.suggestions.profiles import MAX_DELAY_DAYS, delay_bucket, size_band

DEFAULT_RESPONSE_DAYS = 14
#: Rows fetched from the cursor at a time.
FETCH = 2000
MS_PER_DAY = 86_400_000
#: A baseline without a single response makes the ratio unbounded; JSON (the API) has no
#: infinity, so it is stored as this. The sentence still words it without a number.
MAX_STORED_RATIO = 1000.0


@dataclass
class Aggregate:
    """What the database returned: activities read, and touches and responses per group."""

    activities: int
    groups: dict[stats.GroupKey, tuple[int, int]]


def _day_sql(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (both columns, later >= earlier)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"
    # Milliseconds as an integer first: julianday() differences are fractional days and would
    # put a touch exactly one day later a hair short of it.
    return (
        f"(CAST(ROUND((julianday({later}) - julianday({earlier})) * {MS_PER_DAY}) AS INTEGER)"
        f" / {MS_PER_DAY})"
    )


def _within_sql(later: str, earlier: str) -> str:
    """Whether ``later`` comes at most %s days after ``earlier`` (one parameter: the days)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) <= %s * 86400"
    return f"ROUND((julianday({later}) - julianday({earlier})) * {MS_PER_DAY}) <= %s * {MS_PER_DAY}"


def _grouped_sql() -> str:
    activities = connection.ops.quote_name(Activity._meta.db_table)
    companies = connection.ops.quote_name(Company._meta.db_table)
    marks = ", ".join(["%s"] * len(RESPONSE_OUTCOMES))
    # The inner window sees every activity of a contact (for the next one, of any direction);
    # the outer one only its outbound touches (for the previous touch).
    return f"""
        SELECT c.industry, c.size, s.prev_type, s.prev_outcome, s.activity_type, s.days,
               COUNT(*), SUM(s.responded)
        FROM (
            SELECT t.company_id, t.activity_type, t.prev_type, t.prev_outcome,
                   {_day_sql("t.occurred_at", "t.prev_at")} AS days,
                   CASE WHEN t.outcome IN ({marks})
                          OR (t.next_direction = %s AND {_within_sql("t.next_at", "t.occurred_at")})
                        THEN 1 ELSE 0 END AS responded
            FROM (
                SELECT o.company_id, o.activity_type, o.outcome, o.occurred_at,
                       o.next_direction, o.next_at,
                       LAG(o.activity_type) OVER w AS prev_type,
                       LAG(o.outcome) OVER w AS prev_outcome,
                       LAG(o.occurred_at) OVER w AS prev_at
                FROM (
                    SELECT a.activity_id, a.contact_id, a.company_id, a.activity_type,
                           a.direction, a.outcome, a.occurred_at,
                           LEAD(a.direction) OVER w AS next_direction,
                           LEAD(a.occurred_at) OVER w AS next_at
                    FROM {activities} a
                    WHERE a.contact_id IS NOT NULL
                    WINDOW w AS (PARTITION BY a.contact_id ORDER BY a.occurred_at, a.activity_id)
                ) o
                WHERE o.direction = %s
                WINDOW w AS (PARTITION BY o.contact_id ORDER BY o.occurred_at, o.activity_id)
            ) t
            WHERE t.prev_at IS NOT NULL
        ) s
        JOIN {companies} c ON c.company_id = s.company_id
        WHERE s.days <= %s
        GROUP BY c.industry, c.size, s.prev_type, s.prev_outcome, s.activity_type, s.days
    """


def aggregate(*, response_days: int = DEFAULT_RESPONSE_DAYS) -> Aggregate:
    """Count, in the database, the touches and responses of every finest group: (industry, size
    band, previous channel, previous outcome, channel, delay bucket)."""
    params = [
        *RESPONSE_OUTCOMES,
        Direction.INBOUND,
        response_days,
        Direction.OUTBOUND,
        MAX_DELAY_DAYS,
    ]
    groups: dict[stats.GroupKey, list[int]] = defaultdict(lambda: [0, 0])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(Activity._meta.db_table)} "
            "WHERE contact_id IS NOT NULL"
        )
        activities = int(cursor.fetchone()[0])
        cursor.execute(_grouped_sql(), params)
        while rows := cursor.fetchmany(FETCH):
            for industry, size, prev_type, prev_outcome, channel, days, n, k in rows:
                bucket = delay_bucket(int(days))
                if bucket is None:
                    continue
                key = (industry, size_band(size), prev_type, prev_outcome, channel, bucket)
                counts = groups[key]
                counts[0] += int(n)
                counts[1] += int(k)
    return Aggregate(activities=activities, groups={k: (n, r) for k, (n, r) in groups.items()})


def _summary(activities: int, touches: int, comparisons: int, findings: int, min_n: int) -> str:
    read = (
        f"Read {activities:,} activities: {touches:,} follow-up touches, "
        f"{comparisons:,} comparison{'' if comparisons == 1 else 's'} with enough data"
    )
    if not comparisons:
        return (
            f"{read} (at least {min_n:,} touches in a cell and in its baseline); "
            "no comparison was possible, so nothing is recommended."
        )
    if not findings:
        return f"{read}; no comparison had enough evidence for a finding; nothing is recommended."
    return f"{read}; {findings:,} finding{'' if findings == 1 else 's'}."


def _finding(run: AnalysisRun, result: stats.Result) -> Finding:
    c = result.comparison
    return Finding(
        run=run,
        industry=c.profile.industry,
        size_band=c.profile.size_band,
        prev_channel=c.profile.prev_channel,
        prev_outcome=c.profile.prev_outcome,
        channel=c.cell.channel,
        delay_bucket=c.cell.bucket,
        n=c.n,
        responses=c.responses,
        rate=c.rate,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        baseline_n=c.baseline_n,
        baseline_responses=c.baseline_responses,
        baseline_rate=c.baseline_rate,
        ratio=min(c.ratio, MAX_STORED_RATIO),
        p_value=c.p_value,
        q_value=result.q_value,
        sentence=result.sentence,
    )


def history_analyze(
    *,
    min_n: int = stats.DEFAULT_MIN_N,
    q: float = stats.DEFAULT_Q,
    min_ratio: float = stats.DEFAULT_MIN_RATIO,
    response_days: int = DEFAULT_RESPONSE_DAYS,
    progress: Callable[[str], None] | None = None,
) -> AnalysisRun:
    """Analyse the whole activity history and store a run with its findings.

    ``min_n``: touches a cell and its baseline each need before they are compared. ``q``: the
    false discovery rate (Benjamini-Hochberg over every comparison of the run). ``min_ratio``:
    the smallest ratio of rates that counts as a practical effect (its inverse for fewer
    responses). ``response_days``: how soon an inbound activity must follow a touch to count as
    its response. The run row is written first (status running) and completed at the end; a
    failure marks it failed with the error in ``summary`` and is raised again.
    """
    if min_n < 1:
        raise ValueError("min_n must be at least 1.")
    if not 0 < q < 1:
        raise ValueError("q must be between 0 and 1.")
    if min_ratio <= 1:
        raise ValueError("min_ratio must be greater than 1.")
    if response_days < 0:
        raise ValueError("response_days must not be negative.")
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    run = AnalysisRun.objects.create(
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        params={"min_n": min_n, "q": q, "min_ratio": min_ratio, "response_days": response_days},
    )
    try:
        with transaction.atomic():
            say("Counting touches and responses in the database...")
            counted = aggregate(response_days=response_days)
            say(
                f"Read {counted.activities:,} activities into {len(counted.groups):,} groups "
                f"({time.perf_counter() - started:.1f} s); comparing..."
            )
            result = stats.analyse(counted.groups, min_n=min_n, q=q, min_ratio=min_ratio)
            Finding.objects.bulk_create(_finding(run, r) for r in result.findings)
            run.status = RunStatus.DONE
            run.activities = counted.activities
            run.touches = result.touches
            run.comparisons = result.comparisons
            run.findings_count = len(result.findings)
            run.summary = _summary(
                counted.activities, result.touches, result.comparisons, len(result.findings), min_n
            )
            run.finished_at = timezone.now()
            run.seconds = time.perf_counter() - started
            run.save()
    except Exception as error:
        run.status = RunStatus.FAILED
        run.summary = f"The analysis failed: {type(error).__name__}: {error}"
        run.finished_at = timezone.now()
        run.seconds = time.perf_counter() - started
        run.save(update_fields=["status", "summary", "finished_at", "seconds", "updated_at"])
        raise
    say(run.summary)
    return run
