"""A user's email address is no other user's (ignoring case), however it is set: their own
profile, an admin through the API, the Django admin."""

import pytest
from django.test import Client
from django.urls import reverse

from cadence.accounts.models import User
from cadence.core.tests.api_helpers import API

pytestmark = pytest.mark.django_db

TAKEN = {"email": ["Another user already has this email address."]}


def test_a_user_cannot_take_another_users_address(rep, outsider, client_for):
    """Refused with a 400 on the email field, whatever the case; their own address in another
    case, or a free one, is fine."""
    client = client_for(rep)

    refused = client.patch(f"{API}/users/me/", {"email": outsider.email.upper()})

    assert refused.status_code == 400
    assert refused.json() == TAKEN
    rep.refresh_from_db()
    assert rep.email == "rep@example.com"
    assert client.patch(f"{API}/users/me/", {"email": "REP@example.com"}).status_code == 200
    assert client.patch(f"{API}/users/me/", {"email": "rita@example.com"}).status_code == 200


def test_an_admin_cannot_give_a_user_another_users_address(rep, outsider, admin_user, client_for):
    client = client_for(admin_user)

    changed = client.patch(f"{API}/users/{rep.pk}/", {"email": outsider.email})
    created = client.post(
        f"{API}/users/",
        {"username": "ada", "password": "a long enough passphrase 42", "email": rep.email},
    )

    assert (changed.status_code, changed.json()) == (400, TAKEN)
    assert (created.status_code, created.json()) == (400, TAKEN)
    assert not User.objects.filter(username="ada").exists()


def test_the_django_admin_refuses_another_users_address(rep, outsider):
    superuser = User.objects.create_superuser("root", "root@example.com", "x-long-password-1")
    browser = Client()
    browser.force_login(superuser)
    data = {
        "username": rep.username,
        "email": outsider.email,
        "role": rep.role,
        "team": str(rep.team_id),
        "time_zone": rep.time_zone,
        "work_day_start": "09:00",
        "work_day_end": "17:00",
        "is_active": "on",
    }

    response = browser.post(reverse("admin:accounts_user_change", args=[rep.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [TAKEN["email"][0]]
    rep.refresh_from_db()
    assert rep.email == "rep@example.com"
