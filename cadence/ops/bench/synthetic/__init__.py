"""A synthetic organisation history for the analytics benchmark (``manage.py bench_analytics``,
``docs/benchmarks.md``): teams, users, template strategies and N lead contact plans, each with
the life the product would have given it.

What is made (``org_generate``):

- ``TEAMS`` teams of ``REPS_PER_TEAM`` reps and one manager each, ``LONE_REPS`` reps in no team,
  and one admin. Every user's username starts with ``USER_PREFIX``, which is how the benchmark
  tells its data from anyone else's and what ``org_clear`` removes.
- ``STRATEGIES`` template strategies of 3 to 7 steps (Email, Call, LinkedIn Connect, LinkedIn
  Message, Task), half of them sending their email steps automatically. Strategies differ in
  popularity (a few take most plans, so there is a clearly biggest one) and in reply rate.
- Companies of about ``CONTACTS_PER_COMPANY`` contacts, owned by one rep, who works all their
  plans. Most contacts have one plan; ``SECOND_PLAN_SHARE`` of them a second one, in another
  strategy (a contact holds at most one active plan per strategy).
- Plans starting over the ``SPAN_DAYS`` before ``now`` (so a one-year view covers most), in
  order of their start, each walked step by step: a step falls due its delay after the previous
  one; it is done (a ``PlanStepResult`` and the ``Activity`` that did it) on time or late, or
  skipped; an automated email step goes through the outbox (an ``OutboundMessage``: sent, or
  failed and then skipped by the rep, or uncertain, which leaves the plan waiting). After a
  step the lead may reply (an inbound activity, plus an ``InboundMessage`` for an automated
  email; the plan ends ``replied``, or ``meeting_booked`` when a meeting follows), bounce,
  opt out, or the rep may end the plan by hand. A call may connect and book a meeting. Plans
  whose next step is not yet done by ``now`` are still running (some overdue, some paused,
  some not started). The exits follow the product's rules (``plans.services``): an event after
  the last step finds the plan already finished and leaves it so.
- Standalone activities of the same leads (calls, emails, meetings... not linked to a plan) so
  that the activities number ``activities_per_plan`` times the plans.

Everything is drawn from ``random.Random(seed)``, so a seed always makes the same history for
the same ``now``. Rows go in with ``COPY`` (PostgreSQL) or ``executemany`` (SQLite) as in
``cadence.ops.bench.history``, committed every ``FLUSH_ROWS`` activities with whatever they
refer to, so a failure midway leaves consistent rows behind and ``org_clear`` removes them.
"""

from cadence.ops.bench.synthetic.org import (
    bench_users,
    foreign_plans,
    org_clear,
    org_exists,
    org_generate,
)
from cadence.ops.bench.synthetic.rows import (
    SPAN_DAYS,
    STRATEGIES,
    TEAM_PREFIX,
    TEAMS,
    USER_PREFIX,
)

__all__ = [
    "SPAN_DAYS",
    "STRATEGIES",
    "TEAMS",
    "TEAM_PREFIX",
    "USER_PREFIX",
    "bench_users",
    "foreign_plans",
    "org_clear",
    "org_exists",
    "org_generate",
]
