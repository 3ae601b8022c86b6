"""Signing in and out, the settings page and notifications; the security headers every page
carries."""

import pytest
from django.test import Client

from cadence.messaging.models import Sender
from cadence.notifications.models import CalendarFeed, Notification

pytestmark = pytest.mark.django_db


def test_sign_in_with_the_right_password_and_refused_with_a_wrong_one(rep):
    rep.set_password("correct horse battery")
    rep.save()
    client = Client()

    refused = client.post("/accounts/login/", {"username": "rep", "password": "wrong"})
    assert refused.status_code == 200
    assert b"did not match" in refused.content

    signed_in = client.post(
        "/accounts/login/", {"username": "rep", "password": "correct horse battery"}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/"


def test_pages_ask_anonymous_visitors_to_sign_in():
    for path in ("/settings/", "/notifications/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_sign_out_is_a_post(rep, web_client):
    client = web_client(rep)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/settings/").status_code == 302


def test_the_settings_page_shows_and_rotates_the_calendar_address(rep, web_client):
    client = web_client(rep)

    page = client.get("/settings/")
    token = CalendarFeed.objects.get(user=rep).token
    assert page.status_code == 200
    assert f"/calendar/{token}.ics".encode() in page.content

    rotated = client.post("/settings/rotate-calendar/", follow=True)
    new_token = CalendarFeed.objects.get(user=rep).token
    assert new_token != token
    assert f"/calendar/{new_token}.ics".encode() in rotated.content


def test_the_postal_address_is_saved_and_a_too_long_one_refused(rep, web_client):
    client = web_client(rep)

    client.post("/settings/", {"postal_address": "1 Main St, Springfield"})
    assert Sender.objects.get(user=rep).postal_address == "1 Main St, Springfield"

    refused = client.post("/settings/", {"postal_address": "x" * 1001})
    assert refused.status_code == 200
    assert b"at most 1000 characters" in refused.content


def test_notifications_are_listed_and_the_bell_counts_unread(rep, teammate, web_client):
    Notification.objects.create(user=rep, title="Call Ada Lovelace (Acme)")
    Notification.objects.create(user=teammate, title="Not yours")
    client = web_client(rep)

    page = client.get("/notifications/")
    assert b"Call Ada Lovelace (Acme)" in page.content
    assert b"Not yours" not in page.content
    assert b"Notifications, 1 unread" in page.content

    client.post("/notifications/read-all/")
    assert b"Notifications, 0 unread" in client.get("/notifications/").content


def test_pages_carry_a_strict_content_security_policy(rep, web_client):
    response = web_client(rep).get("/settings/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert b"<script>" not in response.content
