"""API tests for notifications and the calendar address: each user acts on their own; anything
else is a 404 that gives nothing away."""

import datetime

import pytest
from django.utils import timezone

from cadence.core.tests.api_helpers import (
    API,
    UNKNOWN_ID,
    assert_hidden,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
    page_ids,
)
from cadence.notifications.models import CalendarFeed, Notification
from cadence.notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = f"{API}/notifications/"
MY_CALENDAR = f"{API}/users/me/calendar/"
ROTATE_CALENDAR = f"{API}/users/me/rotate-calendar/"


@pytest.fixture
def notifications(rep, teammate, manager, outsider):
    """Two of the rep's (one read), and one each of a teammate, their manager and an outsider."""
    made = {
        "rep_old": NotificationFactory(user=rep, title="Rep's old news"),
        "rep_new": NotificationFactory(user=rep, title="Rep's news"),
        "teammate": NotificationFactory(user=teammate, title="Teammate's private news"),
        "manager": NotificationFactory(user=manager, title="Manager's news"),
        "outsider": NotificationFactory(user=outsider, title="Outsider's private news"),
    }
    old = made["rep_old"]
    Notification.objects.filter(pk=old.pk).update(
        created_at=old.created_at - datetime.timedelta(hours=1), read_at=timezone.now()
    )
    return made


def test_api_root_lists_notifications(client_for, rep):
    root = client_for(rep).get(f"{API}/").json()
    assert root["notifications"].endswith("/api/v1/notifications/")


# -- Notifications -----------------------------------------------------------------------------


def test_anonymous_requests_are_401(api_client, notifications):
    assert api_client.get(NOTIFICATIONS).status_code == 401
    assert api_client.post(f"{NOTIFICATIONS}read-all/").status_code == 401
    assert api_client.get(MY_CALENDAR).status_code == 401
    assert api_client.post(ROTATE_CALENDAR).status_code == 401


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_list_shows_only_the_users_own_notifications(request, client_for, notifications, role):
    """Managers and admins see their own notifications, not their team's."""
    user = request.getfixturevalue(role)
    expected = {str(n.pk) for n in notifications.values() if n.user_id == user.pk}
    assert list_ids(client_for(user), NOTIFICATIONS, "notification_id") == expected


def test_list_is_newest_first_and_filters_unread(client_for, rep, notifications):
    client = client_for(rep)
    newest, older = str(notifications["rep_new"].pk), str(notifications["rep_old"].pk)

    response = client.get(NOTIFICATIONS)
    assert page_ids(response, "notification_id") == [newest, older]
    row = response.json()["results"][0]
    assert row["title"] == "Rep's news"
    assert row["read_at"] is None
    assert_iso_with_offset(row["created_at"])
    assert page_ids(client.get(NOTIFICATIONS, {"unread": "true"}), "notification_id") == [newest]
    assert page_ids(client.get(NOTIFICATIONS, {"unread": "false"}), "notification_id") == [older]


def test_list_query_budget(client_for, rep, django_assert_max_num_queries):
    assert_list_query_budget(
        client_for(rep),
        NOTIFICATIONS,
        make_rows=lambda n: NotificationFactory.create_batch(n, user=rep),
        budget=3,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )


def test_mark_read(client_for, rep, notifications):
    notification = notifications["rep_new"]

    response = client_for(rep).post(f"{NOTIFICATIONS}{notification.pk}/read/")

    assert response.status_code == 200, response.content
    assert_iso_with_offset(response.json()["read_at"])
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("other", ["teammate", "outsider"])
def test_marking_another_users_notification_is_404(
    request, client_for, manager, notifications, other
):
    """Even the manager of its user cannot see or mark another's notification."""
    notification = notifications[other]

    response = client_for(manager).post(f"{NOTIFICATIONS}{notification.pk}/read/")

    assert_hidden(response, notification.pk, notification.title)
    notification.refresh_from_db()
    assert notification.read_at is None
    unknown = client_for(manager).post(f"{NOTIFICATIONS}{UNKNOWN_ID}/read/")
    assert unknown.status_code == 404


def test_read_all_marks_only_the_users_own(client_for, rep, notifications):
    response = client_for(rep).post(f"{NOTIFICATIONS}read-all/")

    assert response.status_code == 200
    assert response.json() == {"marked_read": 1}
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    assert Notification.objects.filter(read_at__isnull=True).count() == 3


# -- Calendar address ---------------------------------------------------------------------------


def test_calendar_url_is_made_once_and_absolute(client_for, rep):
    client = client_for(rep)

    first = client.get(MY_CALENDAR)
    second = client.get(MY_CALENDAR)

    assert first.status_code == 200
    url = first.json()["calendar_url"]
    token = CalendarFeed.objects.get(user=rep).token
    assert url == f"http://testserver/calendar/{token}.ics"
    assert second.json()["calendar_url"] == url


def test_each_user_has_their_own_calendar_url(client_for, rep, teammate):
    assert (
        client_for(rep).get(MY_CALENDAR).json()["calendar_url"]
        != client_for(teammate).get(MY_CALENDAR).json()["calendar_url"]
    )


def test_rotating_the_calendar_invalidates_the_old_url(client, client_for, rep):
    """The new URL serves the feed; the old one is a 404."""
    api = client_for(rep)
    old = api.get(MY_CALENDAR).json()["calendar_url"]

    response = api.post(ROTATE_CALENDAR)

    assert response.status_code == 200
    new = response.json()["calendar_url"]
    assert new != old
    assert api.get(MY_CALENDAR).json()["calendar_url"] == new
    assert client.get(old.removeprefix("http://testserver")).status_code == 404
    assert client.get(new.removeprefix("http://testserver")).status_code == 200
