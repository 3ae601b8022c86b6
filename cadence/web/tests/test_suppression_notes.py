"""The suppression page shows a note to its author's team and admins only; every address,
reason and author to everyone."""

import pytest
from django.utils.html import escape

from cadence.messaging.choices import SuppressionReason
from cadence.messaging.models import Suppression

pytestmark = pytest.mark.django_db

NOTE = "Asked on the phone; the CFO is a friend of ours"


def test_the_page_hides_another_teams_note(rep, teammate, outsider, admin_user, web_client):
    Suppression.objects.create(
        email="ann@client.example", reason=SuppressionReason.MANUAL, note=NOTE, created_by=rep
    )

    for user in (teammate, admin_user):
        assert NOTE in web_client(user).get("/suppressions/").content.decode(), user
    page = web_client(outsider).get("/suppressions/").content.decode()
    assert "ann@client.example" in page
    assert escape(str(rep)) in page
    assert NOTE not in page
