"""The plans selectors on the database: who sees which plans, and the task windows (overdue,
today, upcoming) by each person's own calendar day, for one user and for a manager's team."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from cadence.accounts.tests.factories import UserFactory
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.plans.selectors import (
    is_overdue,
    overdue_q,
    plan_list,
    task_counts,
    task_list,
    team_tasks,
)
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

#: A fixed Tuesday, 09:00 UTC: 22:00 the same day in Auckland (UTC+13 in November).
NOW = datetime.datetime(2025, 11, 25, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)


def day_start(zone: str) -> datetime.datetime:
    """When NOW's local calendar day began in ``zone``, in UTC."""
    local = NOW.astimezone(ZoneInfo(zone))
    midnight = datetime.datetime.combine(local.date(), datetime.time.min, ZoneInfo(zone))
    return midnight.astimezone(datetime.UTC)


@pytest.fixture
def template(admin_user):
    strategy = ContactStrategyFactory(created_by=admin_user, name="Outbound")
    subject = "Hello {{ contact.first_name }} from {{ company.name }}"
    StrategyStepFactory(strategy=strategy, step_number=1, subject_template=subject)
    return strategy


def plan_for(user, strategy, due=NOW, **fields):
    company = CompanyFactory(owner=user, name="Acme")
    contact = ContactFactory(owner=user, company=company, first_name="Ada")
    return LeadContactPlanFactory(
        user=user, contact=contact, strategy=strategy, next_step_due_date=due, **fields
    )


def in_zone(zone, *users):
    for user in users:
        user.time_zone = zone
        user.save()


def pks(plans):
    return [plan.pk for plan in plans]


def test_plan_list_is_scoped_by_role(
    rep, teammate, manager, outsider, other_manager, admin_user, template
):
    owners = (rep, teammate, manager, outsider, admin_user)
    plans = {user.username: plan_for(user, template).pk for user in owners}
    seen = {u.username: {p.pk for p in plan_list(viewer=u)} for u in (*owners, other_manager)}

    assert seen == {
        "rep": {plans["rep"]},
        "teammate": {plans["teammate"]},
        "manager": {plans["rep"], plans["teammate"], plans["manager"]},
        "outsider": {plans["outsider"]},
        "other_manager": {plans["outsider"]},
        "admin": set(plans.values()),
    }


def test_task_windows_follow_the_local_day_with_exact_bounds(rep, template):
    in_zone("UTC", rep)
    start = day_start("UTC")
    end, horizon = start + DAY, start + 8 * DAY  # today ends; 7 days later the window does
    due = {
        "ancient": NOW - 400 * DAY,
        "yesterday_late": start - SECOND,
        "today_first": start,
        "today_last": end - SECOND,
        "tomorrow_first": end,
        "horizon_last": horizon - SECOND,
        "beyond": horizon,
    }
    plans = {key: plan_for(rep, template, when).pk for key, when in due.items()}
    order = [plans[key] for key in due]  # listed oldest first

    assert pks(task_list(user=rep, now=NOW, window="due")) == order[0:2]
    assert pks(task_list(user=rep, now=NOW, window="today")) == order[2:4]
    assert pks(task_list(user=rep, now=NOW, window="upcoming")) == order[4:6]
    everything = task_list(user=rep, now=NOW)
    assert pks(everything) == order[:6]
    assert [t.window for t in everything] == ["due"] * 2 + ["today"] * 2 + ["upcoming"] * 2
    assert {t.subject for t in everything} == {"Hello Ada from Acme"}
    assert task_counts(user=rep, now=NOW) == {"due": 2, "today": 2, "upcoming": 2}
    assert pks(task_list(user=rep, now=NOW, window="upcoming", days=8)) == order[4:7]
    assert task_counts(user=rep, now=NOW, days=0) == {"due": 2, "today": 2, "upcoming": 0}
    assert pks(task_list(user=rep, now=NOW, limit=3)) == order[:3]


def test_same_due_time_is_ordered_by_plan_id(rep, template):
    in_zone("UTC", rep)
    plans = [plan_for(rep, template, NOW).pk for _ in range(4)]
    assert pks(task_list(user=rep, now=NOW)) == sorted(plans)


def test_a_users_tasks_leave_out_stopped_stepless_and_others_plans(
    rep, teammate, manager, template
):
    in_zone("UTC", rep, manager)
    past = NOW - DAY
    running = plan_for(rep, template, past)
    not_started = plan_for(rep, template, past, status="Not Started")
    for status in ("Paused", "Completed", "Aborted"):
        plan_for(rep, template, past, status=status)
    stepless = plan_for(rep, ContactStrategyFactory(created_by=rep), past)
    assert stepless.current_step is None and stepless.next_step_due_date == past
    plan_for(teammate, template, past)

    assert set(pks(task_list(user=rep, now=NOW))) == {running.pk, not_started.pk}
    assert task_counts(user=rep, now=NOW) == {"due": 2, "today": 0, "upcoming": 0}
    # A manager's own task list is theirs alone, not the team's.
    assert task_list(user=manager, now=NOW) == []
    assert task_counts(user=manager, now=NOW) == {"due": 0, "today": 0, "upcoming": 0}


def test_today_is_the_users_own_calendar_day(rep, teammate, template):
    in_zone("UTC", teammate)
    in_zone("Pacific/Auckland", rep)
    # 12:00 UTC is tomorrow 01:00 in Auckland; 23:00 UTC yesterday is today 12:00 there.
    later, earlier = NOW + 3 * HOUR, day_start("UTC") - HOUR
    assert day_start("Pacific/Auckland") < earlier < later
    for user in (rep, teammate):
        plan_for(user, template, later)
        plan_for(user, template, earlier)

    assert [t.window for t in task_list(user=rep, now=NOW)] == ["today", "upcoming"]
    assert [t.window for t in task_list(user=teammate, now=NOW)] == ["due", "today"]
    assert task_counts(user=rep, now=NOW) == {"due": 0, "today": 1, "upcoming": 1}
    assert task_counts(user=teammate, now=NOW) == {"due": 1, "today": 1, "upcoming": 0}


@pytest.fixture
def board(rep, teammate, manager, outsider, template):
    """Team North: the rep in UTC, the teammate in Auckland, reps with nothing to do, a leaver
    with a task, the manager (Berlin) with one; and a task in Team South."""
    in_zone("UTC", rep)
    in_zone("Pacific/Auckland", teammate)
    manager.display_name = "Max"
    manager.save()
    made = {
        name: UserFactory(username=name, display_name=name, team=rep.team, is_active=active)
        for name, active in [("alan", True), ("Bea", True), ("leaver", False), ("gone", False)]
    }
    soon = NOW + 3 * HOUR  # today in UTC, tomorrow in Auckland
    plans = {
        "rep_old": plan_for(rep, template, NOW - 3 * DAY),
        "rep_due": plan_for(rep, template, NOW - 2 * DAY),
        "rep_today": plan_for(rep, template, soon),
        "mate_today": plan_for(teammate, template, NOW - HOUR),
        "mate_soon": plan_for(teammate, template, soon),
        "leaver_due": plan_for(made["leaver"], template, NOW - DAY),
        "mgr_later": plan_for(manager, template, NOW + 2 * DAY),
        "outsider_due": plan_for(outsider, template, NOW - 5 * DAY),
    }
    return {**{k: v.pk for k, v in made.items()}, **{k: v.pk for k, v in plans.items()}}


def test_team_tasks_of_a_manager(board, rep, teammate, manager, other_team):
    result = team_tasks(viewer=manager, now=NOW, team=other_team)  # a manager sees their own

    # The most behind first, then by name whatever its case.
    assert [(r.user.pk, r.due, r.today, r.upcoming) for r in result.reps] == [
        (rep.pk, 2, 1, 0),
        (board["leaver"], 1, 0, 0),
        (teammate.pk, 0, 1, 1),
        (board["alan"], 0, 0, 0),
        (board["Bea"], 0, 0, 0),
        (manager.pk, 0, 0, 1),
    ]
    assert pks(result.tasks["due"]) == [board["rep_old"], board["rep_due"], board["leaver_due"]]
    assert pks(result.tasks["today"]) == [board["mate_today"], board["rep_today"]]
    assert pks(result.tasks["upcoming"]) == [board["mate_soon"], board["mgr_later"]]
    assert {t.window for t in result.tasks["today"]} == {"today"}
    assert {t.subject for t in result.tasks["upcoming"]} == {"Hello Ada from Acme"}
    assert (result.total("due"), result.total("today"), result.total("upcoming")) == (3, 2, 2)
    # The counts are those of each rep's own dashboard.
    for row in result.reps:
        expected = task_counts(user=row.user, now=NOW)
        assert expected == {"due": row.due, "today": row.today, "upcoming": row.upcoming}


def test_team_tasks_windows_and_limit(board, manager, django_assert_num_queries):
    with django_assert_num_queries(3):
        result = team_tasks(viewer=manager, now=NOW, windows=("today",), limit=1)
    assert set(result.tasks) == {"today"}
    assert pks(result.tasks["today"]) == [board["mate_today"]]
    assert result.total("due") == 3


def test_team_tasks_of_a_rep_and_an_admin(board, rep, teammate, manager, outsider, admin_user):
    mine = team_tasks(viewer=rep, now=NOW)
    assert [r.user.pk for r in mine.reps] == [rep.pk]
    assert pks(mine.tasks["due"]) == [board["rep_old"], board["rep_due"]]

    everyone = team_tasks(viewer=admin_user, now=NOW)
    due = [board[key] for key in ("outsider_due", "rep_old", "rep_due", "leaver_due")]
    assert pks(everyone.tasks["due"]) == due
    listed = {board[name] for name in ("alan", "Bea", "leaver")}
    listed |= {rep.pk, teammate.pk, manager.pk, outsider.pk}
    assert {r.user.pk for r in everyone.reps} == listed
    assert everyone.reps[0].user == rep

    south = team_tasks(viewer=admin_user, now=NOW, team=outsider.team)
    assert [(r.user.pk, r.due) for r in south.reps] == [(outsider.pk, 1)]
    assert pks(south.tasks["due"]) == [board["outsider_due"]]
    assert south.tasks["today"] == south.tasks["upcoming"] == []


def test_overdue_is_the_same_in_python_and_in_the_database(rep):
    """A running plan whose due instant has passed is overdue; a paused or finished one, one
    due later or one without a due date is not. ``overdue_q`` and ``is_overdue`` agree."""
    made = {}
    for status in ("Not Started", "In Progress", "Paused", "Completed", "Aborted"):
        for offset in (-60, 0, 60, None):
            due = None if offset is None else NOW + datetime.timedelta(seconds=offset)
            plan = LeadContactPlanFactory(
                user=rep, contact=ContactFactory(owner=rep), status=status
            )
            LeadContactPlan.objects.filter(pk=plan.pk).update(next_step_due_date=due)
            made[(status, offset)] = plan.pk
    plans = LeadContactPlan.objects.filter(pk__in=made.values())
    in_sql = set(plans.filter(overdue_q(NOW)).values_list("pk", flat=True))
    in_python = {plan.pk for plan in plans if is_overdue(plan, NOW)}
    assert in_sql == in_python == {made[("Not Started", -60)], made[("In Progress", -60)]}
