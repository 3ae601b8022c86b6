"""The unsubscribe page (``cadence.messaging.views``), as a recipient's browser receives it."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from cadence.crm.tests.factories import ContactFactory
from cadence.messaging.unsubscribe import unsubscribe_url

pytestmark = pytest.mark.django_db


def test_the_unsubscribe_pages_need_nothing_the_content_security_policy_blocks(rep):
    """The project's CSP allows styles from this origin only, so the pages (the question and the
    answer) link a stylesheet instead of carrying an inline <style> a browser would ignore."""
    contact = ContactFactory(owner=rep, company__owner=rep, email="ada@example.com")
    path = urlsplit(unsubscribe_url(contact)).path
    client = Client()

    for response in (client.get(path), client.post(path)):
        assert response.status_code == 200
        policy = response["Content-Security-Policy"]
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        html = response.content.decode()
        assert "<style" not in html
        assert " style=" not in html
        href = re.search(r'<link rel="stylesheet" href="([^"]+)">', html).group(1)
        stylesheet = client.get(href)
        assert stylesheet.status_code == 200
        assert stylesheet["Content-Type"].startswith("text/css")
        assert "font-family" in b"".join(stylesheet.streaming_content).decode()
