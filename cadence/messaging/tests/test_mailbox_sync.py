"""Reading a rep's own mailbox on a real IMAP server (Dovecot): a reply that lands in the inbox
ends the plan by itself; nothing in the mailbox changes; mail that is not about a lead is not
stored; each message counts once, whichever way it came in."""

import datetime
import email.utils
import secrets

import pytest
from django.core.management import call_command
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.core.secrets import secret_decrypt, secret_encrypt
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.tests import conftest as mail_servers
from cadence.mailboxes.tests.servers import free_port
from cadence.messaging.choices import InboundStatus
from cadence.messaging.inbound import inbound_receive
from cadence.messaging.mailbox_sync import mailbox_sync, mailboxes_due_for_sync
from cadence.messaging.models import InboundMessage
from cadence.messaging.tests import test_inbound as inbound_tests
from cadence.messaging.tests.support import connected_mailbox
from cadence.notifications.models import Notification
from cadence.plans.models import LeadContactPlan

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)

# The real IMAP server's fixtures, from the mailboxes app's tests, and the inbound tests' sent
# email and reply to it.
dovecot_server = mail_servers.dovecot_server
dovecot = mail_servers.dovecot
smtp_auth_server = mail_servers.smtp_auth_server
seller = inbound_tests.seller
sent = inbound_tests.sent
_reply = inbound_tests._reply


@pytest.fixture
def mailbox(dovecot, smtp_auth_server, seller):
    """The seller's own mailbox: IMAP on Dovecot, SMTP submission on aiosmtpd."""
    return connected_mailbox(dovecot, smtp_auth_server, seller, email_address=seller.email)


def deliver(dovecot, mailbox, raw: bytes) -> int:
    return dovecot.append(mailbox.username, _password(mailbox), "INBOX", raw)


def _password(mailbox) -> str:
    return secret_decrypt(mailbox.secret_encrypted)


def newsletter() -> bytes:
    return (
        "From: News <news@shop.example>\r\nTo: someone@seller.example\r\n"
        f"Subject: Deals\r\nMessage-ID: <{secrets.token_hex(6)}@shop.example>\r\n"
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n\r\nBuy now.\r\n"
    ).encode()


def flags(dovecot, mailbox) -> list[bytes]:
    imap = dovecot.connect(mailbox.username, _password(mailbox))
    try:
        imap.select("INBOX", readonly=True)
        _, data = imap.fetch("1:*", "(FLAGS)")
        return sorted(part for part in data if part)
    finally:
        imap.logout()


def test_a_reply_in_the_inbox_ends_the_plan_and_nothing_else_is_kept(dovecot, mailbox, sent):
    deliver(dovecot, mailbox, newsletter())
    deliver(dovecot, mailbox, _reply(sent))
    before = flags(dovecot, mailbox)
    assert all(b"\\Seen" not in line for line in before)

    result = mailbox_sync(mailbox=mailbox)

    # Two in the inbox, and in the Sent folder the email Cadence sent, not logged again.
    assert (result.read, result.applied, result.logged, result.error) == (3, 1, 0, "")
    plan = LeadContactPlan.objects.get(pk=sent.plan_id)
    assert (plan.status, plan.exit_reason) == ("Completed", "replied")
    record = InboundMessage.objects.get()
    assert (record.source, record.status, record.kind) == ("mailbox", "applied", "reply")
    assert flags(dovecot, mailbox) == before
    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.messages_seen, mailbox.last_error) == ("connected", 3, "")
    assert Activity.objects.filter(message_id=sent.message_id).count() == 1
    assert mailbox.last_sync_at is not None and mailbox.sync_claimed_until is None


def test_the_next_sync_reads_only_what_is_new(dovecot, mailbox, sent):
    deliver(dovecot, mailbox, newsletter())
    assert mailbox_sync(mailbox=mailbox).read == 2  # and Cadence's email in Sent
    assert mailbox_sync(mailbox=mailbox).read == 0
    deliver(dovecot, mailbox, _reply(sent))
    result = mailbox_sync(mailbox=mailbox)
    assert (result.read, result.applied) == (1, 1)
    assert mailbox.folders.get(name="INBOX").last_uid == 2


def test_a_reply_handed_in_before_is_applied_once(dovecot, mailbox, sent):
    inbound_receive(raw=_reply(sent), source="raw")
    deliver(dovecot, mailbox, _reply(sent))
    mailbox_sync(mailbox=mailbox)
    statuses = sorted(InboundMessage.objects.values_list("status", flat=True))
    assert statuses == [InboundStatus.APPLIED, InboundStatus.DUPLICATE]


def test_a_mailbox_another_sync_holds_is_skipped(dovecot, mailbox, sent):
    Mailbox.objects.filter(pk=mailbox.pk).update(
        sync_claimed_until=timezone.now() + timezone.timedelta(minutes=5)
    )
    deliver(dovecot, mailbox, _reply(sent))
    assert mailbox_sync(mailbox=mailbox).skipped
    assert not InboundMessage.objects.exists()


def test_repeated_refused_logins_break_the_mailbox_and_tell_its_owner(dovecot, mailbox, seller):
    Mailbox.objects.filter(pk=mailbox.pk).update(secret_encrypted=secret_encrypt("wrong"))
    mailbox.refresh_from_db()
    now = timezone.now()
    for _ in range(3):
        result = mailbox_sync(mailbox=mailbox, now=now)
        mailbox.refresh_from_db()
        now = mailbox.next_sync_at
    assert "refused the username or password" in result.error
    assert (mailbox.status, mailbox.auth_failures) == ("broken", 3)
    note = Notification.objects.get(user=seller)
    assert "cannot be read" in note.title and mailbox.email_address in note.body
    # A broken mailbox is not read again until its owner fixes it.
    assert mailbox_sync(mailbox=mailbox, now=now + timezone.timedelta(days=1)).skipped


def test_failed_syncs_put_the_next_one_off_longer_each_time(dovecot, mailbox, sent):
    """A server that cannot be reached is asked again after 1, 2, 4... minutes (at most an
    hour), not every minute; the first sync that works reads what came meanwhile."""
    port = mailbox.imap_port
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    mailbox.refresh_from_db()
    now = timezone.now()
    waits = []
    for _ in range(3):
        assert "refused the connection" in mailbox_sync(mailbox=mailbox, now=now).error
        mailbox.refresh_from_db()
        waits.append(mailbox.next_sync_at - now)
        assert mailbox_sync(mailbox=mailbox, now=mailbox.next_sync_at - SECOND).skipped
        # Nor does the beat's fan-out queue it before then.
        assert not mailboxes_due_for_sync(now=mailbox.next_sync_at - SECOND).exists()
        assert mailboxes_due_for_sync(now=mailbox.next_sync_at).exists()
        now = mailbox.next_sync_at
    assert [wait.total_seconds() for wait in waits] == [60, 120, 240]
    assert (mailbox.status, mailbox.auth_failures, mailbox.sync_errors) == ("connected", 0, 3)

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=port)
    mailbox.refresh_from_db()
    deliver(dovecot, mailbox, _reply(sent))
    assert mailbox_sync(mailbox=mailbox, now=now).applied == 1
    mailbox.refresh_from_db()
    assert (mailbox.sync_errors, mailbox.next_sync_at, mailbox.last_error) == (0, None, "")


def test_the_command_syncs_once(dovecot, mailbox, sent, capsys):
    deliver(dovecot, mailbox, _reply(sent))
    call_command("sync_mailboxes", "--once")
    out = capsys.readouterr().out
    assert "2 new message(s), 1 about leads, 0 sent by hand logged" in out
    assert "1 mailbox(es) synced" in out


def test_a_message_that_cannot_be_applied_does_not_stop_the_sync(
    dovecot, mailbox, sent, monkeypatch, caplog
):
    """A message the pipeline fails on (a fault injected into the first one) is logged and
    passed over; the reply after it still ends the plan, and the folder is read past both."""
    from cadence.messaging import mailbox_sync as sync_module

    real_receive = sync_module.inbound_receive
    seen = []

    def failing_first(**kwargs):
        seen.append(kwargs["raw"])
        if len(seen) == 1:
            raise RuntimeError("injected fault")
        return real_receive(**kwargs)

    monkeypatch.setattr(sync_module, "inbound_receive", failing_first)
    deliver(dovecot, mailbox, _reply(sent))
    deliver(dovecot, mailbox, _reply(sent).replace(b"Message-ID: <", b"Message-ID: <again-"))
    result = mailbox_sync(mailbox=mailbox)
    assert (result.read, result.applied) == (3, 1)
    assert LeadContactPlan.objects.get(pk=sent.plan_id).exit_reason == "replied"
    assert mailbox.folders.get(name="INBOX").last_uid == 2
    assert "could not be applied" in caplog.text


def test_configured_folders_are_read_like_the_inbox(dovecot, mailbox, sent, settings):
    """A reply a mail filter filed in "Replies" ends the plan; a configured folder this mailbox
    lacks is passed over."""
    settings.CADENCE_MAILBOX_FOLDERS = ["Replies", "Nowhere"]
    dovecot.create_folder(mailbox.username, _password(mailbox), "Replies")
    dovecot.append(mailbox.username, _password(mailbox), "Replies", _reply(sent))

    result = mailbox_sync(mailbox=mailbox)

    assert (result.applied, result.error) == (1, "")
    assert LeadContactPlan.objects.get(pk=sent.plan_id).exit_reason == "replied"
    assert set(mailbox.folders.values_list("name", flat=True)) == {"INBOX", "Sent", "Replies"}
