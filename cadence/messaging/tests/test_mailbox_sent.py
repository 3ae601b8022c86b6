"""The emails a rep writes by hand, read from their Sent folder on a real IMAP server
(Dovecot): each is logged once for the contacts it went to, does a manual Email step the plan
waits on, and is never taken for the lead's reply; nor is the rep's own mail in the inbox."""

import email.utils
import secrets

import pytest
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.messaging.mailbox_sync import mailbox_sync
from cadence.messaging.models import InboundMessage
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests import test_outbox_mailbox as sending
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll

pytestmark = pytest.mark.django_db

dovecot_server = sending.dovecot_server
dovecot = sending.dovecot
smtp_auth_server = sending.smtp_auth_server
seller = sending.seller
mailbox = sending.mailbox


def _by_hand(mailbox, to, *, subject="Following up", cc="", in_reply_to="") -> bytes:
    """An email the rep wrote in their own mail client."""
    headers = [
        f"From: Sam Seller <{mailbox.email_address}>",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        f"Subject: {subject}",
        f"Message-ID: <{secrets.token_hex(8)}@mail.seller.example>",
        *([f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"] if in_reply_to else []),
        f"Date: {email.utils.format_datetime(timezone.now())}",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(headers) + "\r\n\r\nHi, did you get a chance to look?\r\n").encode()


def _manual_email_plan(seller):
    strategy = automated_strategy(steps=3)
    strategy.steps.filter(step_number=1).update(is_automated=False)
    contact = contacts_of(seller, 1)[0]
    return enroll(strategy, seller, [contact])[0]


def test_an_email_written_by_hand_is_logged_once_and_does_the_manual_step(seller, mailbox, dovecot):
    plan = _manual_email_plan(seller)
    contact = plan.contact
    raw = _by_hand(mailbox, f"{contact.first_name} <{contact.email.upper()}>", cc="x@else.example")
    dovecot.append(mailbox.username, mailbox.password, "Sent", raw, flags=("\\Seen",))
    dovecot.append(mailbox.username, mailbox.password, "Sent", _by_hand(mailbox, "a@else.example"))
    before = sending_flags(dovecot, mailbox)

    result = mailbox_sync(mailbox=mailbox)

    assert (result.read, result.logged, result.applied, result.error) == (2, 1, 0, "")
    [activity] = Activity.objects.filter(contact=contact)
    assert (activity.activity_type, activity.direction, activity.outcome) == (
        "Email",
        "outbound",
        "Sent",
    )
    assert activity.subject == "Following up" and activity.user == seller
    assert activity.message_id == email.message_from_bytes(raw)["Message-ID"]
    assert (activity.plan_id, activity.step.step_number) == (plan.pk, 1)
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    assert sending_flags(dovecot, mailbox) == before
    assert not InboundMessage.objects.exists()

    # Read again after the folder is renumbered: still logged once.
    mailbox.folders.filter(name="Sent").update(uid_validity=1)
    assert mailbox_sync(mailbox=mailbox).logged == 0
    assert Activity.objects.filter(contact=contact).count() == 1


def test_the_leads_answer_to_a_hand_written_email_is_their_reply(seller, mailbox, dovecot):
    plan = _manual_email_plan(seller)
    contact = plan.contact
    raw = _by_hand(mailbox, contact.email)
    dovecot.append(mailbox.username, mailbox.password, "Sent", raw)
    message_id = email.message_from_bytes(raw)["Message-ID"]
    answer = (
        f"From: {contact.email}\r\nTo: {mailbox.email_address}\r\nSubject: Re: Following up\r\n"
        f"Message-ID: <{secrets.token_hex(8)}@client.example>\r\nIn-Reply-To: {message_id}\r\n"
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n\r\nYes, Tuesday works.\r\n"
    ).encode()
    dovecot.append(mailbox.username, mailbox.password, "INBOX", answer)

    result = mailbox_sync(mailbox=mailbox)

    assert (result.logged, result.applied) == (1, 1)
    plan.refresh_from_db()
    assert (plan.status, plan.exit_reason) == ("Completed", "replied")
    record = InboundMessage.objects.get()
    assert record.activity.direction == "inbound" and record.contact == contact


def test_the_reps_own_follow_up_is_never_taken_for_the_leads_reply(
    seller, mailbox, dovecot, smtp_auth_server
):
    """The rep answers Cadence's email themselves and copies their inbox (a known failure of
    other tools): the plan runs on, and the follow-up is logged as the rep's, from Sent."""
    strategy = automated_strategy(steps=3)
    contact = contacts_of(seller, 1)[0]
    plan = enroll(strategy, seller, [contact])[0]
    outbox_queue_due(now=timezone.now())
    assert outbox_send_due().sent == 1
    cadence_id = smtp_auth_server.messages[0].message["Message-ID"]
    follow_up = _by_hand(
        mailbox,
        contact.email,
        subject="Re: Quick question",
        cc=mailbox.email_address,
        in_reply_to=cadence_id,
    )
    dovecot.append(mailbox.username, mailbox.password, "INBOX", follow_up)
    dovecot.append(mailbox.username, mailbox.password, "Sent", follow_up)

    result = mailbox_sync(mailbox=mailbox)

    assert (result.applied, result.logged) == (0, 1)
    plan.refresh_from_db()
    assert plan.status == "In Progress" and plan.exit_reason == ""
    assert not InboundMessage.objects.exists()
    logged = set(Activity.objects.filter(contact=contact).values_list("direction", "subject"))
    assert logged == {
        ("outbound", f"Quick question, {contact.first_name}"),
        ("outbound", "Re: Quick question"),
    }


def sending_flags(dovecot, mailbox) -> list[bytes]:
    with dovecot.connect(mailbox.username, mailbox.password) as imap:
        imap.select("Sent", readonly=True)
        status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
    assert status == "OK"
    return sorted(line for line in data if line)
