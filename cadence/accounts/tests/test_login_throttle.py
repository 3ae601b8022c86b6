"""The sign-in throttle on each door (the API token, the web sign-in page, the admin's and the
browsable API's): too many failures for an account or from an address refuse further
attempts, the right password included, for a cool-down; after it the right password works."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cadence.accounts.models import User
from cadence.accounts.tests.factories import UserFactory
from cadence.core.tests.api_helpers import API

pytestmark = pytest.mark.django_db

TOKEN = f"{API}/auth/token/"
PASSWORD = "correct horse battery staple"
LIMIT = 3
THROTTLED = "Too many failed sign-in attempts. Try again in"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CADENCE_LOGIN_FAILURES_PER_ACCOUNT = LIMIT
    settings.CADENCE_LOGIN_FAILURES_PER_ADDRESS = 10
    settings.CADENCE_LOGIN_COOLDOWN_SECONDS = 600


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


# One client each for the whole module: a new test client loads the middleware again, which
# takes long enough to stretch a one-second cool-down.
_api = APIClient()
_browser = Client()


def _token(username, password, **extra):
    return _api.post(TOKEN, {"username": username, "password": password}, **extra)


def _page(path, username, password, **extra):
    _browser.logout()
    return _browser.post(path, {"username": username, "password": password}, **extra)


def test_the_token_endpoint_answers_429_after_too_many_failures(rep):
    """Wrong passwords are 400s until the limit; then even the right one is a 429 with a
    Retry-After header, and no token is issued."""
    for _ in range(LIMIT):
        assert _token("rep", "wrong").status_code == 400

    refused = _token("rep", PASSWORD)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    assert "Too many failed sign-in attempts" in refused.json()["detail"]


def test_the_web_sign_in_page_says_to_wait(rep):
    for _ in range(LIMIT):
        assert b"did not match" in _page("/accounts/login/", "rep", "wrong").content

    refused = _page("/accounts/login/", "rep", PASSWORD)

    assert refused.status_code == 200
    assert THROTTLED in refused.content.decode()
    assert b"did not match" not in refused.content
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_the_admin_sign_in_page_says_to_wait(staff):
    for _ in range(LIMIT):
        assert _page("/admin/login/", "root", "wrong").status_code == 200

    refused = _page("/admin/login/", "root", PASSWORD)

    assert refused.status_code == 200
    assert THROTTLED in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_the_browsable_apis_sign_in_page_says_to_wait(rep):
    for _ in range(LIMIT):
        assert _page("/api-auth/login/", "rep", "wrong").status_code == 200

    refused = _page("/api-auth/login/", "rep", PASSWORD)

    assert refused.status_code == 200
    assert THROTTLED in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_failures_on_one_door_count_on_the_others(rep):
    """The count is the account's, not the page's: guesses spread over the doors add up."""
    _token("rep", "wrong")
    _page("/accounts/login/", "rep", "wrong")
    _page("/api-auth/login/", "rep", "wrong")

    assert _token("rep", PASSWORD).status_code == 429
    assert THROTTLED in _page("/admin/login/", "rep", PASSWORD).content.decode()


def test_one_address_guessing_many_accounts_is_refused(settings):
    """Spraying one password over many usernames from one address stops at the address's
    limit, for every account, from that address only."""
    settings.CADENCE_LOGIN_FAILURES_PER_ADDRESS = 4
    UserFactory(username="victim")
    for n in range(4):
        assert _token(f"guess{n}", "Summer2024!").status_code == 400

    assert _token("victim", PASSWORD).status_code == 429
    assert _token("victim", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_spoofed_forwarded_for_header_does_not_reset_the_count(rep):
    """Without trusted proxies X-Forwarded-For is the client's own word and is ignored."""
    for n in range(LIMIT):
        _token("nobody", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    for n in range(10 - LIMIT):
        _token(f"other{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert _token("rep", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(rep, settings):
    """With one trusted proxy, the address it saw is the client's: another client behind the
    same proxy is not refused for the first one's failures."""
    settings.CADENCE_TRUSTED_PROXIES = 1
    settings.CADENCE_LOGIN_FAILURES_PER_ADDRESS = 2
    for n in range(2):
        _token(f"guess{n}", "wrong", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5")

    assert _token("rep", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert _token("rep", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200


def test_the_right_password_works_again_after_the_cool_down(rep, settings):
    """No lock-out for good: once the cool-down has passed the right password signs in, on
    the API and on the page."""
    settings.CADENCE_LOGIN_COOLDOWN_SECONDS = 1
    for _ in range(LIMIT):
        _token("rep", "wrong")
    assert _token("rep", PASSWORD).status_code == 429

    time.sleep(1.2)

    assert _token("rep", PASSWORD).status_code == 200
    assert _page("/accounts/login/", "rep", PASSWORD).status_code == 302


def test_attempts_refused_during_the_cool_down_do_not_extend_it(rep, settings):
    """Hammering a cooling-down account does not keep it locked: refused attempts are not new
    guesses."""
    settings.CADENCE_LOGIN_COOLDOWN_SECONDS = 1
    for _ in range(LIMIT):
        _token("rep", "wrong")
    for _ in range(5):
        assert _token("rep", "wrong").status_code == 429

    time.sleep(1.2)

    assert _token("rep", PASSWORD).status_code == 200


def test_a_username_differing_in_case_shares_the_count(rep):
    for name in ("REP", "Rep", "rEp"):
        _token(name, "wrong")

    assert _token("rep", PASSWORD).status_code == 429
