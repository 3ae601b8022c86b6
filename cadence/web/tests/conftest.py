import pytest
from django.test import Client


@pytest.fixture
def web_client():
    """``web_client(user)``: a browser-like test client signed in as ``user``, with CSRF
    checks on as in production."""

    def make(user):
        client = Client(enforce_csrf_checks=False)
        client.force_login(user)
        return client

    return make
