"""Each report against small histories whose numbers were computed by hand."""

import dataclasses
import datetime

import pytest
from scipy.stats import binomtest

from cadence.accounts.tests.factories import UserFactory
from cadence.analytics import reports
from cadence.analytics.tests.history import (
    activity,
    at,
    email,
    inbound,
    plan,
    result,
    steps,
    strategy,
)
from cadence.analytics.types import Adherence, AdherenceWeek, EmailOutcome, ReportFilter
from cadence.core.errors import CadenceError

JANUARY = ReportFilter(start=at(1), end=at(1, month=2))


@pytest.fixture
def performance_history(rep, outsider):
    """Plans of January 2025 (see the docstring of each test for what they add up to)."""
    main = strategy("Outbound A", "Email", "Call", "LinkedIn Message", owner=rep)
    custom = strategy("Private", "Call", template=False, owner=rep)
    plan(rep, main, at(2), status="Completed", exit_reason="replied", ended_at=at(4))
    plan(rep, main, at(3), started_at=None, status="Completed", exit_reason="finished")
    converting = plan(rep, main, at(5), status="In Progress")
    activity(converting, "Meeting Booked", at(6))
    activity(converting, "Meeting Booked", at(9))
    plan(rep, main, at(6), status="Aborted", exit_reason="manual", ended_at=at(7))
    plan(rep, main, at(7), status="Completed", exit_reason="bounced", ended_at=at(8))
    plan(rep, main, at(8), status="Aborted", exit_reason="opted_out", ended_at=at(9))
    plan(rep, main, at(9), status="Not Started", started_at=None)
    plan(rep, main, at(3, month=2), status="Completed", exit_reason="replied", ended_at=at(4))
    plan(rep, None, at(10), status="Completed", exit_reason="meeting_booked", ended_at=at(13))
    plan(rep, custom, at(11), status="Paused")
    plan(outsider, main, at(12), status="Completed", exit_reason="replied", ended_at=at(12, 6))
    return main


def test_strategy_performance_counts_by_hand(performance_history, manager):
    """Seven plans of the template started in January: two active, three completed, two
    converted (one by its exit reason after 48 h, one by a Meeting Booked activity after 24 h),
    one exit of each other kind; deleted and custom strategies have rows of their own; another
    team's plan is not the manager's to see."""
    rows = reports.strategy_performance(viewer=manager, filters=JANUARY)

    assert [r.strategy_name for r in rows] == ["Outbound A", "(no strategy)", "Custom plans"]
    main, none, custom = rows
    assert main.strategy_id == performance_history.pk
    assert (main.started, main.active, main.completed, main.converted) == (7, 2, 3, 2)
    assert main.conversion_rate == pytest.approx(2 / 7)
    expected = binomtest(2, 7).proportion_ci(method="wilson")
    assert (main.ci_low, main.ci_high) == pytest.approx((expected.low, expected.high))
    assert main.median_days_to_conversion == 1.5
    assert main.exits == {"finished": 1, "opted_out": 1, "bounced": 1, "aborted": 1}
    assert (none.strategy_id, none.started, none.converted) == (None, 1, 1)
    assert none.median_days_to_conversion == 3.0
    assert (custom.strategy_id, custom.started, custom.active, custom.converted) == (None, 1, 1, 0)
    assert custom.conversion_rate == 0.0
    assert custom.median_days_to_conversion is None


def test_strategy_performance_admin_sees_every_team(performance_history, admin_user):
    """The outsider's plan converted after 6 hours: 3 of 8, median 24 h."""
    main = reports.strategy_performance(viewer=admin_user, filters=JANUARY)[0]
    assert (main.started, main.converted) == (8, 3)
    assert main.median_days_to_conversion == 1.0


def test_conversion_outcomes_setting(performance_history, manager, settings):
    """With only Meeting Booked converting, the replied plan is no longer converted (nor an
    exit of the four kinds)."""
    settings.CADENCE_CONVERSION_OUTCOMES = ["Meeting Booked"]
    main = reports.strategy_performance(viewer=manager, filters=JANUARY)[0]
    assert main.converted == 1
    assert main.median_days_to_conversion == 1.0
    assert main.exits == {"finished": 1, "opted_out": 1, "bounced": 1, "aborted": 1}


def test_filters_narrow_the_cohort(performance_history, rep, teammate, admin_user):
    """Filtering by user, team or strategy keeps only the matching plans."""
    by_user = reports.strategy_performance(
        viewer=admin_user, filters=ReportFilter(JANUARY.start, JANUARY.end, user_id=teammate.pk)
    )
    assert by_user == []
    by_team = reports.strategy_performance(
        viewer=admin_user, filters=ReportFilter(JANUARY.start, JANUARY.end, team_id=rep.team_id)
    )
    assert sum(r.started for r in by_team) == 9
    by_strategy = reports.strategy_performance(
        viewer=admin_user,
        filters=ReportFilter(JANUARY.start, JANUARY.end, strategy_id=performance_history.pk),
    )
    assert [r.started for r in by_strategy] == [8]


def test_empty_period_is_refused(rep):
    with pytest.raises(CadenceError):
        reports.strategy_performance(viewer=rep, filters=ReportFilter(at(2), at(2)))


@pytest.fixture
def funnel_history(rep):
    """Five plans through Email, Call, LinkedIn Message, all started on 1 January at midnight."""
    made = strategy("Funnel", "Email", "Call", "LinkedIn Message", owner=rep)
    s1, s2, s3 = steps(made)
    a = plan(rep, made, at(1), status="Completed", exit_reason="finished", current_step=s3)
    result(a, s1, "completed", at(2), due_at=at(1, 12))
    result(a, s2, "completed", at(5), due_at=at(3))
    result(a, s3, "completed", at(6))
    b = plan(rep, made, at(1), status="Completed", exit_reason="replied", current_step=s2)
    result(b, s1, "completed", at(1, 6), due_at=at(1))
    c = plan(rep, made, at(1), status="In Progress", current_step=s3)
    result(c, s1, "skipped", at(1, 12))
    result(c, s2, "completed", at(3), due_at=at(2))
    plan(rep, made, at(1), status="In Progress", current_step=s1)
    e = plan(rep, made, at(1), status="Aborted", exit_reason="manual", current_step=s2)
    result(e, s1, "completed", at(2), due_at=at(1))
    return made


def test_step_funnel_by_hand(funnel_history, rep):
    funnel = reports.step_funnel(viewer=rep, filters=JANUARY, strategy=funnel_history)

    first, second, third = funnel.steps
    assert (first.reached, first.completed, first.skipped, first.exited) == (5, 3, 1, 0)
    assert (second.reached, second.completed, second.skipped, second.exited) == (4, 2, 0, 2)
    assert (third.reached, third.completed, third.skipped, third.exited) == (2, 1, 0, 0)
    assert second.exits == {"manual": 1, "replied": 1}
    assert (first.reply_rate, second.reply_rate, third.reply_rate) == (pytest.approx(1 / 3), 0, 0)
    assert (first.median_hours, first.p90_hours) == (24, 24)
    assert (second.median_hours, second.p90_hours) == (54, 72)
    assert (third.median_hours, third.p90_hours) == (24, 24)
    assert (first.late_share, second.late_share, third.late_share) == (0, 0.5, None)
    assert funnel.biggest_drop == (
        "Most plans leave at step 2 (Call): 50% of the 4 that reached it go no further."
    )
    assert funnel.slowest == (
        "Step 2 (Call) is the slowest: a median of 2.2 days, 90% within 3.0 days."
    )


def test_step_funnel_grace_period(funnel_history, rep):
    """With no grace, every first step done after its due time (6, 12 and 24 hours) is late,
    and C's second step (24 hours) too."""
    funnel = reports.step_funnel(
        viewer=rep, filters=JANUARY, strategy=funnel_history, grace_hours=0
    )
    assert [s.late_share for s in funnel.steps] == [1.0, 1.0, None]


def test_step_funnel_without_data(rep):
    made = strategy("Quiet", "Email", owner=rep)
    funnel = reports.step_funnel(viewer=rep, filters=JANUARY, strategy=made)
    assert funnel.steps[0].reached == 0
    assert funnel.steps[0].reply_rate is None
    assert "Not enough data" in funnel.biggest_drop
    assert "Not enough data" in funnel.slowest


@pytest.fixture
def adherence_history(rep, teammate, outsider):
    made = strategy("Adherence", "Email", "Call", "LinkedIn Message", owner=rep)
    s1, s2, s3 = steps(made)
    solo = UserFactory(username="solo", team=None)
    r1 = plan(rep, made, at(1), status="In Progress")
    result(r1, s1, "completed", at(2, 10), due_at=at(2))
    result(r1, s2, "completed", at(8), due_at=at(6))
    result(r1, s3, "skipped", at(9), due_at=at(9))
    plan(rep, made, at(1), status="In Progress", next_step_due_date=at(10))
    plan(rep, made, at(1), status="In Progress", next_step_due_date=at(14))
    plan(rep, made, at(1), status="Paused", next_step_due_date=at(3))
    old = plan(rep, made, at(1, month=12, year=2024))
    result(old, s1, "completed", at(31, month=12, year=2024), due_at=at(31, month=12, year=2024))
    t1 = plan(teammate, made, at(1))
    result(t1, s1, "completed", at(5, 12), due_at=at(3))
    result(t1, s2, "completed", at(13), due_at=at(13))
    result(plan(solo, made, at(1)), s1, "skipped", at(7), due_at=at(7))
    result(plan(outsider, made, at(1)), s1, "completed", at(4), due_at=at(4))
    return solo


def test_adherence_by_hand(adherence_history, rep, teammate, outsider, admin_user):
    solo = adherence_history
    report = reports.adherence(
        viewer=admin_user, filters=ReportFilter(at(1), at(15)), now=at(14, 12)
    )

    users = {row.key: row for row in report.users}
    mine = users[rep.pk]
    assert (mine.due, mine.on_time, mine.late, mine.skipped, mine.overdue) == (4, 1, 1, 1, 1)
    assert (mine.adherence, mine.average_lateness_hours) == (0.25, 48.0)
    theirs = users[teammate.pk]
    assert (theirs.due, theirs.on_time, theirs.late, theirs.average_lateness_hours) == (2, 1, 1, 60)
    assert (users[solo.pk].due, users[solo.pk].adherence) == (1, 0.0)
    assert users[outsider.pk].adherence == 1.0
    assert [(t.name, t.due, t.on_time, t.late) for t in report.teams] == [
        (
            "Team North",
            6,
            2,
            2,
        ),
        ("Team South", 1, 1, 0),
        ("No team", 1, 0, 0),
    ]
    assert report.teams[0].average_lateness_hours == 54.0
    assert [(w.week_start, w.due, w.on_time) for w in report.weekly] == [
        (datetime.date(2024, 12, 30), 3, 2),
        (datetime.date(2025, 1, 6), 4, 0),
        (datetime.date(2025, 1, 13), 1, 1),
    ]


def test_adherence_scope_and_grace(adherence_history, rep, teammate, manager):
    """The manager sees the team; 72 hours of grace make both late steps on time."""
    report = reports.adherence(
        viewer=manager, filters=ReportFilter(at(1), at(15)), grace_hours=72, now=at(14, 12)
    )
    assert {row.key for row in report.users} == {rep.pk, teammate.pk}
    assert sum(row.late for row in report.users) == 0
    assert sum(row.on_time for row in report.users) == 4
    with pytest.raises(CadenceError):
        reports.adherence(viewer=manager, filters=JANUARY, grace_hours=721)


def test_email_outcomes_by_hand(rep, admin_user):
    made = strategy("Emails", "Email", "Email", "Call", owner=rep)
    s1, s2, _ = steps(made)
    p1 = plan(rep, made, at(1))
    inbound(email(p1, s1, "sent", at(2)), "reply")
    email(p1, s2, "sent", at(5, month=2))
    p2 = plan(rep, made, at(1), status="Completed", exit_reason="replied")
    result(p2, s1, "completed", at(2))
    email(p2, s1, "sent", at(2))
    inbound(email(plan(rep, made, at(1)), s1, "sent", at(3)), "bounce")
    email(plan(rep, made, at(1)), s1, "uncertain", handoff_at=at(3))
    p5 = plan(rep, made, at(1), status="Aborted", exit_reason="opted_out")
    result(p5, s1, "completed", at(2))
    result(p5, s2, "completed", at(5))
    email(p5, s2, "sent", at(5))
    email(plan(rep, made, at(1)), s1, "failed", at(3))
    inbound(email(plan(rep, made, at(1)), s1, "sent", at(4)), "complaint")
    p8 = plan(rep, made, at(1), status="Completed", exit_reason="replied")
    result(p8, s1, "completed", at(6))
    result(p8, s2, "completed", at(8))
    email(p8, s1, "sent", at(6))

    rows = reports.email_outcomes(viewer=admin_user, filters=JANUARY)

    summary = [
        (r.step_number, r.sent, r.replied, r.bounced, r.opted_out, r.uncertain) for r in rows
    ]
    assert summary == [(1, 5, 2, 1, 1, 1), (2, 1, 0, 0, 1, 0)]
    assert {(r.strategy_id, r.strategy_name) for r in rows} == {(made.pk, "Emails")}
    assert [r.step_id for r in rows] == [s1.pk, s2.pk]


def test_the_report_types_compute_their_rates_once():
    """The rates the pages show are the reports' own: replies per email sent, and on-time
    steps among those due over the whole period (not an average of weekly rates)."""
    row = EmailOutcome(
        strategy_id=None,
        strategy_name="S",
        step_id=None,
        step_number=1,
        sent=8,
        replied=2,
        bounced=0,
        opted_out=0,
        uncertain=0,
    )
    assert row.reply_rate == 0.25
    assert dataclasses.replace(row, sent=0, replied=0).reply_rate is None
    day = datetime.date(2030, 1, 7)
    weeks = [AdherenceWeek(day, due=1, on_time=1, adherence=1.0), AdherenceWeek(day, 3, 0, 0.0)]
    assert Adherence(users=[], teams=[], weekly=weeks).overall == 0.25
    assert Adherence(users=[], teams=[], weekly=[]).overall is None
