"""Delivering due reminders: one notification and one email per reminder and delivery time,
however often the pass runs; what is not due, not wanted or not running is left alone."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.activities.services import reminder_dismiss, reminder_snooze
from cadence.activities.tests.factories import ReminderFactory
from cadence.notifications import services
from cadence.notifications.models import EmailDelivery, Notification
from cadence.notifications.tests.helpers import NOW, due_plan, plan_reminder
from cadence.plans.models import LeadContactPlan

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run the delivery pass at ``now`` as the scheduler does: emails go out on commit."""

    def run(now=NOW, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.reminders_deliver_due(now=now, **kwargs)

    return run


def test_due_reminder_is_delivered_once_however_often_the_pass_runs(rep, deliver):
    """The first pass makes one notification and sends one email; later passes do nothing."""
    plan = due_plan(rep)
    reminder = plan_reminder(plan)

    assert deliver() == 1
    assert deliver() == 0
    assert deliver(now=NOW + HOUR) == 0

    reminder.refresh_from_db()
    assert reminder.status == "sent"
    assert reminder.sent_at == NOW
    notification = Notification.objects.get()
    assert notification.user == rep
    assert notification.reminder == reminder
    assert notification.remind_at == reminder.remind_at
    assert notification.read_at is None
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.to_email) == ("sent", 1, rep.email)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [rep.email]


def test_notification_names_step_contact_company_and_local_due_time(rep, deliver):
    """Title "Call: Ada Lovelace (Acme)"; the body gives the step, the due time in the user's
    time zone and the rendered subject; the link leads to the plan."""
    plan = due_plan(rep)
    plan_reminder(plan, message="Ask about the budget")

    deliver()

    notification = Notification.objects.get()
    assert notification.title == "Call: Ada Lovelace (Acme)"
    assert "Step 1 of Outbound Q3: Call Ada Lovelace at Acme." in notification.body
    assert "Due Tue 25 Nov 2025, 10:00 CET." in notification.body  # Europe/Berlin
    assert "Subject: Hello Ada" in notification.body
    assert "Ask about the budget" in notification.body
    assert notification.url == f"/api/v1/plans/{plan.pk}/"
    email = mail.outbox[0]
    assert email.subject == "Call: Ada Lovelace (Acme)"
    assert f"http://localhost:8000/api/v1/plans/{plan.pk}/" in email.body
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"


def test_a_reminder_without_a_plan_shows_its_message(rep, deliver):
    ReminderFactory(user=rep, remind_at=NOW - HOUR, message="Renew the contract\nwith notes")

    deliver()

    notification = Notification.objects.get()
    assert notification.title == "Renew the contract"
    assert notification.url == ""
    assert "Due Tue 25 Nov 2025, 09:00 CET." in notification.body


def test_a_plan_on_a_company_names_the_company(rep, deliver):
    """Without a contact the lead is the company; a line break in a name stays out of the
    email's subject."""
    plan = due_plan(rep, company_name="Acme\nWidgets")
    LeadContactPlan.objects.filter(pk=plan.pk).update(contact=None)
    plan.refresh_from_db()
    plan_reminder(plan)

    assert deliver() == 1

    notification = Notification.objects.get()
    assert notification.title == "Call: Acme Widgets"
    assert "Step 1 of Outbound Q3: Call Acme\nWidgets." in notification.body
    assert [m.subject for m in mail.outbox] == ["Call: Acme Widgets"]


def test_what_is_not_due_is_left_alone(rep, outsider, deliver):
    """Future, dismissed and already sent reminders, and those of paused or finished plans,
    stay as they were; each delivered reminder goes to its own user only."""
    due_mine = plan_reminder(due_plan(rep))
    due_theirs = plan_reminder(due_plan(outsider))
    untouched = {
        "future": plan_reminder(due_plan(rep, due=NOW + HOUR)),
        "dismissed": plan_reminder(due_plan(rep, company_name="B"), status="dismissed"),
        "sent": plan_reminder(due_plan(rep, company_name="C"), status="sent"),
        "paused plan": plan_reminder(due_plan(rep, status="Paused", company_name="D")),
        "completed plan": plan_reminder(due_plan(rep, status="Completed", company_name="E")),
    }

    assert deliver() == 2

    assert {(n.reminder_id, n.user_id) for n in Notification.objects.all()} == {
        (due_mine.pk, rep.pk),
        (due_theirs.pk, outsider.pk),
    }
    assert sorted(m.to[0] for m in mail.outbox) == sorted([rep.email, outsider.email])
    for name, reminder in untouched.items():
        before = reminder.status
        reminder.refresh_from_db()
        assert reminder.status == before, name
        assert reminder.sent_at is None, name
        assert not reminder.notifications.exists(), name


def test_channels_decide_the_in_app_notification(rep, deliver):
    """A reminder for email only makes no notification."""
    plan_reminder(due_plan(rep), channels=["email"])

    assert deliver() == 1

    assert not Notification.objects.exists()
    assert [m.subject for m in mail.outbox] == ["Call: Ada Lovelace (Acme)"]


def test_every_reminder_is_emailed_while_the_setting_is_on(rep, deliver, settings):
    """The scheduler's reminders ask for in-app only; by default their users get an email too."""
    settings.CADENCE_REMINDER_EMAIL = True
    plan_reminder(due_plan(rep), channels=["in_app"])

    deliver()

    assert Notification.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[rep.email]]


def test_with_the_setting_off_only_reminders_asking_for_email_are_emailed(rep, deliver, settings):
    settings.CADENCE_REMINDER_EMAIL = False
    plan_reminder(due_plan(rep, company_name="In App"), channels=["in_app"])
    asks = plan_reminder(due_plan(rep, company_name="Mail"), channels=["in_app", "email"])

    assert deliver() == 2

    assert Notification.objects.count() == 2
    assert list(EmailDelivery.objects.values_list("reminder", flat=True)) == [asks.pk]
    assert [m.subject for m in mail.outbox] == ["Call: Ada Lovelace (Mail)"]


def test_no_email_for_a_user_without_an_address_or_deactivated(deliver):
    """Their reminders are still delivered in the app; no email is written."""
    no_address = UserFactory(username="no_address", email="")
    gone = UserFactory(username="gone", is_active=False)
    for user in (no_address, gone):
        plan_reminder(due_plan(user))

    assert deliver() == 2

    assert Notification.objects.count() == 2
    assert not EmailDelivery.objects.exists()
    assert mail.outbox == []


def test_a_backlog_is_delivered_in_batches(rep, deliver):
    """Seven due reminders with batches of three: all delivered in one call."""
    for n in range(7):
        plan_reminder(due_plan(rep, company_name=f"Company {n}"), remind_at=NOW - n * HOUR)

    assert deliver(batch_size=3) == 7

    assert Notification.objects.count() == 7
    assert len(mail.outbox) == 7
    assert not Reminder.objects.exclude(status="sent").exists()


def test_snoozed_reminder_is_delivered_again_at_the_new_time(rep, deliver):
    """Snoozing a delivered reminder brings it back at ``until``, once, with a second
    notification and email; before then nothing happens."""
    reminder = plan_reminder(due_plan(rep))
    deliver()
    until = timezone.now() + 2 * HOUR

    reminder_snooze(reminder=reminder, actor=rep, until=until)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.remind_at) == ("snoozed", until)
    assert deliver(now=until - datetime.timedelta(minutes=1)) == 0
    assert deliver(now=until) == 1
    assert deliver(now=until + HOUR) == 0
    assert sorted(Notification.objects.values_list("remind_at", flat=True)) == [NOW, until]
    assert EmailDelivery.objects.filter(status="sent").count() == 2
    assert len(mail.outbox) == 2


def test_dismissed_reminder_is_not_delivered_and_its_notifications_are_read(rep, deliver):
    delivered = plan_reminder(due_plan(rep))
    deliver()
    pending = plan_reminder(due_plan(rep, company_name="Later"), remind_at=NOW + HOUR)

    reminder_dismiss(reminder=delivered, actor=rep)
    reminder_dismiss(reminder=pending, actor=rep)

    assert deliver(now=NOW + 2 * HOUR) == 0
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert Notification.objects.count() == 1
    pending.refresh_from_db()
    assert (pending.status, pending.sent_at) == ("dismissed", None)


def test_mark_read_keeps_the_first_reading_time(rep):
    reminder = plan_reminder(due_plan(rep))
    services.reminders_deliver_due(now=NOW)
    notification = Notification.objects.get(reminder=reminder)

    first = services.notification_mark_read(notification=notification).read_at
    again = services.notification_mark_read(notification=notification).read_at

    assert first is not None
    assert again == first


def test_mark_all_read_touches_only_the_users_notifications(rep, teammate):
    for user in (rep, rep, teammate):
        Notification.objects.create(user=user, title="Hello")

    assert services.notifications_mark_all_read(user=rep) == 2
    assert services.notifications_mark_all_read(user=rep) == 0
    assert Notification.objects.filter(user=teammate, read_at__isnull=True).count() == 1
