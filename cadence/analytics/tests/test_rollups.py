"""The adherence and email rollups: what a refresh recounts, and that the reports read the same
figures from them as they count live (the Hypothesis tests in ``test_properties`` cover random
histories)."""

import datetime

import pytest
from celery.schedules import crontab, maybe_schedule
from django.core.management import call_command
from django.test import override_settings

from cadence.analytics import reports
from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.analytics.rollups import adherence_rollup_refresh, email_rollup_refresh
from cadence.analytics.tasks import refresh_rollups_task
from cadence.analytics.tests.history import at, email, inbound, plan, result, steps, strategy
from cadence.analytics.types import ReportFilter
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.plans import services as plan_services
from cadence.plans.models import LeadContactPlan, PlanStepResult
from config.celery import app

PERIOD = ReportFilter(start=at(1), end=at(20))
LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def figures(viewer, filters=PERIOD):
    report = reports.adherence(viewer=viewer, filters=filters, now=at(25))
    return (
        {
            r.key: (r.due, r.on_time, r.late, r.skipped, r.average_lateness_hours)
            for r in report.users
        },
        [(w.week_start, w.due, w.on_time) for w in report.weekly],
    )


def live_figures(viewer, filters=PERIOD):
    """The same report with the rollup out of the way."""
    saved = list(RollupState.objects.all())
    RollupState.objects.all().delete()
    try:
        return figures(viewer, filters)
    finally:
        RollupState.objects.bulk_create(saved)


def age_results():
    PlanStepResult.objects.update(updated_at=LONG_AGO)


@pytest.fixture
def history(rep, teammate):
    made = strategy("Rollup", "Email", "Call", "Email", owner=rep)
    s1, s2, s3 = steps(made)
    first = plan(rep, made, at(1))
    result(first, s1, "completed", at(2, 10), due_at=at(2))  # on time
    result(first, s2, "completed", at(6, 12), due_at=at(4))  # 60 h late
    result(first, s3, "skipped", at(9), due_at=at(9))
    second = plan(teammate, made, at(1))
    result(second, s1, "completed", at(3, 1), due_at=at(3))
    age_results()
    return made, first, second


@pytest.mark.django_db
def test_a_rebuild_counts_each_day_user_and_strategy(history, rep, teammate, admin_user):
    made, _, _ = history
    summary = adherence_rollup_refresh()
    assert summary.rebuilt and summary.rows == 4
    rows = {
        (r.day.day, r.user_id): (r.on_time, r.late, r.skipped, r.late_seconds)
        for r in AdherenceDay.objects.all()
    }
    assert rows == {
        (2, rep.pk): (1, 0, 0, 0),
        (4, rep.pk): (0, 1, 0, 60 * 3600),
        (9, rep.pk): (0, 0, 1, 0),
        (3, teammate.pk): (1, 0, 0, 0),
    }
    assert set(AdherenceDay.objects.values_list("strategy_id", flat=True)) == {made.pk}
    assert figures(admin_user) == live_figures(admin_user)
    assert figures(admin_user)[0][rep.pk] == (3, 1, 1, 1, 60.0)


@pytest.mark.django_db
def test_a_refresh_recounts_only_the_days_of_new_results(history, rep, admin_user):
    made, _, _ = history
    adherence_rollup_refresh()
    late_plan = plan(rep, made, at(1))
    s1 = steps(made)[0]
    result(late_plan, s1, "completed", at(12), due_at=at(2))
    # Before the refresh the report already counts the new result (its day is counted live).
    assert figures(admin_user)[0][rep.pk] == (4, 1, 2, 1, 150.0)
    summary = adherence_rollup_refresh()
    assert (summary.rebuilt, summary.days) == (False, 1)
    assert AdherenceDay.objects.get(day=at(2).date(), user=rep).late == 1
    age_results()
    assert figures(admin_user) == live_figures(admin_user)
    assert figures(admin_user)[0][rep.pk] == (4, 1, 2, 1, 150.0)


@pytest.mark.django_db
def test_partial_days_at_either_end_are_counted_live(history, rep, admin_user):
    adherence_rollup_refresh()
    # From 10:00 on the 2nd (the on-time step was due at midnight) to noon on the 4th (the late
    # step was due at midnight: inside).
    narrow = ReportFilter(start=at(2, 10), end=at(4, 12))
    assert figures(admin_user, narrow) == live_figures(admin_user, narrow)
    users, _ = figures(admin_user, narrow)
    assert users[rep.pk] == (1, 0, 1, 0, 60.0)


@pytest.mark.django_db
def test_a_reassigned_plan_moves_its_history_to_the_new_owner(history, rep, teammate, admin_user):
    _, first, _ = history
    adherence_rollup_refresh()
    plan_services.plan_update(plan=first, data={"user": teammate})
    assert figures(admin_user) == live_figures(admin_user)
    assert rep.pk not in figures(admin_user)[0]
    adherence_rollup_refresh()
    assert not AdherenceDay.objects.filter(user=rep).exists()
    age_results()
    assert figures(admin_user)[0][teammate.pk][0] == 4


@pytest.mark.django_db
def test_filters_and_scope_apply_to_the_rollup(history, rep, teammate, manager, outsider):
    made, _, _ = history
    adherence_rollup_refresh()
    for viewer, filters in [
        (manager, PERIOD),
        (rep, PERIOD),
        (outsider, PERIOD),
        (manager, ReportFilter(at(1), at(20), user_id=teammate.pk)),
        (manager, ReportFilter(at(1), at(20), strategy_id=made.pk)),
        (manager, ReportFilter(at(1), at(20), team_id=teammate.team_id)),
    ]:
        assert figures(viewer, filters) == live_figures(viewer, filters)
    assert set(figures(rep)[0]) == {rep.pk}
    assert figures(outsider)[0] == {}


@pytest.mark.django_db
def test_another_grace_is_counted_live_and_a_new_setting_rebuilds(history, rep, admin_user):
    adherence_rollup_refresh()
    generous = reports.adherence(viewer=admin_user, filters=PERIOD, grace_hours=72, now=at(25))
    assert {r.key: r.late for r in generous.users}[rep.pk] == 0
    with override_settings(CADENCE_ADHERENCE_GRACE_HOURS=72):
        summary = adherence_rollup_refresh()
        assert summary.rebuilt
        assert RollupState.objects.get().grace_seconds == 72 * 3600
        assert figures(admin_user)[0][rep.pk] == (3, 2, 0, 1, None)


@pytest.mark.django_db
def test_a_deleted_plan_leaves_the_rollup_at_the_nightly_rebuild(history, rep, admin_user):
    """A refresh sees written results only; a deleted plan's results leave at the rebuild."""
    _, first, _ = history
    adherence_rollup_refresh()
    plan_services.plan_delete(plan=first)
    adherence_rollup_refresh()
    assert AdherenceDay.objects.filter(user=rep).exists()
    refresh_rollups_task(rebuild=True)
    assert not AdherenceDay.objects.filter(user=rep).exists()
    assert figures(admin_user) == live_figures(admin_user)


@pytest.mark.django_db
def test_the_command_and_the_task_report_what_they_did(history, capsys):
    call_command("refresh_analytics")
    assert "Adherence rollup rebuilt: 4 rows" in capsys.readouterr().out
    assert refresh_rollups_task().startswith("Adherence rollup 0 day(s) recounted: 4 rows")
    call_command("refresh_analytics", "--rebuild")
    assert "rebuilt" in capsys.readouterr().out


def test_beat_refreshes_every_ten_minutes_and_rebuilds_nightly():
    entries = {
        name: entry
        for name, entry in app.conf.beat_schedule.items()
        if entry["task"] == "analytics.refresh_rollups"
    }
    assert set(entries) == {"refresh-analytics", "rebuild-analytics"}
    every = maybe_schedule(entries["refresh-analytics"]["schedule"]).run_every
    assert every == datetime.timedelta(minutes=10)
    nightly = entries["rebuild-analytics"]
    assert isinstance(nightly["schedule"], crontab) and nightly["kwargs"] == {"rebuild": True}
    app.loader.import_default_modules()
    assert app.tasks["analytics.refresh_rollups"].run is refresh_rollups_task.run


# --- Email outcomes ----------------------------------------------------------------------------


def outcomes(viewer, filters=PERIOD):
    return {
        (r.strategy_name, r.step_number): (r.sent, r.replied, r.bounced, r.opted_out, r.uncertain)
        for r in reports.email_outcomes(viewer=viewer, filters=filters)
    }


def live_outcomes(viewer, filters=PERIOD):
    saved = list(RollupState.objects.all())
    RollupState.objects.all().delete()
    try:
        return outcomes(viewer, filters)
    finally:
        RollupState.objects.bulk_create(saved)


def age_everything():
    for model in (PlanStepResult, LeadContactPlan, OutboundMessage, InboundMessage):
        model.objects.update(updated_at=LONG_AGO)


@pytest.fixture
def emails(rep):
    made = strategy("Mailer", "Email", "Email", owner=rep)
    s1, s2 = steps(made)
    first = plan(rep, made, at(1), status="In Progress")
    result(first, s1, "completed", at(2))
    one = email(first, s1, "sent", sent_at=at(2))
    second = plan(rep, made, at(1), status="In Progress")
    result(second, s1, "completed", at(3))
    email(second, s1, "sent", sent_at=at(3))
    email(second, s2, "uncertain", handoff_at=at(5))
    age_everything()
    return made, first, one


@pytest.mark.django_db
def test_the_email_rollup_counts_each_day_user_strategy_and_step(emails, admin_user):
    summary = email_rollup_refresh()
    assert summary.rebuilt and summary.rows == 3
    assert {(r.day.day, r.sent, r.uncertain) for r in EmailDay.objects.all()} == {
        (2, 1, 0),
        (3, 1, 0),
        (5, 0, 1),
    }
    assert outcomes(admin_user) == live_outcomes(admin_user)
    assert outcomes(admin_user) == {("Mailer", 1): (2, 0, 0, 0, 0), ("Mailer", 2): (0, 0, 0, 0, 1)}


@pytest.mark.django_db
def test_a_reply_or_an_exit_after_the_refresh_is_counted_at_once(emails, admin_user):
    """Outcomes change after the email was sent: the report sees them before the next refresh
    (the email's day is counted live), and the refresh then recounts that day."""
    _, first, one = emails
    email_rollup_refresh()
    inbound(one, "reply")
    assert outcomes(admin_user)[("Mailer", 1)] == (2, 1, 0, 0, 0)
    first.status, first.exit_reason = "Aborted", "bounced"
    first.save()
    assert outcomes(admin_user)[("Mailer", 1)] == (2, 1, 1, 0, 0)
    summary = email_rollup_refresh()
    assert (summary.rebuilt, summary.days) == (False, 1)
    age_everything()
    assert outcomes(admin_user) == live_outcomes(admin_user)
    assert outcomes(admin_user)[("Mailer", 1)] == (2, 1, 1, 0, 0)


@pytest.mark.django_db
def test_strategies_and_steps_are_grouped_as_they_are_now(emails, admin_user):
    """The rollup keeps IDs: a template made private, or a step renumbered, shows as it is
    when the report runs, without a refresh."""
    made, _, _ = emails
    email_rollup_refresh()
    made.steps.filter(step_number=2).update(step_number=3)
    assert ("Mailer", 3) in outcomes(admin_user)
    made.is_template = False
    made.save()
    assert set(outcomes(admin_user)) == {("Custom plans", 1), ("Custom plans", 3)}
    assert outcomes(admin_user) == live_outcomes(admin_user)


@pytest.mark.django_db
def test_the_task_refreshes_both_rollups(emails):
    summary = refresh_rollups_task()
    assert "Adherence rollup rebuilt" in summary and "Email rollup rebuilt: 3 rows" in summary
