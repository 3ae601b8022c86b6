"""The mailboxes API: connecting (a 400 that says what failed, never the password back), who
sees which mailbox, testing and disconnecting. The logins against real servers are in
``test_connect.py``."""

import pytest

from cadence.core.tests.api_helpers import API
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.tests.test_services import fields, stored_mailbox

pytestmark = pytest.mark.django_db

MAILBOXES = f"{API}/mailboxes/"


def test_connecting_to_a_server_that_refuses_is_a_400_saying_so(client_for, rep):
    response = client_for(rep).post(MAILBOXES, fields(), format="json")
    assert response.status_code == 400, response.content
    assert "refused the connection" in response.json()["imap_host"][0]
    assert "app password" not in response.content.decode()
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"imap_port": 0}, "imap_port"),
        ({"smtp_security": "tls1.0"}, "smtp_security"),
        ({"email_address": "nobody"}, "email_address"),
        ({"password": ""}, "password"),
    ],
)
def test_bad_input_is_a_400_on_its_field(client_for, rep, change, field):
    response = client_for(rep).post(MAILBOXES, fields(**change), format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_who_sees_which_mailbox_and_never_a_secret(client_for, rep, teammate, manager, outsider):
    mine, theirs = stored_mailbox(rep), stored_mailbox(outsider)
    stored_mailbox(teammate)
    seen = {
        user.username: {
            row["mailbox_id"] for row in client_for(user).get(MAILBOXES).json()["results"]
        }
        for user in (rep, manager, outsider)
    }
    assert seen[rep.username] == {str(mine.pk)}
    assert str(mine.pk) in seen[manager.username] and str(theirs.pk) not in seen[manager.username]
    assert seen[outsider.username] == {str(theirs.pk)}
    body = client_for(manager).get(f"{MAILBOXES}{mine.pk}/").content.decode()
    assert '"status"' in body
    assert "app password" not in body and mine.secret_encrypted not in body
    assert "password" not in client_for(rep).get(f"{MAILBOXES}{mine.pk}/").json()
    assert client_for(outsider).get(f"{MAILBOXES}{mine.pk}/").status_code == 404


def test_testing_a_broken_mailbox_is_a_400_and_marks_it(client_for, rep, manager):
    mailbox = stored_mailbox(rep)
    assert client_for(manager).post(f"{MAILBOXES}{mailbox.pk}/test/").status_code == 403
    response = client_for(rep).post(f"{MAILBOXES}{mailbox.pk}/test/")
    assert response.status_code == 400
    assert "refused the connection" in str(response.json())
    mailbox.refresh_from_db()
    assert mailbox.status == "broken"


def test_disconnecting_is_the_owners(client_for, rep, manager):
    mailbox = stored_mailbox(rep)
    assert client_for(manager).delete(f"{MAILBOXES}{mailbox.pk}/").status_code == 403
    assert client_for(rep).delete(f"{MAILBOXES}{mailbox.pk}/").status_code == 204
    assert not Mailbox.objects.exists()
