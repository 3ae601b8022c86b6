"""Suppression notes through the API: the address is everyone's to see (an opt-out is the
organisation's), what a person wrote about it is their team's (and admins')."""

import pytest

from cadence.messaging.choices import SuppressionReason
from cadence.messaging.models import Suppression

pytestmark = pytest.mark.django_db

URL = "/api/v1/suppressions/"
NOTE = "Asked on the phone; the CFO is a friend of ours"


def _entries(client, **params) -> dict[str, dict]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return {entry["email"]: entry for entry in response.json()["results"]}


@pytest.fixture
def noted(rep, client_for):
    """An address the rep put on the list by hand, with a note."""
    added = client_for(rep).post(URL, {"email": "ann@client.example", "note": NOTE})
    assert added.status_code == 201
    assert added.json()["note"] == NOTE
    return added.json()


def test_a_note_is_read_by_its_authors_team_and_admins_only(
    noted, rep, teammate, manager, outsider, other_manager, admin_user, client_for
):
    Suppression.objects.create(
        email="bob@other.example", reason=SuppressionReason.BOUNCED, note="Hard bounce."
    )
    for user in (rep, teammate, manager, admin_user):
        entry = _entries(client_for(user))["ann@client.example"]
        assert (entry["note"], entry["note_visible"]) == (NOTE, True), user
    for user in (outsider, other_manager):
        entries = _entries(client_for(user))
        entry = entries["ann@client.example"]
        assert (entry["note"], entry["note_visible"]) == ("", False), user
        # The address, why and by whom stay visible: anyone may need to ask.
        assert entry["reason"] == "manual"
        assert entry["created_by_user_id"] == str(rep.pk)
        assert client_for(user).get(f"{URL}{noted['suppression_id']}/").json()["note"] == ""
        # Cadence's own notes say nothing private.
        assert entries["bob@other.example"]["note"] == "Hard bounce."


def test_searching_does_not_reach_another_teams_notes(noted, outsider, manager, client_for):
    assert _entries(client_for(outsider), search="CFO") == {}
    assert _entries(client_for(manager), search="CFO") == {}
    assert set(_entries(client_for(outsider), search="ann@")) == {"ann@client.example"}


def test_adding_an_address_another_team_listed_does_not_show_their_note(
    noted, outsider, client_for
):
    """Adding an address already listed answers with the existing entry: without its note."""
    again = client_for(outsider).post(URL, {"email": "ANN@client.example", "note": "mine"})

    assert again.status_code == 201
    assert again.json()["suppression_id"] == noted["suppression_id"]
    assert (again.json()["note"], again.json()["note_visible"]) == ("", False)
