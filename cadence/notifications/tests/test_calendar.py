"""The calendar feed: the user's running plans' due steps as iCalendar events, read back the way
a calendar app reads them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from cadence.accounts.tests.factories import UserFactory
from cadence.notifications import services
from cadence.notifications.tests.helpers import NOW, due_plan

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def feed_path(user) -> str:
    return f"/calendar/{services.calendar_feed_for(user=user).token}.ics"


def events(content: bytes) -> dict[str, object]:
    """The feed's events by summary."""
    calendar = Calendar.from_ical(content)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def test_feed_holds_the_users_running_plans_due_in_the_window(rep, outsider):
    """Overdue up to 30 days back and upcoming up to 90 days ahead, for running plans of the
    user only."""
    due_plan(rep, due=NOW + 2 * DAY)
    due_plan(rep, due=NOW - 29 * DAY, activity_type="Email", company_name="Overdue")
    due_plan(rep, due=NOW + 89 * DAY, activity_type="Meeting", company_name="Later")
    due_plan(rep, due=NOW - 31 * DAY, company_name="Too old")
    due_plan(rep, due=NOW + 91 * DAY, company_name="Too far")
    due_plan(rep, due=NOW + DAY, status="Paused", company_name="Paused")
    due_plan(rep, due=NOW + DAY, status="Not Started", activity_type="Task", company_name="New")
    due_plan(outsider, due=NOW + DAY, company_name="Not mine")
    feed = services.calendar_feed_for(user=rep)

    found = events(services.calendar_render(feed=feed, now=NOW))

    assert set(found) == {
        "Call: Ada Lovelace (Acme)",
        "Email: Ada Lovelace (Overdue)",
        "Meeting: Ada Lovelace (Later)",
        "Task: Ada Lovelace (New)",
    }


def test_event_has_time_duration_description_and_stable_uid(rep):
    plan = due_plan(rep, due=NOW + DAY)
    feed = services.calendar_feed_for(user=rep)

    event = events(services.calendar_render(feed=feed, now=NOW))["Call: Ada Lovelace (Acme)"]

    start = event.decoded("DTSTART")
    assert start == NOW + DAY
    assert start.utcoffset() == datetime.timedelta(0)
    assert event.decoded("DURATION") == datetime.timedelta(minutes=30)
    assert "Hello Ada" in str(event["DESCRIPTION"])
    assert f"/api/v1/plans/{plan.pk}/" in str(event["URL"])
    uid = str(event["UID"])
    assert str(plan.pk) in uid

    later = NOW + datetime.timedelta(hours=5)
    again = events(services.calendar_render(feed=feed, now=later))["Call: Ada Lovelace (Acme)"]
    assert str(again["UID"]) == uid

    type(plan).objects.filter(pk=plan.pk).update(next_step_due_date=NOW + 3 * DAY)
    moved = events(services.calendar_render(feed=feed, now=NOW))["Call: Ada Lovelace (Acme)"]
    assert str(moved["UID"]) != uid


def test_rendering_costs_the_same_queries_for_one_plan_or_many(rep):
    feed = services.calendar_feed_for(user=rep)
    due_plan(rep, due=NOW + DAY)
    with CaptureQueriesContext(connection) as one:
        services.calendar_render(feed=feed, now=NOW)
    for n in range(10):
        due_plan(rep, due=NOW + n * DAY, company_name=f"Company {n}")
    with CaptureQueriesContext(connection) as many:
        content = services.calendar_render(feed=feed, now=NOW)

    assert len(events(content)) == 11
    assert len(many.captured_queries) == len(one.captured_queries) == 1


def test_feed_url_needs_no_login_and_serves_icalendar(client, rep):
    due_plan(rep, due=NOW + DAY)

    response = client.get(feed_path(rep))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "private" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"


def test_unknown_token_is_404(client, rep):
    services.calendar_feed_for(user=rep)
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_feed_of_a_deactivated_user_is_404(client):
    user = UserFactory(username="leaver")
    path = feed_path(user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert client.get(path).status_code == 404


def test_rotating_replaces_the_token(rep):
    old = services.calendar_feed_for(user=rep).token

    new = services.calendar_feed_rotate(user=rep).token

    assert new != old
    assert len(new) >= 43  # 32 random bytes
    assert services.calendar_feed_for(user=rep).token == new


def test_me_shows_the_calendar_url_and_rotation_replaces_it(client_for, rep):
    """``GET /users/me/`` carries ``calendar_url``; rotating gives a new one and the old stops."""
    client = client_for(rep)
    old = client.get("/api/v1/users/me/").json()["calendar_url"]
    assert old.startswith("http://testserver/calendar/") and old.endswith(".ics")
    assert client.get(old).status_code == 200
    new = client.post("/api/v1/users/me/rotate-calendar/").json()["calendar_url"]
    assert new != old
    assert client.get("/api/v1/users/me/").json()["calendar_url"] == new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
