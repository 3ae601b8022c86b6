"""Sending reminder emails: through a real SMTP server, and at most once whatever goes wrong."""

import datetime
import email
import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from cadence.notifications import services
from cadence.notifications.models import EmailDelivery
from cadence.notifications.tests.factories import EmailDeliveryFactory
from cadence.notifications.tests.helpers import NOW, due_plan, plan_reminder

pytestmark = pytest.mark.django_db


class _Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield inbox
    finally:
        controller.stop()


def test_reminder_email_arrives_at_a_real_smtp_server(rep, smtp_server, settings):
    """The pass hands the email to the SMTP server: to the user, from Cadence, with the
    notification's title as subject and a link to the plan."""
    settings.DEFAULT_FROM_EMAIL = "Cadence <cadence@example.com>"
    plan = due_plan(rep)
    plan_reminder(plan)

    services.reminders_deliver_due(now=NOW)
    # The pass sends on commit, which the test's own transaction holds back: send here.
    services.email_deliveries_send(now=NOW)

    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == [rep.email]
    assert envelope.mail_from == "cadence@example.com"
    message = email.message_from_bytes(envelope.content)
    assert message["Subject"] == "Call: Ada Lovelace (Acme)"
    assert message["To"] == rep.email
    assert f"/api/v1/plans/{plan.pk}/" in message.get_payload(decode=True).decode()
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 1, "")
    assert delivery.sent_at is not None


class BrokenBackend(BaseEmailBackend):
    """A mail server that connects, then fails every message: it may or may not have taken it."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class UnreachableBackend(BaseEmailBackend):
    """A mail server that cannot be reached at all."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages):  # pragma: no cover - never reached
        raise AssertionError("sent without a connection")


def test_a_failed_send_is_not_retried(rep, settings):
    """The message that failed is marked failed with the error and left alone by later passes;
    the ones behind it wait, untouched, for the next pass."""
    first, second = (EmailDeliveryFactory(reminder=plan_reminder(due_plan(rep))) for _ in "12")
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"

    assert services.email_deliveries_send(now=NOW) == 0

    states = dict(EmailDelivery.objects.values_list("pk", "status"))
    assert states == {first.pk: "failed", second.pk: "pending"}
    first.refresh_from_db()
    assert "Connection unexpectedly closed" in first.error
    assert first.attempts == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.email_deliveries_send(now=NOW) == 1
    first.refresh_from_db()
    assert (first.status, first.attempts) == ("failed", 1)
    assert [m.subject for m in mail.outbox] == [second.subject]


def test_an_unreachable_server_leaves_emails_pending(rep, settings):
    """Nothing is claimed when the server cannot be reached, so nothing is lost: the next pass
    sends it."""
    delivery = EmailDeliveryFactory(reminder=plan_reminder(due_plan(rep)))
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"

    assert services.email_deliveries_send(now=NOW) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.email_deliveries_send(now=NOW) == 1
    assert len(mail.outbox) == 1


def test_a_send_stuck_past_the_timeout_is_failed_not_resent(rep):
    """A claim whose sender died is marked failed after the timeout and never sent again; a
    recent claim is left to its sender."""
    now = timezone.now()
    stuck = EmailDeliveryFactory(
        reminder=plan_reminder(due_plan(rep)),
        status="sending",
        attempts=1,
        claimed_at=now - services.SENDING_TIMEOUT - datetime.timedelta(seconds=1),
    )
    busy = EmailDeliveryFactory(
        reminder=plan_reminder(due_plan(rep, company_name="Busy")),
        status="sending",
        attempts=1,
        claimed_at=now - datetime.timedelta(minutes=1),
    )

    assert services.email_deliveries_send(now=now) == 0

    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert (stuck.status, stuck.attempts) == ("failed", 1)
    assert "not retried" in stuck.error
    assert busy.status == "sending"
    assert mail.outbox == []


def test_a_delivery_claimed_by_another_sender_is_skipped(rep):
    """Only a pending message is claimed: one already sent is not sent again."""
    EmailDeliveryFactory(reminder=plan_reminder(due_plan(rep)), status="sent")

    assert services.email_deliveries_send(now=NOW) == 0
    assert mail.outbox == []
