"""What each report returns: plain dataclasses, shared by the API (JSON and CSV), the pages and
the benchmark. ``reports`` computes them."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from cadence.analytics.stats import ratio


@dataclass(frozen=True)
class ReportFilter:
    """The period ``[start, end)`` and optional narrowing by team, user and strategy. What the
    viewer may see is applied on top: reps their own plans, managers their team's, admins all."""

    start: datetime.datetime
    end: datetime.datetime
    team_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    strategy_id: uuid.UUID | None = None


@dataclass
class StrategyPerformance:
    """One strategy over the plans that started in the period (``plan_start_date``)."""

    strategy_id: uuid.UUID | None
    strategy_name: str
    started: int
    active: int
    completed: int
    converted: int
    conversion_rate: float | None  # converted / started; None when nothing started
    ci_low: float | None  # 95% Wilson interval of the conversion rate
    ci_high: float | None
    median_days_to_conversion: float | None
    exits: dict[str, int] = field(default_factory=dict)  # finished, opted_out, bounced, aborted


@dataclass
class FunnelStep:
    step_id: uuid.UUID
    step_number: int
    activity_type: str
    reached: int
    completed: int
    skipped: int
    exited: int
    exits: dict[str, int]  # by exit reason
    reply_rate: float | None  # replies after this step / plans that completed it
    median_hours: float | None  # time spent on the step, arrival to completion
    p90_hours: float | None
    late_share: float | None  # completed later than due (plus the grace period)


@dataclass
class Funnel:
    strategy_id: uuid.UUID
    strategy_name: str
    steps: list[FunnelStep]
    biggest_drop: str  # in words, e.g. "Most plans leave at step 2 (Call): 41% of those..."
    slowest: str  # in words


@dataclass
class AdherenceRow:
    """Planned steps that fell due in the period, for one user or one team."""

    key: uuid.UUID | None  # user_id or team_id (None: users without a team)
    name: str
    due: int
    on_time: int
    late: int
    average_lateness_hours: float | None
    skipped: int
    overdue: int
    adherence: float | None  # on_time / due


@dataclass
class AdherenceWeek:
    week_start: datetime.date
    due: int
    on_time: int
    adherence: float | None


@dataclass
class Adherence:
    users: list[AdherenceRow]
    teams: list[AdherenceRow]
    weekly: list[AdherenceWeek]

    @property
    def overall(self) -> float | None:
        """Steps done on time among those due, over every week of the period."""
        return ratio(
            sum(week.on_time for week in self.weekly), sum(week.due for week in self.weekly)
        )


@dataclass
class EmailOutcome:
    """Automated emails of one step of one strategy, by what became of them."""

    strategy_id: uuid.UUID | None
    strategy_name: str
    step_id: uuid.UUID | None
    step_number: int | None
    sent: int
    replied: int
    bounced: int
    opted_out: int
    uncertain: int

    @property
    def reply_rate(self) -> float | None:
        """Replies per email sent."""
        return ratio(self.replied, self.sent)
