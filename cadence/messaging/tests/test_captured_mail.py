"""Who reads captured mail, through the API and the web pages: the automated emails of the plans
one may see and one's own reminders, decided by what each email was sent for and never by the
addresses in it, which anyone can copy into their own profile."""

import pytest
from django.core.mail import EmailMessage
from django.test import Client
from django.utils import timezone

from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.notifications import services as notification_services
from cadence.notifications.tests.helpers import NOW, due_plan, plan_reminder

pytestmark = pytest.mark.django_db

LIST = "/api/v1/captured-mail/"
ME = "/api/v1/users/me/"
SUBJECT = "Quick question, Person0"


@pytest.fixture
def capture(settings, tmp_path):
    settings.EMAIL_BACKEND = "cadence.messaging.backends.CaptureBackend"
    settings.CADENCE_MAIL_CAPTURE_DIR = tmp_path
    return tmp_path


@pytest.fixture
def south_seller(other_team, capture):
    """A rep of the other team whose automated email to person0@client.example was captured."""
    seller = sender_user(username="south_seller", team=other_team)
    strategy = automated_strategy(created_by=seller)
    enroll(strategy, seller, contacts_of(seller, 1))
    outbox_queue_due(now=timezone.now())
    assert outbox_send_due().sent == 1
    return seller


def _names(client) -> list[str]:
    response = client.get(LIST)
    assert response.status_code == 200
    return [mail["name"] for mail in response.json()]


def _page(user) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.get("/outbox/mail/").content.decode()


def _captured(capture) -> str:
    [name] = [path.stem for path in capture.glob("*.eml")]
    return name


def test_a_rep_who_takes_the_recipients_address_still_cannot_read_the_mail(
    south_seller, rep, client_for, capture
):
    """The reported leak: a rep sets their email to an address in another team's mail. The
    address is no user's, so the change is allowed, and the mail stays unreadable to them."""
    name = _captured(capture)
    client = client_for(rep)

    changed = client.patch(ME, {"email": "person0@client.example"})

    assert changed.status_code == 200, changed.content
    assert _names(client) == []
    assert client.get(f"{LIST}{name}/").status_code == 404
    assert SUBJECT not in _page(rep)
    browser = Client()
    browser.force_login(rep)
    assert browser.get(f"/outbox/mail/{name}/").status_code == 404


def test_a_rep_cannot_take_the_senders_address(south_seller, rep, client_for, capture):
    """The sender's address is a user's: taking it is refused, in any case."""
    client = client_for(rep)

    refused = client.patch(ME, {"email": "SAM@Seller.Example"})

    assert refused.status_code == 400
    assert refused.json() == {"email": ["Another user already has this email address."]}
    assert _names(client) == []


def test_the_senders_team_manager_and_admins_read_it_other_managers_do_not(
    south_seller, other_manager, manager, admin_user, client_for, capture
):
    name = _captured(capture)

    assert _names(client_for(south_seller)) == [name]
    assert _names(client_for(other_manager)) == [name]
    assert SUBJECT in _page(other_manager)
    assert _names(client_for(admin_user)) == [name]
    assert _names(client_for(manager)) == []
    assert client_for(manager).get(f"{LIST}{name}/").status_code == 404


def test_a_reminder_email_stays_its_users_whatever_the_addresses_say(
    rep, teammate, manager, client_for, capture
):
    """A reminder emailed to the rep stays theirs after they change address; the teammate who
    then takes the old address does not get to read it, nor does their manager (reminders are
    personal)."""
    plan_reminder(due_plan(rep))
    notification_services.reminders_deliver_due(now=NOW)
    assert notification_services.email_deliveries_send(now=NOW) == 1
    name = _captured(capture)
    old_address = rep.email

    assert client_for(rep).patch(ME, {"email": "rita@new.example"}).status_code == 200
    assert client_for(teammate).patch(ME, {"email": old_address}).status_code == 200

    assert _names(client_for(rep)) == [name]
    assert _names(client_for(teammate)) == []
    assert client_for(teammate).get(f"{LIST}{name}/").status_code == 404
    assert _names(client_for(manager)) == []


def test_mail_sent_for_nothing_cadence_knows_is_for_admins_only(
    rep, admin_user, client_for, capture
):
    """Mail without Cadence's header (Django's error mail to the admins, say) is shown to admins
    only, even to a user whose address it went to."""
    EmailMessage("Server error", "Traceback ...", "cadence@localhost", [rep.email]).send()
    name = _captured(capture)

    assert _names(client_for(rep)) == []
    assert client_for(rep).get(f"{LIST}{name}/").status_code == 404
    assert _names(client_for(admin_user)) == [name]
