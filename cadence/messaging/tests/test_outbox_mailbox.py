"""Sending from the reps' own mailboxes: an owner who connected one sends through its SMTP
server (aiosmtpd with AUTH), from its address, and finds the email in its Sent folder (Dovecot);
everyone else keeps the organisation's server; a broken mailbox makes its owner's emails wait
rather than go another way."""

import datetime
import email
import email.policy
import email.utils
import random
import secrets
import threading
import time

import pytest
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.core.secrets import secret_encrypt
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.tests import conftest as mail_servers
from cadence.mailboxes.tests.servers import free_port
from cadence.messaging.choices import InboundStatus, OutboundStatus
from cadence.messaging.mailbox_sync import mailbox_sync
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.messaging.outbox import TEMPORARY_RETRY, outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import (
    automated_strategy,
    connected_mailbox,
    contacts_of,
    enroll,
    sender_user,
)
from cadence.notifications.models import Notification
from cadence.plans.models import LeadContactPlan

pytestmark = pytest.mark.django_db

dovecot_server = mail_servers.dovecot_server
dovecot = mail_servers.dovecot
smtp_auth_server = mail_servers.smtp_auth_server


@pytest.fixture
def seller():
    return sender_user()


@pytest.fixture
def mailbox(dovecot, smtp_auth_server, seller):
    """The seller's own mailbox, at an address other than their login's."""
    return connected_mailbox(
        dovecot, smtp_auth_server, seller, email_address="sam.seller@mail.seller.example"
    )


def _due(user, count=1, domain="client.example"):
    contacts = contacts_of(user, count, domain=domain)
    enroll(automated_strategy(), user, contacts)
    return contacts


def test_an_owner_with_a_mailbox_sends_through_it_and_finds_it_in_sent(
    seller, mailbox, dovecot, smtp_auth_server, smtp_server
):
    [contact] = _due(seller)
    colleague = sender_user(username="cole", email="cole@seller.example")
    [other] = _due(colleague, domain="other.example")
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    assert report.sent == 2, report.lines
    [through_mailbox] = smtp_auth_server.messages
    assert through_mailbox.username == mailbox.username
    assert through_mailbox.rcpt_tos == (contact.email,)
    assert through_mailbox.mail_from == mailbox.email_address
    assert through_mailbox.message["From"] == f"Sam Seller <{mailbox.email_address}>"
    # The colleague without a mailbox keeps the organisation's server.
    [organisation] = smtp_server.messages
    assert organisation["To"] == other.email

    row = OutboundMessage.objects.get(contact=contact)
    assert row.status == OutboundStatus.SENT
    assert row.message_id == through_mailbox.message["Message-ID"]
    assert Activity.objects.filter(contact=contact, message_id=row.message_id).count() == 1

    with dovecot.connect(mailbox.username, mailbox.password) as imap:
        assert imap.select("Sent", readonly=True)[0] == "OK"
        status, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    assert status == "OK"
    [(meta, raw), *_] = [part for part in data if isinstance(part, tuple)]
    assert b"\\Seen" in meta
    filed = email.message_from_bytes(raw, policy=email.policy.default)
    assert filed["Message-ID"] == row.message_id and filed["To"] == contact.email


def test_a_broken_mailbox_makes_its_owners_emails_wait_not_go_another_way(
    seller, mailbox, smtp_auth_server, smtp_server
):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status="broken", last_error="The IMAP server refused the username or password."
    )
    _due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    assert (report.sent, report.waiting) == (0, 1)
    assert smtp_auth_server.messages == [] and smtp_server.messages == []
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.QUEUED
    assert "broken" in row.error and "refused the username or password" in row.error
    assert row.send_after > timezone.now()


def test_a_refused_login_while_sending_waits_and_breaks_the_mailbox_after_three(
    seller, mailbox, smtp_auth_server, smtp_server
):
    """The rows wait with the reason; the third refusal in a row breaks the mailbox and its
    owner is told once; nothing ever goes through the organisation's server instead."""
    Mailbox.objects.filter(pk=mailbox.pk).update(secret_encrypted=secret_encrypt("wrong"))
    _due(seller, count=2)
    now = timezone.now()
    outbox_queue_due(now=now)

    for attempt in range(4):
        report = outbox_send_due(now=now)
        assert report.sent == 0 and report.waiting == 2, report.lines
        now += TEMPORARY_RETRY + datetime.timedelta(seconds=1)
        mailbox.refresh_from_db()
        if attempt < 2:
            assert (mailbox.status, mailbox.auth_failures) == ("connected", attempt + 1)

    assert (mailbox.status, mailbox.auth_failures) == ("broken", 3)
    assert smtp_auth_server.messages == [] and smtp_server.messages == []
    errors = set(OutboundMessage.objects.values_list("error", flat=True))
    assert len(errors) == 1 and "broken" in errors.pop()
    [note] = Notification.objects.filter(user=seller)
    assert "cannot be read" in note.title and "automated emails wait" in note.body


def _note_from(contact, subject="Re: your note") -> bytes:
    """Mail a lead writes without answering any thread: only the address tells who it is."""
    return (
        f"From: {contact.first_name} <{contact.email}>\r\nTo: sam.seller@mail.seller.example\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{secrets.token_hex(8)}@client.example>\r\n"
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nYes, call me on Monday.\r\n"
    ).encode()


def test_a_reply_that_landed_since_the_last_sync_stops_the_send(
    seller, mailbox, dovecot, smtp_auth_server
):
    """No sync has run: the look just before sending finds the lead's mail, ends the plan,
    and the step is not sent; the other lead's is."""
    answered, quiet = _due(seller, count=2)
    outbox_queue_due(now=timezone.now())
    dovecot.append(mailbox.username, mailbox.password, "INBOX", _note_from(answered))

    report = outbox_send_due()

    assert (report.sent, report.cancelled) == (1, 1), report.lines
    assert [m.rcpt_tos for m in smtp_auth_server.messages] == [(quiet.email,)]
    plan = LeadContactPlan.objects.get(contact=answered)
    assert (plan.status, plan.exit_reason) == ("Completed", "replied")
    assert OutboundMessage.objects.get(contact=answered).status == OutboundStatus.CANCELLED
    assert InboundMessage.objects.get().status == InboundStatus.APPLIED
    # The sync reads the message again later; it counts once.
    mailbox_sync(mailbox=mailbox)
    assert Activity.objects.filter(contact=answered, direction="inbound").count() == 1


def test_an_inbox_that_cannot_be_read_before_sending_holds_the_send(
    seller, mailbox, smtp_auth_server, smtp_server
):
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    mailbox.refresh_from_db()
    _due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    assert (report.sent, report.waiting) == (0, 1)
    assert smtp_auth_server.messages == [] and smtp_server.messages == []
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.QUEUED
    assert "checked for replies before sending" in row.error and "refused" in row.error


def test_no_email_goes_to_a_lead_whose_reply_was_in_the_inbox_before_the_send_began(
    seller, mailbox, dovecot, smtp_auth_server
):
    """Replies land while the outbox sends, in small batches: every reply that was in the
    inbox before its row was claimed stops that row's email."""
    # A company each, so that no company's weekly touch limit holds a row back.
    contacts = [_due(seller, domain=f"lead{n}.example")[0] for n in range(30)]
    outbox_queue_due(now=timezone.now())
    landed: dict[str, datetime.datetime] = {}
    order = random.Random(7).sample(contacts, len(contacts))

    errors = []

    def replies():
        try:
            for contact in order:
                dovecot.append(mailbox.username, mailbox.password, "INBOX", _note_from(contact))
                landed[contact.email] = timezone.now()
                time.sleep(0.01)
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=replies)
    thread.start()
    try:
        report = outbox_send_due(batch_size=3)
    finally:
        thread.join(timeout=60)

    assert errors == [] and len(landed) == len(contacts)
    received = {m.rcpt_tos[0] for m in smtp_auth_server.messages}
    rows = {row.to_email: row for row in OutboundMessage.objects.all()}
    too_late = [
        address
        for address in received
        if address in landed and landed[address] < rows[address].claimed_at
    ]
    assert too_late == []
    assert report.sent == len(received) and len(received) < len(contacts)
    assert report.sent + report.cancelled == len(contacts), report.lines


def test_a_connection_cut_after_the_message_leaves_it_uncertain_and_never_resent(
    seller, mailbox, smtp_auth_server, smtp_server
):
    """The outbox's uncertain state holds through a mailbox as through the organisation's
    server: the message may have gone, so it is neither sent again nor sent another way."""
    _due(seller)
    outbox_queue_due(now=timezone.now())
    smtp_auth_server.cut_after_data = True

    report = outbox_send_due()

    assert (report.sent, report.uncertain) == (0, 1), report.lines
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.UNCERTAIN and "may have been sent" in row.error
    smtp_auth_server.cut_after_data = False
    later = outbox_send_due(now=timezone.now() + datetime.timedelta(hours=2))
    assert later.sent == 0
    assert len(smtp_auth_server.messages) == 1 and smtp_server.messages == []
    assert not Activity.objects.filter(contact=row.contact).exists()
