"""The outbox end to end, against a real SMTP server: queueing by the scheduler pass, the
personalization check, the unsubscribe link and headers, and settling crashed sends."""

import datetime
import re

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.messaging.choices import OutboundStatus, SuppressionReason
from cadence.messaging.models import OutboundMessage, Suppression
from cadence.messaging.outbox import outbox_queue_due, outbox_reclaim_stuck, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.notifications.models import Notification
from cadence.ops.scheduler import scheduler_pass
from cadence.plans.services import plan_pause
from cadence.strategies.services import step_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return sender_user()


def _one_due(seller, **strategy_options):
    strategy = automated_strategy(**strategy_options)
    contact = contacts_of(seller, 1)[0]
    plan = enroll(strategy, seller, [contact])[0]
    return strategy, contact, plan


def test_the_pass_queues_a_due_automated_step_once(seller):
    _strategy, contact, plan = _one_due(seller)

    first = scheduler_pass()
    second = scheduler_pass()

    assert (first.emails_queued, second.emails_queued) == (1, 0)
    row = OutboundMessage.objects.get()
    assert (row.plan, row.step, row.status) == (plan, plan.current_step, OutboundStatus.QUEUED)
    assert row.to_email == contact.email
    assert row.subject == f"Quick question, {contact.first_name}"


def test_a_manual_step_and_a_step_not_yet_due_are_not_queued(seller):
    strategy = automated_strategy()
    strategy.steps.filter(step_number=1).update(is_automated=False)
    enroll(strategy, seller, contacts_of(seller, 1))
    later = automated_strategy()
    enroll(
        later,
        seller,
        contacts_of(seller, 1, domain="later.example"),
        start=timezone.now() + datetime.timedelta(days=1),
    )

    assert outbox_queue_due(now=timezone.now()) == 0


def test_an_unapproved_strategy_waits_for_approval_and_sends_nothing(seller, smtp_server):
    _one_due(seller, approved=False)

    outbox_queue_due(now=timezone.now())
    report = outbox_send_due()

    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL
    assert report.sent == 0
    assert smtp_server.messages == []


def test_a_sent_step_arrives_with_unsubscribe_link_headers_and_footer(seller, smtp_server):
    _strategy, contact, plan = _one_due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    assert report.sent == 1
    [received] = smtp_server.messages
    assert smtp_server.envelopes[0][1] == [contact.email]
    assert received["To"] == contact.email
    assert received["From"] == "Sam Seller <sam@seller.example>"
    assert received["Subject"] == f"Quick question, {contact.first_name}"
    link = re.fullmatch(r"<(http://localhost:8000/u/[^>]+)>", received["List-Unsubscribe"].strip())
    assert link, received["List-Unsubscribe"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = received.get_content()
    assert f"Hi {contact.first_name}," in body
    assert "how does Initech handle onboarding today?" in body
    assert "Sam Seller, Acme Sales" in body
    assert link[1] in body
    assert "Acme Sales GmbH, Hauptstrasse 1, 10115 Berlin" in body

    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.SENT
    assert row.message_id == received["Message-ID"]
    activity = Activity.objects.get(plan=plan)
    assert (activity.activity_type, activity.outcome, activity.direction) == (
        "Email",
        "Sent",
        "outbound",
    )
    assert activity.message_id == received["Message-ID"]
    assert activity.step_id == row.step_id
    assert row.activity_id == activity.pk
    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    assert plan.status == "In Progress"


def test_sending_again_sends_nothing_more(seller, smtp_server):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    outbox_queue_due(now=timezone.now())
    again = outbox_send_due()

    assert again.sent == 0
    assert len(smtp_server.messages) == 1


def test_one_click_unsubscribe_stops_all_further_mail(seller, smtp_server):
    _strategy, contact, plan = _one_due(seller)
    other = automated_strategy()
    other.steps.filter(step_number=1).update(delay_days=3)
    other_plan = enroll(other, seller, [contact])[0]
    outbox_queue_due(now=timezone.now())
    outbox_send_due()
    link = smtp_server.messages[0]["List-Unsubscribe"].strip().strip("<>")
    path = link.removeprefix("http://localhost:8000")

    # What a mail provider sends for RFC 8058: a POST, no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    contact.refresh_from_db()
    assert contact.opted_out
    assert Suppression.objects.get().email == contact.email
    for one in (plan, other_plan):
        one.refresh_from_db()
        assert (one.status, one.exit_reason) == ("Aborted", "opted_out")
    # The other strategy's email falls due later: it is never queued to go.
    later = timezone.now() + datetime.timedelta(days=4)
    outbox_queue_due(now=later)
    outbox_send_due(now=later)
    assert len(smtp_server.messages) == 1


def test_the_unsubscribe_page_asks_on_get_and_refuses_a_bad_token(seller, smtp_server):
    _strategy, contact, _plan = _one_due(seller)
    outbox_queue_due(now=timezone.now())
    outbox_send_due()
    path = smtp_server.messages[0]["List-Unsubscribe"].strip().strip("<>").split("8000", 1)[1]

    page = Client().get(path)

    assert page.status_code == 200
    assert b"Yes, unsubscribe me" in page.content
    assert b'method="post"' in page.content
    contact.refresh_from_db()
    assert not contact.opted_out
    assert Client().get(path[:-3] + "xyz").status_code == 404
    assert Client().post(path[:-3] + "xyz").status_code == 404
    assert Client().get("/u/not-a-token").status_code == 404


def test_a_failed_personalization_check_sends_nothing_and_tells_the_user(seller, smtp_server):
    _strategy, contact, _plan = _one_due(seller)
    contact.first_name = ""
    contact.save()

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.FAILED
    assert "{{ contact.first_name }} is empty" in row.error
    assert smtp_server.messages == []
    note = Notification.objects.get(user=seller)
    assert "not sent" in note.title
    assert "contact.first_name" in note.body


def test_a_default_value_passes_the_check(seller, smtp_server):
    strategy, contact, _plan = _one_due(seller)
    strategy.steps.filter(step_number=1).update(
        subject_template="Hello {{ contact.first_name | default('there') }}"
    )
    contact.first_name = ""
    contact.save()
    strategy.steps.filter(step_number=1).update(
        description_template="Hi {{ contact.first_name | default('there') }} at {{ company.name }}"
    )

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    assert smtp_server.messages[0]["Subject"] == "Hello there"


def test_a_bare_template_is_refused(seller, smtp_server):
    strategy, _contact, _plan = _one_due(seller)
    strategy.steps.filter(step_number=1).update(
        subject_template="Our new product", description_template="Dear customer, buy now."
    )

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.FAILED
    assert "no contact or company field" in row.error
    assert smtp_server.messages == []


def test_a_missing_postal_address_is_refused(seller, smtp_server, settings):
    seller.sender.postal_address = ""
    seller.sender.save()
    settings.CADENCE_POSTAL_ADDRESS = ""
    _one_due(seller)

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    assert "postal address" in OutboundMessage.objects.get().error
    assert smtp_server.messages == []


def test_a_suppressed_address_is_not_sent(seller, smtp_server):
    _strategy, contact, _plan = _one_due(seller)
    Suppression.objects.create(email=contact.email.upper(), reason=SuppressionReason.MANUAL)

    outbox_queue_due(now=timezone.now())
    outbox_send_due()

    assert OutboundMessage.objects.get().status == OutboundStatus.SUPPRESSED
    assert smtp_server.messages == []


def test_an_address_suppressed_after_queueing_is_not_sent(seller, smtp_server):
    _strategy, contact, _plan = _one_due(seller)
    outbox_queue_due(now=timezone.now())
    Suppression.objects.create(email=contact.email, reason=SuppressionReason.MANUAL)

    outbox_send_due()

    assert OutboundMessage.objects.get().status == OutboundStatus.SUPPRESSED
    assert smtp_server.messages == []


def test_a_plan_that_moved_on_cancels_its_queued_email(seller, smtp_server):
    _strategy, _contact, plan = _one_due(seller)
    outbox_queue_due(now=timezone.now())
    plan_pause(plan=plan)

    outbox_send_due()

    assert OutboundMessage.objects.get().status == OutboundStatus.CANCELLED
    assert smtp_server.messages == []


def test_a_step_no_longer_automated_is_left_to_the_rep(seller, smtp_server):
    """The outbox sends only what ``plans.automation`` says is Cadence's to send: a step made
    manual after it was queued is the rep's again (they are reminded of it), so it is cancelled
    at the send rather than sent as well."""
    _strategy, _contact, plan = _one_due(seller)
    outbox_queue_due(now=timezone.now())
    step_update(step=plan.current_step, data={"is_automated": False})

    report = outbox_send_due()

    row = OutboundMessage.objects.get()
    assert (report.cancelled, row.status) == (1, OutboundStatus.CANCELLED)
    assert "rep's to do" in row.error
    assert smtp_server.messages == []


class _TakesNothing(BaseEmailBackend):
    """A mail backend that accepts no message and says so, without raising."""

    def send_messages(self, email_messages) -> int:
        return 0


def test_a_backend_that_takes_no_message_fails_it_and_tells_the_rep(seller):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due(mail_connection=_TakesNothing())

    row = OutboundMessage.objects.get()
    assert (report.failed, row.status) == (1, OutboundStatus.FAILED)
    note = Notification.objects.get(user=seller)
    assert "not sent" in note.title
    assert "took no message" in note.body


def test_outside_the_send_window_the_email_waits_for_it(seller, smtp_server):
    # Window 09:00-10:00 UTC, and it is 12:00: the next opening is the next day at 09:00.
    _strategy, _contact, _plan = _one_due(
        seller, send_window_start=datetime.time(9), send_window_end=datetime.time(10)
    )
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    noon = tomorrow.replace(hour=12, minute=0, second=0, microsecond=0)
    outbox_queue_due(now=noon)

    report = outbox_send_due(now=noon)

    row = OutboundMessage.objects.get()
    assert (report.sent, report.waiting, row.status) == (0, 1, OutboundStatus.QUEUED)
    assert row.send_after == (noon + datetime.timedelta(days=1)).replace(hour=9)
    assert outbox_send_due(now=row.send_after).sent == 1


def test_a_permanent_refusal_fails_and_a_temporary_one_waits(seller, smtp_server):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())
    smtp_server.refuse = "451 4.7.1 Try again later"

    outbox_send_due()

    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.QUEUED
    assert "deferred" in row.error
    assert row.send_after > timezone.now()

    smtp_server.refuse = "550 5.1.1 No such user"
    outbox_send_due(now=row.send_after)

    row.refresh_from_db()
    assert row.status == OutboundStatus.FAILED
    assert "No such user" in row.error
    assert smtp_server.messages == []


def test_an_unreachable_server_leaves_the_email_queued(seller, settings):
    from cadence.core.tests.smtp import free_port, point_django_at

    point_django_at(settings, free_port())
    _one_due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    row = OutboundMessage.objects.get()
    assert (report.sent, row.status, row.handoff_at) == (0, OutboundStatus.QUEUED, None)


def _stuck(row, *, handed_over: bool, minutes_ago: int = 30):
    then = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboundStatus.SENDING,
        claimed_at=then,
        handoff_at=then if handed_over else None,
    )


def test_a_claim_that_never_reached_the_server_is_sent_after_the_timeout(seller, smtp_server):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())
    _stuck(OutboundMessage.objects.get(), handed_over=False)

    report = outbox_send_due()

    assert (report.requeued, report.sent) == (1, 1)
    assert OutboundMessage.objects.get().status == OutboundStatus.SENT
    assert len(smtp_server.messages) == 1


def test_a_send_cut_off_after_handoff_becomes_uncertain_and_is_never_resent(seller, smtp_server):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())
    _stuck(OutboundMessage.objects.get(), handed_over=True)

    first = outbox_send_due()
    second = outbox_send_due(now=timezone.now() + datetime.timedelta(days=2))

    row = OutboundMessage.objects.get()
    assert (first.uncertain, second.sent, row.status) == (1, 0, OutboundStatus.UNCERTAIN)
    assert "may have been sent" in row.error
    assert smtp_server.messages == []


def test_a_recent_claim_is_left_to_its_worker(seller, smtp_server):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())
    _stuck(OutboundMessage.objects.get(), handed_over=False, minutes_ago=1)

    outbox_reclaim_stuck(now=timezone.now())
    outbox_send_due()

    assert OutboundMessage.objects.get().status == OutboundStatus.SENDING
    assert smtp_server.messages == []


def test_send_outbox_once_prints_what_it_did(seller, smtp_server, capsys):
    _one_due(seller)
    outbox_queue_due(now=timezone.now())

    call_command("send_outbox", "--once", "-v", "2")

    out = capsys.readouterr().out
    assert "1 sent, 0 failed" in out
    assert "sent to person0@client.example" in out
    assert len(smtp_server.messages) == 1


def test_send_outbox_refuses_a_bad_limit(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("send_outbox", "--once", "--limit", "0")
    assert exit_info.value.code == 2
    assert "--limit must be at least 1" in capsys.readouterr().err


def test_no_reminder_for_a_step_the_outbox_sends_but_one_while_it_awaits_approval(seller):
    from cadence.activities.models import Reminder
    from cadence.plans.scheduler import plans_create_due_reminders

    approved = automated_strategy()
    waiting = automated_strategy(approved=False)
    sent_by_cadence = enroll(approved, seller, contacts_of(seller, 1))[0]
    awaiting = enroll(waiting, seller, contacts_of(seller, 1, domain="other.example"))[0]

    assert plans_create_due_reminders(now=timezone.now()) == 2

    assert list(Reminder.objects.values_list("plan_id", flat=True)) == [awaiting.pk]
    sent_by_cadence.refresh_from_db()
    assert sent_by_cadence.reminder_due_at is None


def test_an_email_provider_through_anymail_records_its_message_id(seller, settings):
    """With a django-anymail backend (its test backend here: no network), the provider's ID
    is kept beside the Message-ID, for matching the provider's bounce and complaint events."""
    from django.core import mail

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    _one_due(seller)
    outbox_queue_due(now=timezone.now())

    report = outbox_send_due()

    row = OutboundMessage.objects.get()
    assert (report.sent, row.status) == (1, OutboundStatus.SENT)
    assert row.esp_message_id
    assert row.esp_message_id == str(mail.outbox[0].anymail_status.message_id)
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_worker_task_sends_and_is_scheduled(seller, smtp_server, settings):
    from cadence.messaging.tasks import send_outbox_task

    _one_due(seller)
    outbox_queue_due(now=timezone.now())

    assert send_outbox_task().startswith("1 sent")
    schedule = settings.CELERY_BEAT_SCHEDULE["send-outbox"]
    assert (schedule["task"], schedule["schedule"]) == ("messaging.send_outbox", 15.0)
    assert len(smtp_server.messages) == 1
