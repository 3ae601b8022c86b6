"""The dashboard: the user's tasks by window with their one-click actions (log done, skip,
snooze), unread notifications and plan counts by status."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from cadence.activities.choices import ReminderStatus
from cadence.activities.models import Activity, Reminder
from cadence.activities.tests.factories import ReminderFactory
from cadence.crm.tests.factories import ContactFactory
from cadence.notifications.models import Notification
from cadence.plans.choices import PlanStatus, StepResult
from cadence.plans.models import PlanStepResult
from cadence.plans.services import plan_abort, plan_pause
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.scheduling.due import local_day_bounds
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BERLIN = ZoneInfo("Europe/Berlin")


def make_plan(user, *, due=None, first_name="Ada", company="Acme", types=("Email", "Call")):
    """A plan run by ``user`` at step 1 of a strategy with one step per type, due at ``due``."""
    strategy = ContactStrategyFactory(created_by=user)
    for number, activity_type in enumerate(types, start=1):
        StrategyStepFactory(strategy=strategy, step_number=number, activity_type=activity_type)
    contact = ContactFactory(
        first_name=first_name, last_name="Lovelace", company__name=company, company__owner=user
    )
    kwargs = {"next_step_due_date": due} if due else {}
    return LeadContactPlanFactory(contact=contact, strategy=strategy, user=user, **kwargs)


def today_at_start(user):
    start, _ = local_day_bounds(timezone.now(), time_zone=user.time_zone)
    return start + datetime.timedelta(minutes=1)


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_tasks_are_grouped_overdue_today_upcoming_with_overdue_highlighted(
    rep, teammate, web_client
):
    now = timezone.now()
    old = make_plan(rep, due=now - datetime.timedelta(days=5), first_name="Oldest")
    late = make_plan(rep, due=now - datetime.timedelta(days=2), first_name="Later")
    today = make_plan(rep, due=today_at_start(rep), first_name="Tina", company="Today Inc")
    soon = make_plan(rep, due=now + datetime.timedelta(days=3), first_name="Uma")
    make_plan(rep, due=now + datetime.timedelta(days=30), first_name="Faraway")
    make_plan(teammate, due=now - datetime.timedelta(days=1), first_name="Notmine")

    page = web_client(rep).get("/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'Overdue <span class="muted">(2)</span>' in html
    assert 'Today <span class="muted">(1)</span>' in html
    assert 'Upcoming <span class="muted">(1)</span>' in html
    # Oldest first, overdue before today before upcoming.
    positions = [html.index(f'id="task-{plan.pk}"') for plan in (old, late, today, soon)]
    assert positions == sorted(positions)
    assert f'id="task-{old.pk}" class="task overdue"' in html
    assert f'id="task-{today.pk}" class="task"' in html
    assert "Faraway" not in html
    assert "Notmine" not in html
    # Contact, company, step, type and rendered subject.
    assert "Tina Lovelace" in html and "Today Inc" in html
    assert "Step 1 · Email" in html
    assert "Hello Tina" in html
    assert f'href="/plans/{today.pk}/"' in html


def test_due_times_are_shown_in_the_users_time_zone(rep, web_client):
    due = datetime.datetime(2031, 1, 2, 8, 30, tzinfo=datetime.UTC)
    plan = make_plan(rep, due=timezone.now() + datetime.timedelta(days=2))
    # The row renders whatever the plan's due date is; use the row endpoint to pin a value.
    type(plan).objects.filter(pk=plan.pk).update(next_step_due_date=due)

    row = web_client(rep).get(f"/tasks/{plan.pk}/", **HTMX)

    # 08:30 UTC is 09:30 in Berlin in winter.
    assert b"Thu 2 Jan, 09:30" in row.content
    assert b'datetime="2031-01-02T09:30:00+01:00"' in row.content


def test_unread_notifications_latest_five_and_plan_counts(rep, teammate, web_client):
    for number in range(7):
        Notification.objects.create(user=rep, title=f"Note {number}")
    Notification.objects.create(user=rep, title="Already read", read_at=timezone.now())
    Notification.objects.create(user=teammate, title="Someone else's")
    make_plan(rep)
    make_plan(rep, first_name="Bea")
    paused = make_plan(rep, first_name="Cy")
    plan_pause(plan=paused)
    make_plan(teammate)

    html = web_client(rep).get("/").content.decode()

    shown = [n for n in range(7) if f"Note {n}<" in html]
    assert len(shown) == 5
    assert "Already read" not in html
    assert "Someone else" not in html
    assert 'href="/notifications/">All notifications' in html
    assert f"/plans/?status=Not+Started&amp;owner={rep.pk}" in html
    assert "<span>Not Started</span> <strong>2</strong>" in html
    assert "<span>Paused</span> <strong>1</strong>" in html
    assert "<span>Completed</span> <strong>0</strong>" in html


def test_dashboard_query_count_does_not_grow_with_tasks(
    rep, web_client, django_assert_max_num_queries
):
    now = timezone.now()
    for number in range(24):
        make_plan(rep, due=now + datetime.timedelta(hours=number - 12), first_name=f"P{number}")
    for number in range(5):
        Notification.objects.create(user=rep, title=f"Note {number}")
    client = web_client(rep)

    # One query per task section and one counting them all, whatever the number of tasks, and
    # one each for the open suggestions and the tasks accepted ones made.
    with django_assert_max_num_queries(11):
        page = client.get("/")

    assert page.content.count(b'class="task') >= 24


def test_a_long_backlog_lists_the_oldest_and_links_to_the_rest(rep, web_client, monkeypatch):
    from cadence.web.views import dashboard

    monkeypatch.setattr(dashboard, "TASKS_SHOWN", 3)
    now = timezone.now()
    for number in range(5):
        make_plan(rep, due=now - datetime.timedelta(days=3, hours=number), first_name=f"P{number}")

    html = web_client(rep).get("/").content.decode()

    assert 'Overdue <span class="muted">(5)</span>' in html
    assert html.count('class="task overdue"') == 3
    assert "2 more in the plans list" in html
    assert "due=overdue" in html


# -- Log done -----------------------------------------------------------------------------------


def test_log_done_opens_its_form_in_the_row_with_htmx_and_as_a_page_without(rep, web_client):
    plan = make_plan(rep, types=("Call", "Email"))
    client = web_client(rep)

    row = client.get(f"/tasks/{plan.pk}/done/", **HTMX)
    assert row.status_code == 200
    assert b"<html" not in row.content
    assert row.content.decode().strip().startswith(f'<li id="task-{plan.pk}"')
    html = row.content.decode()
    assert f'<label for="task-{plan.pk}-outcome">Outcome</label>' in html
    assert f'<label for="task-{plan.pk}-notes">Notes</label>' in html
    # Outcomes that fit a call, not an email's.
    assert "No Answer" in html and "Voicemail Left" in html
    assert "Bounced" not in html

    page = client.get(f"/tasks/{plan.pk}/done/")
    assert page.status_code == 200
    assert b"<html" in page.content
    assert b"Log done: Ada Lovelace at Acme" in page.content
    assert b"hx-post" not in page.content.split(b"<main")[1]


def test_log_done_records_the_activity_and_advances_the_plan(rep, web_client):
    plan = make_plan(rep, types=("Call", "Email"))
    step = plan.current_step

    response = web_client(rep).post(
        f"/tasks/{plan.pk}/done/",
        {"step": step.pk, "outcome": "Connected", "notes": "Spoke about pricing"},
        **HTMX,
    )

    assert response.status_code == 200
    assert b"Step 1 logged as Connected. Next: step 2" in response.content
    assert b"Log done</a>" not in response.content
    activity = Activity.objects.get(plan=plan)
    assert (activity.step, activity.activity_type, activity.outcome) == (step, "Call", "Connected")
    assert activity.description == "Spoke about pricing"
    assert activity.subject == "Hello Ada"
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    assert plan.status == PlanStatus.IN_PROGRESS
    assert PlanStepResult.objects.get(plan=plan).result == StepResult.COMPLETED


def test_log_done_without_javascript_redirects_to_the_dashboard(rep, web_client):
    plan = make_plan(rep, types=("Email",))

    response = web_client(rep).post(
        f"/tasks/{plan.pk}/done/",
        {"step": plan.current_step_id, "outcome": "Sent"},
        follow=True,
    )

    assert response.redirect_chain == [("/", 302)]
    assert b"Step 1 logged as Sent. The plan is Completed." in response.content
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED


def test_log_done_with_a_bad_outcome_shows_the_error_in_the_form(rep, web_client):
    plan = make_plan(rep, types=("Call",))
    client = web_client(rep)
    data = {"step": plan.current_step_id, "outcome": "Bounced"}

    htmx = client.post(f"/tasks/{plan.pk}/done/", data, **HTMX)
    plain = client.post(f"/tasks/{plan.pk}/done/", {**data, "outcome": "Nonsense"})

    assert htmx.status_code == 200
    assert b"Select a valid choice" in htmx.content
    # The error sits next to the select and is tied to it for screen readers.
    assert f'aria-describedby="task-{plan.pk}-outcome_error"'.encode() in htmx.content
    assert f'class="errorlist" id="task-{plan.pk}-outcome_error"'.encode() in htmx.content
    assert plain.status_code == 400
    assert b"Select a valid choice. Nonsense is not one of the available choices." in (
        plain.content
    )
    assert not Activity.objects.exists()


def test_log_done_twice_does_not_complete_the_next_step(rep, web_client):
    plan = make_plan(rep, types=("Email", "Call", "Email"))
    client = web_client(rep)
    data = {"step": plan.current_step_id, "outcome": "Sent"}

    client.post(f"/tasks/{plan.pk}/done/", data, **HTMX)
    second = client.post(f"/tasks/{plan.pk}/done/", data, **HTMX)

    assert second.status_code == 200
    assert b"This task has moved on; nothing was logged." in second.content
    assert Activity.objects.count() == 1
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2


def test_log_done_on_a_finished_plan_is_refused_with_a_message(rep, web_client):
    plan = make_plan(rep)
    plan_abort(plan=plan)

    response = web_client(rep).post(
        f"/tasks/{plan.pk}/done/", {"step": plan.current_step_id, "outcome": "Sent"}, follow=True
    )

    assert b"This plan is Aborted: it has no step to do." in response.content
    assert not Activity.objects.exists()


def test_cancel_brings_the_row_back_and_without_htmx_goes_home(rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)

    row = client.get(f"/tasks/{plan.pk}/", **HTMX)
    plain = client.get(f"/tasks/{plan.pk}/")

    assert b"Log done</a>" in row.content
    assert b"<html" not in row.content
    assert plain.status_code == 302 and plain["Location"] == "/"


# -- Skip -------------------------------------------------------------------------------------


def test_skip_moves_the_plan_to_its_next_step(rep, web_client):
    plan = make_plan(rep, types=("Email", "Call"))
    client = web_client(rep)

    response = client.post(f"/tasks/{plan.pk}/skip/", {"step": plan.current_step_id}, **HTMX)

    assert response.status_code == 200
    assert b"Step 1 skipped. Next: step 2" in response.content
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    assert PlanStepResult.objects.get(plan=plan).result == StepResult.SKIPPED

    # The same click again, from a stale page, skips nothing more.
    again = client.post(f"/tasks/{plan.pk}/skip/", {"step": plan.results.get().step_id})
    assert again.status_code == 302
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2


def test_skip_without_javascript_redirects_with_a_message(rep, web_client):
    plan = make_plan(rep, types=("Email", "Call"))

    response = web_client(rep).post(
        f"/tasks/{plan.pk}/skip/", {"step": plan.current_step_id}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert b"Step 1 skipped." in response.content


def test_skip_of_a_paused_plan_is_refused_not_a_crash(rep, web_client):
    plan = make_plan(rep)
    plan_pause(plan=plan)

    response = web_client(rep).post(f"/tasks/{plan.pk}/skip/", **HTMX)

    assert response.status_code == 200
    assert b"This plan is Paused: it has no step to skip." in response.content


# -- Snooze -----------------------------------------------------------------------------------


def test_snooze_without_a_reminder_yet_says_so_and_creates_nothing(rep, web_client):
    plan = make_plan(rep)

    response = web_client(rep).post(
        f"/tasks/{plan.pk}/snooze/", {"until": "hour", "step": plan.current_step_id}, **HTMX
    )

    assert response.status_code == 200
    assert b"There is no reminder for this step yet" in response.content
    assert not Reminder.objects.exists()


def test_snooze_an_hour_moves_the_steps_reminder(rep, web_client):
    plan = make_plan(rep, due=timezone.now() - datetime.timedelta(hours=1))
    reminder = ReminderFactory(
        user=rep,
        plan=plan,
        step=plan.current_step,
        due_at=plan.next_step_due_date,
        remind_at=timezone.now() - datetime.timedelta(minutes=5),
        status=ReminderStatus.SENT,
    )
    before = timezone.now()

    response = web_client(rep).post(f"/tasks/{plan.pk}/snooze/", {"until": "hour"}, **HTMX)

    assert response.status_code == 200
    assert b"Reminder snoozed until" in response.content
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SNOOZED
    hour = datetime.timedelta(hours=1)
    assert before + hour <= reminder.remind_at <= timezone.now() + hour


def test_snooze_until_tomorrow_is_nine_in_the_morning_local_time(rep, web_client):
    plan = make_plan(rep, due=timezone.now() - datetime.timedelta(hours=1))
    reminder = ReminderFactory(
        user=rep, plan=plan, step=plan.current_step, due_at=plan.next_step_due_date
    )

    response = web_client(rep).post(f"/tasks/{plan.pk}/snooze/", {"until": "tomorrow"}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert b"Reminder snoozed until" in response.content
    reminder.refresh_from_db()
    local = reminder.remind_at.astimezone(BERLIN)
    tomorrow = timezone.now().astimezone(BERLIN).date() + datetime.timedelta(days=1)
    assert (local.date(), local.hour, local.minute) == (tomorrow, 9, 0)


def test_snooze_with_an_unknown_choice_is_refused(rep, web_client):
    plan = make_plan(rep)

    response = web_client(rep).post(f"/tasks/{plan.pk}/snooze/", {"until": "forever"}, **HTMX)

    assert response.status_code == 200
    assert b"Choose how long to snooze for." in response.content


# -- Permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["done/", "skip/", "snooze/", ""])
def test_another_teams_task_is_a_404(action, rep, outsider, web_client):
    plan = make_plan(outsider)
    client = web_client(rep)

    response = (
        client.get(f"/tasks/{plan.pk}/{action}", **HTMX)
        if action in ("", "done/")
        else client.post(f"/tasks/{plan.pk}/{action}", {"until": "hour"}, **HTMX)
    )

    assert response.status_code == 404


def test_a_rep_cannot_act_on_a_teammates_task_but_their_manager_can(
    rep, teammate, manager, web_client
):
    plan = make_plan(teammate, types=("Email", "Call"))

    refused = web_client(rep).post(f"/tasks/{plan.pk}/skip/", **HTMX)
    assert refused.status_code == 404
    plan.refresh_from_db()
    assert plan.current_step.step_number == 1

    allowed = web_client(manager).post(f"/tasks/{plan.pk}/skip/", **HTMX)
    assert allowed.status_code == 200
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2


def test_task_actions_only_take_posts(rep, web_client):
    plan = make_plan(rep)
    client = web_client(rep)

    assert client.get(f"/tasks/{plan.pk}/skip/").status_code == 405
    assert client.get(f"/tasks/{plan.pk}/snooze/").status_code == 405


def test_the_dashboard_carries_no_inline_script_or_style(rep, web_client):
    """The CSP forbids inline script and style: rows use classes and htmx attributes only."""
    plan = make_plan(rep, due=timezone.now() - datetime.timedelta(days=1))
    client = web_client(rep)

    for response in (client.get("/"), client.get(f"/tasks/{plan.pk}/done/", **HTMX)):
        for forbidden in (b" style=", b"<script>", b"hx-on", b"onclick", b"javascript:"):
            assert forbidden not in response.content


# -- The team view ------------------------------------------------------------------------------


def named(user, name, time_zone=None):
    user.display_name = name
    if time_zone:
        user.time_zone = time_zone
    user.save()
    return user


def rep_row(html: str, user) -> str:
    """``user``'s row in the team view's table."""
    start = html.index(f'<tr id="rep-{user.pk}">')
    return html[start : html.index("</tr>", start)]


def rep_cells(html: str, user) -> list[str]:
    """The text of each cell of ``user``'s row: name, overdue, due today, next 7 days."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rep_row(html, user), flags=re.S)
    ]


def test_a_manager_switches_to_the_team_to_see_who_is_behind(
    rep, teammate, manager, outsider, web_client
):
    """ "My team" lists the team's tasks labelled with whose they are, and each person's overdue
    and due-today counts, the most behind first; another team's tasks are not there."""
    named(rep, "Rita Rep")
    named(teammate, "Tom Mate")
    now = timezone.now()
    late = make_plan(rep, due=now - datetime.timedelta(days=3), first_name="Lateone")
    make_plan(rep, due=now - datetime.timedelta(days=2), first_name="Latetwo")
    make_plan(rep, due=today_at_start(rep), first_name="Todayone")
    soon = make_plan(teammate, due=now + datetime.timedelta(days=2), first_name="Soonish")
    make_plan(outsider, due=now - datetime.timedelta(days=1), first_name="Elsewhere")

    html = web_client(manager).get("/?view=team").content.decode()

    assert '<a href="/?view=team" aria-current="page">My team</a>' in html
    assert 'Overdue <span class="muted">(2)</span>' in html
    assert 'Today <span class="muted">(1)</span>' in html
    assert 'Upcoming <span class="muted">(1)</span>' in html
    assert "Lateone" in html and "Todayone" in html and "Soonish" in html
    assert "Elsewhere" not in html
    # Each task says whose it is.
    late_row = html[html.index(f'id="task-{late.pk}"') :]
    assert late_row.index("Owner: <strong>Rita Rep</strong>") < late_row.index("</li>")
    soon_row = html[html.index(f'id="task-{soon.pk}"') :]
    assert soon_row.index("Owner: <strong>Tom Mate</strong>") < soon_row.index("</li>")
    # Rita is the most behind: first, with 2 overdue (linked to her overdue plans) and 1 today.
    assert html.index(f'id="rep-{rep.pk}"') < html.index(f'id="rep-{teammate.pk}"')
    assert rep_cells(html, rep) == ["Rita Rep", "2", "1", "0"]
    assert f"/plans/?due=overdue&amp;owner={rep.pk}" in rep_row(html, rep)
    assert f"/plans/?due=today&amp;owner={rep.pk}" in rep_row(html, rep)
    assert rep_cells(html, teammate) == ["Tom Mate", "0", "0", "1"]
    assert f'id="rep-{outsider.pk}"' not in html


def test_my_tasks_stays_the_default_for_a_manager(rep, manager, web_client):
    """Without ``view=team`` a manager sees their own tasks, and the switch to their team."""
    make_plan(rep, due=timezone.now() - datetime.timedelta(days=1), first_name="Repsown")
    make_plan(manager, due=timezone.now() - datetime.timedelta(days=1), first_name="Bossown")

    html = web_client(manager).get("/").content.decode()

    assert '<a href="/" aria-current="page">My tasks</a>' in html
    assert '<a href="/?view=team">My team</a>' in html
    assert "Bossown" in html and "Repsown" not in html
    assert "Who is behind" not in html
    # The manager's own tasks need no owner label.
    assert "Owner:" not in html


def test_a_rep_gets_no_switch_and_view_team_shows_only_their_own(rep, teammate, web_client):
    make_plan(rep, due=timezone.now() - datetime.timedelta(days=1), first_name="Mine")
    make_plan(teammate, due=timezone.now() - datetime.timedelta(days=1), first_name="Theirs")

    html = web_client(rep).get("/?view=team").content.decode()

    assert "Mine" in html
    assert "Theirs" not in html
    assert "My team" not in html and "Who is behind" not in html
    assert 'Overdue <span class="muted">(1)</span>' in html


def test_an_admin_sees_every_team_or_the_one_picked(
    rep, outsider, other_team, admin_user, web_client
):
    make_plan(rep, due=timezone.now() - datetime.timedelta(days=1), first_name="Northern")
    make_plan(outsider, due=timezone.now() - datetime.timedelta(days=1), first_name="Southern")
    client = web_client(admin_user)

    everyone = client.get("/?view=team").content.decode()
    assert "Northern" in everyone and "Southern" in everyone
    assert f'id="rep-{rep.pk}"' in everyone and f'id="rep-{outsider.pk}"' in everyone
    assert '<option value="" selected>All teams</option>' in everyone

    picked = client.get(f"/?view=team&team={other_team.pk}").content.decode()
    assert "Southern" in picked and "Northern" not in picked
    assert f'id="rep-{rep.pk}"' not in picked
    assert f"Who is behind: {other_team.name}" in picked

    # A team that does not exist (or a mistyped one) shows every team again.
    for team in ("00000000-0000-4000-8000-000000000000", "nope"):
        page = client.get(f"/?view=team&team={team}")
        assert page.status_code == 200
        assert "Northern" in page.content.decode() and "Southern" in page.content.decode()


def test_the_team_view_counts_each_persons_own_day(rep, manager, web_client):
    """A task due at the start of the rep's day is due today for them, whatever the manager's
    time zone says: the counts match the rep's own dashboard."""
    named(manager, "Mia Manager", "Pacific/Pago_Pago")  # UTC-11
    named(rep, "Rita Rep", "Pacific/Kiritimati")  # UTC+14: a day or two ahead of the manager
    plan = make_plan(rep, due=today_at_start(rep), first_name="Earlybird")

    own = web_client(rep).get("/").content.decode()
    team = web_client(manager).get("/?view=team").content.decode()

    assert 'Today <span class="muted">(1)</span>' in own
    assert 'Today <span class="muted">(1)</span>' in team
    assert f'id="task-{plan.pk}" class="task"' in team  # not marked overdue
    assert rep_cells(team, rep) == ["Rita Rep", "0", "1", "0"]


def test_team_view_query_count_does_not_grow_with_people_or_tasks(
    team, manager, web_client, django_assert_max_num_queries
):
    from cadence.accounts.tests.factories import UserFactory

    now = timezone.now()
    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
    for index, zone in enumerate(zones):
        person = UserFactory(username=f"member{index}", team=team, time_zone=zone)
        for number in range(6):
            due = now + datetime.timedelta(hours=number * 20 - 50)
            make_plan(person, due=due, first_name=f"P{index}x{number}")
    client = web_client(manager)

    # The people (1), their counts (1) and one query per task section, whatever the number of
    # people, time zones and tasks; the rest is the page around them, as for "My tasks".
    with django_assert_max_num_queries(12):
        page = client.get("/?view=team")

    assert page.content.count(b'class="task') >= 20
    assert page.content.count(b'<tr id="rep-') == 4
