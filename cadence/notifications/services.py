"""Delivering reminders: in-app notifications, emails to the user, and the calendar feed.

The delivery pass, ``reminders_deliver_due``, claims due reminders in batches and, in the same
transaction, writes what each one delivers: an in-app notification and, where wanted, an email
waiting to be sent. The database refuses a second notification or email for the same reminder and
delivery time, and a reminder is marked sent (by the activities app, which owns reminders) only if
it is still the one that was read, so running the pass twice, or on two workers at once, delivers
each reminder once. Emails go out after the
commit, each claimed first (``pending`` to ``sending``) so that none is sent twice.

Which ways a reminder is delivered: an in-app notification when its ``channels`` include
``in_app``; an email to its user (if the user is active and has an address) when its channels
include ``email`` or ``CADENCE_REMINDER_EMAIL`` is on. That setting is on by default because the
scheduler makes plans' reminders with the default channels (in-app only) while users are meant to
hear of due steps by email too; a deployment turns it off to email only the reminders that ask.
"""

from __future__ import annotations

import datetime
import logging
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cadence.accounts.models import User
from cadence.activities.choices import ReminderChannel
from cadence.activities.models import Reminder
from cadence.activities.services import reminders_mark_delivered
from cadence.notifications.choices import DeliveryStatus
from cadence.notifications.models import (
    REMINDER_EMAIL_HEADER,
    CalendarFeed,
    EmailDelivery,
    Notification,
    new_calendar_token,
)
from cadence.notifications.selectors import calendar_plans, reminders_due
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import StrategyStep
from cadence.strategies.rendering import render_text, template_context

logger = logging.getLogger(__name__)

#: A message claimed for sending longer ago than this was lost with its sender (the mail
#: server's own timeout is far shorter). It is marked failed: resending could send it twice.
SENDING_TIMEOUT = datetime.timedelta(minutes=15)
#: How long a due step blocks in a subscriber's calendar.
EVENT_DURATION = datetime.timedelta(minutes=30)


# -- Delivering due reminders ---------------------------------------------------------------------


def reminders_deliver_due(*, now: datetime.datetime, batch_size: int = 500) -> int:
    """Deliver every reminder due at ``now``; return how many this call delivered.

    Each batch is its own transaction, so a long backlog neither holds locks for long nor is lost
    whole to one failure. Emails are sent once the batches are committed (called inside a
    transaction, once that commits), so no email announces a delivery that was rolled back.
    """
    delivered = 0
    while True:
        count, seen = _deliver_batch(now=now, batch_size=batch_size)
        delivered += count
        if seen < batch_size or count == 0:
            # A full batch of which nothing could be claimed was taken by a concurrent pass; the
            # next pass picks up whatever is left.
            break
    transaction.on_commit(partial(email_deliveries_send, now=now))
    return delivered


@transaction.atomic
def _deliver_batch(*, now: datetime.datetime, batch_size: int) -> tuple[int, int]:
    """Claim up to ``batch_size`` due reminders and write their deliveries.

    Returns (reminders delivered, reminders read)."""
    # SKIP LOCKED lets two workers share a backlog on PostgreSQL; SQLite ignores the lock and
    # serializes writers instead. Neither is relied on for correctness: the conditional update
    # and the unique constraints are.
    reminders = list(
        reminders_due(now=now)
        .select_related(
            "user",
            "step",
            "plan__contact",
            "plan__company",
            "plan__strategy",
            "plan__current_step",
        )
        .select_for_update(skip_locked=True, of=("self",))[:batch_size]
    )
    if not reminders:
        return 0, 0
    claimed = reminders_mark_delivered(reminders=reminders, now=now)
    notifications, emails = [], []
    for reminder in claimed:
        title, body, path = _reminder_text(reminder)
        channels = set(reminder.channels or ())
        if ReminderChannel.IN_APP in channels:
            notifications.append(
                Notification(
                    user=reminder.user,
                    reminder=reminder,
                    remind_at=reminder.remind_at,
                    title=title,
                    body=body,
                    url=path,
                )
            )
        if _wants_email(reminder, channels):
            emails.append(
                EmailDelivery(
                    reminder=reminder,
                    remind_at=reminder.remind_at,
                    user=reminder.user,
                    to_email=reminder.user.email,
                    subject=title,
                    body=f"{body}\n\n{_absolute_url(path)}\n" if path else f"{body}\n",
                )
            )
    # ignore_conflicts: the unique constraints on (reminder, remind_at) turn a delivery that
    # exists already into a no-op instead of an error.
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    EmailDelivery.objects.bulk_create(emails, ignore_conflicts=True)
    return len(claimed), len(reminders)


def _wants_email(reminder: Reminder, channels: set[str]) -> bool:
    user = reminder.user
    wanted = settings.CADENCE_REMINDER_EMAIL or ReminderChannel.EMAIL in channels
    return wanted and bool(user.email) and user.is_active


# -- Sending emails -------------------------------------------------------------------------------


def email_deliveries_send(*, now: datetime.datetime, batch_size: int = 500) -> int:
    """Send the reminder emails waiting to go out; return how many were sent.

    Each message is claimed (``pending`` to ``sending``) with a conditional update before it is
    handed to the mail server, so two senders never send the same one. A send that fails, or a
    claim that never finished, ends as ``failed`` and is not retried: a mail server can take a
    message and still report an error, and a reminder sent twice is worse than one missed.
    """
    _email_deliveries_fail_stuck(now=now)
    connection = get_connection()
    sent = 0
    try:
        while True:
            batch = list(
                EmailDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by(
                    "created_at", "email_delivery_id"
                )[:batch_size]
            )
            for delivery in batch:
                # Connect before claiming: if the server cannot be reached, nothing has been
                # claimed, and the message stays pending for the next pass.
                try:
                    connection.open()
                except Exception:
                    logger.warning("Mail server unreachable; emails stay pending", exc_info=True)
                    return sent
                if not _email_delivery_claim(delivery=delivery, now=now):
                    continue
                if not _email_delivery_send_claimed(delivery=delivery, connection=connection):
                    # The connection may be broken; leave the rest for the next pass.
                    return sent
                sent += 1
            if len(batch) < batch_size:
                return sent
    finally:
        connection.close()


def _email_deliveries_fail_stuck(*, now: datetime.datetime) -> int:
    return EmailDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
    ).update(
        status=DeliveryStatus.FAILED,
        error="Sending did not finish; not retried, so the message cannot go out twice.",
        updated_at=timezone.now(),
    )


def _email_delivery_claim(*, delivery: EmailDelivery, now: datetime.datetime) -> bool:
    claimed = EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=timezone.now(),
    )
    return claimed == 1


def _email_delivery_send_claimed(*, delivery: EmailDelivery, connection) -> bool:
    message = EmailMessage(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.to_email],
        connection=connection,
        headers={
            # Asks mail servers and out-of-office robots not to answer a machine.
            "Auto-Submitted": "auto-generated",
            # Ties a captured copy to its user, not to an address they may change.
            REMINDER_EMAIL_HEADER: str(delivery.pk),
        },
    )
    try:
        if message.send() != 1:
            raise RuntimeError("The mail backend accepted no message.")
    except Exception as exc:
        # Whatever the backend raised, the message may or may not have left: never resend.
        logger.warning("Reminder email %s failed", delivery.pk, exc_info=True)
        EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.FAILED, error=str(exc)[:2000], updated_at=timezone.now()
        )
        connection.close()
        return False
    EmailDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), error="", updated_at=timezone.now()
    )
    return True


# -- Notifications --------------------------------------------------------------------------------


@transaction.atomic
def notifications_mark_read_of_reminder(*, reminder: Reminder) -> int:
    """A dismissed reminder's unread notifications are read: what they announce is dealt with.
    Returns how many were unread. (The ``ReminderDismissed`` event's handler.)"""
    stamp = timezone.now()
    return Notification.objects.filter(reminder=reminder, read_at__isnull=True).update(
        read_at=stamp, updated_at=stamp
    )


def notification_create(*, user_id, title: str, body: str = "", url: str = "") -> Notification:
    """Put a line in a user's inbox. Every app that tells a user something (the outbox about an
    email it could not send, inbound mail about paused automation) comes through here."""
    return Notification.objects.create(user_id=user_id, title=title, body=body, url=url)


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark one notification read; the first reading time is kept."""
    if notification.read_at is None:
        stamp = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=stamp, updated_at=stamp
        )
        notification.refresh_from_db(fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark all the user's unread notifications read; return how many there were."""
    stamp = timezone.now()
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=stamp, updated_at=stamp
    )


# -- The calendar feed ----------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_for(*, user: User) -> CalendarFeed:
    """The user's calendar feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> CalendarFeed:
    """Give the user's feed a new token: subscriptions with the old URL stop working."""
    feed = calendar_feed_for(user=user)
    feed.token = new_calendar_token()
    feed.save(update_fields=["token", "updated_at"])
    return feed


def calendar_render(*, feed: CalendarFeed, now: datetime.datetime) -> bytes:
    """The feed as an iCalendar document: one event per running plan's next due step, from 30
    days back to 90 days ahead. Each event keeps its UID while the plan, step and due date stay
    the same, so calendar apps update it in place rather than duplicate it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Cadence//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Cadence: {feed.user}")
    # How often calendar apps should fetch the feed again (a hint most of them follow).
    calendar.add("x-published-ttl", "PT30M")
    for plan in calendar_plans(user=feed.user, now=now):
        calendar.add_component(_plan_event(plan, now=now))
    return calendar.to_ical()


def _plan_event(plan: LeadContactPlan, *, now: datetime.datetime) -> icalendar.Event:
    step = plan.current_step
    due = plan.next_step_due_date.astimezone(datetime.UTC)
    subject = _rendered_subject(plan, step, plan.user)
    lines = [f"Subject: {subject}" if subject else "", _step_line(plan, step)]
    lines = [*filter(None, lines), _absolute_url(_plan_path(plan))]
    event = icalendar.Event()
    event.add("uid", f"{plan.pk}-{step.pk if step else 'none'}-{due:%Y%m%dT%H%M%SZ}@cadence")
    event.add("dtstamp", now.astimezone(datetime.UTC))
    event.add("dtstart", due)
    event.add("duration", EVENT_DURATION)
    event.add("summary", f"{_step_label(step)}: {_lead_label(plan)}")
    event.add("description", "\n".join(lines))
    event.add("url", _absolute_url(_plan_path(plan)))
    return event


# -- Wording --------------------------------------------------------------------------------------


def _reminder_text(reminder: Reminder) -> tuple[str, str, str]:
    """Title, body and link of what a reminder tells its user."""
    plan = reminder.plan
    user = reminder.user
    due = reminder.due_at or (plan.next_step_due_date if plan else None) or reminder.remind_at
    due_line = f"Due {_local_time(due, user.time_zone)}."
    note = reminder.message.strip()
    if plan is None:
        title = _one_line(note.splitlines()[0]) if note else "Reminder"
        return title, "\n".join(part for part in (note, due_line) if part), ""
    step = reminder.step or plan.current_step
    subject = _rendered_subject(plan, step, user)
    parts = [
        _step_line(plan, step),
        due_line,
        f"Subject: {subject}" if subject else "",
        note,
    ]
    title = _one_line(f"{_step_label(step)}: {_lead_label(plan)}")
    return title, "\n".join(part for part in parts if part), _plan_path(plan)


def _one_line(text: str) -> str:
    """A title fit for a notification and an email subject, where a line break is refused."""
    return " ".join(text.split())[:255]


def _step_label(step: StrategyStep | None) -> str:
    return step.activity_type if step is not None else "Next step"


def _lead_label(plan: LeadContactPlan) -> str:
    """The lead as people say it: "Ada Lovelace (Acme)", or the company of a plan on one."""
    company = plan.company.name
    name = (plan.contact.full_name or plan.contact.email) if plan.contact_id else ""
    return f"{name} ({company})" if name else company


def _step_line(plan: LeadContactPlan, step: StrategyStep | None) -> str:
    """E.g. "Step 2 of Outbound Q3: Call Ada Lovelace at Acme."."""
    who = plan.contact.full_name if plan.contact_id and plan.contact.full_name else ""
    target = f"{who} at {plan.company.name}" if who else plan.company.name
    action = f"{step.activity_type} {target}" if step is not None else f"Next step with {target}"
    if step is None:
        return f"{action}."
    strategy = f" of {plan.strategy.name}" if plan.strategy_id else ""
    return f"Step {step.step_number}{strategy}: {action}."


def _rendered_subject(plan: LeadContactPlan, step: StrategyStep | None, user: User) -> str:
    if step is None:
        return ""
    context = template_context(
        contact=plan.contact, company=plan.company, user=user, plan=plan, step=step
    )
    subject = render_text(step.subject_template, context)
    if subject.problem:
        # Shown as written and marked, so that the reminder still goes out and says why.
        return f"{subject.strip()} [template problem: {subject.problem}]"
    return subject.strip()


def _local_time(moment: datetime.datetime, time_zone: str) -> str:
    """E.g. "Tue 25 Nov 2025, 10:00 CET", in the user's time zone."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def _plan_path(plan: LeadContactPlan) -> str:
    return reverse("plan-detail", args=[plan.pk])


def _absolute_url(path: str) -> str:
    return f"{settings.CADENCE_SITE_URL.rstrip('/')}{path}"
