"""Fixtures shared by every app's tests: users in each role, API clients that act as them."""

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.test import APIClient

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import TeamFactory, UserFactory


@pytest.fixture
def team(db):
    return TeamFactory(name="Team North")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Team South")


@pytest.fixture
def rep(team):
    return UserFactory(username="rep", role=Role.REP, team=team)


@pytest.fixture
def teammate(team):
    return UserFactory(username="teammate", role=Role.REP, team=team)


@pytest.fixture
def manager(team):
    return UserFactory(username="manager", role=Role.MANAGER, team=team)


@pytest.fixture
def outsider(other_team):
    return UserFactory(username="outsider", role=Role.REP, team=other_team)


@pytest.fixture
def other_manager(other_team):
    return UserFactory(username="other_manager", role=Role.MANAGER, team=other_team)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, team=None)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """``client_for(user)``: an API client authenticated as ``user``."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: the sign-in throttle counts failures there, and
    one test's wrong passwords (all from 127.0.0.1) must not cool down the next test's sign-in."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def direct_wsgi():
    """For tests that call the WSGI application directly (schemathesis' from_wsgi): that fires
    request_started/finished, whose close_old_connections would close the test's own transaction
    on PostgreSQL (SQLite's in-memory database is never closed). Django's test client disconnects
    it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
