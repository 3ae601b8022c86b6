"""API tokens: revoked by their owner, on every password change and on deactivation, and
refused once ``CADENCE_API_TOKEN_DAYS`` old."""

import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cadence.accounts import services
from cadence.accounts.models import User
from cadence.core.tests.api_helpers import API

pytestmark = pytest.mark.django_db

TOKEN = f"{API}/auth/token/"
ME = f"{API}/users/me/"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "plum-orbit-42-sunset"


def _token_client(user, password=PASSWORD) -> tuple[APIClient, str]:
    """An API client signed in with a token got the way a script gets one."""
    client = APIClient()
    response = client.post(TOKEN, {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    key = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def _works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    status = client.get(ME).status_code
    assert status in (200, 401), status
    return status == 200


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


def test_the_owner_revokes_their_token_with_delete(rep):
    """DELETE /auth/token/ (signed in) answers 204 and the token stops working at once; a new
    POST issues a different one."""
    client, key = _token_client(rep)

    response = client.delete(TOKEN)

    assert response.status_code == 204
    assert not _works(key)
    assert not Token.objects.filter(user=rep).exists()
    _, new_key = _token_client(rep)
    assert new_key != key and _works(new_key)


def test_delete_without_credentials_is_a_401(api_client, rep):
    _, key = _token_client(rep)

    assert api_client.delete(TOKEN).status_code == 401
    assert _works(key)


def test_a_password_change_on_me_revokes_the_token(rep):
    """Changing one's password through the API ends the token got with the old one."""
    client, key = _token_client(rep)

    response = client.patch(ME, {"password": NEW_PASSWORD, "current_password": PASSWORD})

    assert response.status_code == 200, response.content
    assert not _works(key)
    _, new_key = _token_client(rep, NEW_PASSWORD)
    assert _works(new_key)


def test_an_admin_setting_a_password_revokes_the_token(rep, admin_user, client_for):
    _, key = _token_client(rep)

    response = client_for(admin_user).patch(f"{API}/users/{rep.pk}/", {"password": NEW_PASSWORD})

    assert response.status_code == 200, response.content
    assert not _works(key)


def test_the_admins_password_page_revokes_the_token(rep, superuser):
    """The Django admin's "change password" form sets the password without our services; the
    token goes all the same."""
    _, key = _token_client(rep)
    browser = Client()
    browser.force_login(superuser)

    response = browser.post(
        reverse("admin:auth_user_password_change", args=[rep.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)
    assert not _works(key)


def test_changepassword_command_revokes_the_token(rep, monkeypatch):
    _, key = _token_client(rep)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", rep.username)

    assert not _works(key)


def test_deactivating_a_user_revokes_their_token(rep, admin_user, client_for):
    """Deactivated through the API: the token is deleted, so reactivating the account does not
    bring it back."""
    _, key = _token_client(rep)

    assert client_for(admin_user).delete(f"{API}/users/{rep.pk}/").status_code == 204
    assert not Token.objects.filter(key=key).exists()
    services.user_update(user=rep, data={"is_active": True})
    assert not _works(key)


def test_deactivating_with_a_patch_revokes_the_token(rep, admin_user, client_for):
    _, key = _token_client(rep)

    response = client_for(admin_user).patch(f"{API}/users/{rep.pk}/", {"is_active": False})

    assert response.status_code == 200
    assert not Token.objects.filter(key=key).exists()


def test_deactivating_in_the_admin_revokes_the_token(rep, superuser):
    _, key = _token_client(rep)
    browser = Client()
    browser.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[rep.pk])
    # The change form as the admin page posts it, with "Active" unticked.
    data = {
        "username": rep.username,
        "first_name": rep.first_name,
        "last_name": rep.last_name,
        "display_name": rep.display_name,
        "email": rep.email,
        "role": rep.role,
        "team": str(rep.team_id),
        "time_zone": rep.time_zone,
        "country": rep.country.code,
        "work_day_start": "09:00",
        "work_day_end": "17:00",
        "signature": rep.signature,
    }

    response = browser.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    rep.refresh_from_db()
    assert not rep.is_active
    assert not Token.objects.filter(key=key).exists()


def test_an_expired_token_is_refused_and_replaced(rep, settings):
    """A token older than CADENCE_API_TOKEN_DAYS is a 401 saying so; signing in again issues a
    new one, which works."""
    settings.CADENCE_API_TOKEN_DAYS = 30
    client, key = _token_client(rep)
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(days=31))

    refused = client.get(ME)

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]
    response = APIClient().post(TOKEN, {"username": "rep", "password": PASSWORD})
    assert response.json()["token"] != key
    assert _works(response.json()["token"])


def test_a_token_within_its_days_works_and_says_when_it_ends(rep, settings):
    settings.CADENCE_API_TOKEN_DAYS = 30
    response = APIClient().post(TOKEN, {"username": "rep", "password": PASSWORD})
    token = Token.objects.get(user=rep)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - datetime.timedelta(days=29))

    assert _works(token.key)
    expires_at = datetime.datetime.fromisoformat(response.json()["expires_at"])
    assert expires_at == token.created + datetime.timedelta(days=30)
    again = APIClient().post(TOKEN, {"username": "rep", "password": PASSWORD})
    assert again.json()["token"] == token.key  # the same token until it ends


def test_zero_days_means_tokens_never_expire(rep, settings):
    settings.CADENCE_API_TOKEN_DAYS = 0
    _, key = _token_client(rep)
    Token.objects.filter(key=key).update(created=timezone.now() - datetime.timedelta(days=3650))

    assert _works(key)
    assert APIClient().post(TOKEN, {"username": "rep", "password": PASSWORD}).json() == {
        "token": key,
        "expires_at": None,
    }


def test_the_token_endpoint_is_in_the_schema_with_delete(client_for, admin_user):
    schema = client_for(admin_user).get("/api/schema/", {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/auth/token/"]
    assert {"post", "delete"} <= set(operations)
    assert "204" in operations["delete"]["responses"]
