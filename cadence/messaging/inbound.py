"""Mail that comes back: replies, out-of-office answers, bounces and complaints.

Each arrives as an RFC 822 message (the raw API, the ``ingest_email`` command, an email
provider's inbound webhook) or as a provider's tracking event. It is read (``inbound_parse``),
matched to the email Cadence sent by ``In-Reply-To``/``References``, failing that by the sender's
address (``inbound_match``), recorded once (a webhook delivered twice is applied once), and
applied here:

- a reply is logged as an inbound Activity with outcome Replied, which the exit rules act on;
- an out-of-office answer pauses the plan until the return date it gives;
- a hard bounce marks the address bounced and ends the contact's plans; a complaint opts the
  contact out. Too many of either in a day pause the sender's automation.

The doors are not equally trusted. The signed webhooks and the ``ingest_email`` command are the
organisation's own mail and match across it. The raw API is a person's: it matches only what its
caller's scope (``viewer``, see ``InboundScope``), so a manager cannot end another team's plans by
handing in their leads' mail, and the answer, which names the contact and plan, names none of
another team's: such mail is stored as unmatched.
"""

from __future__ import annotations

import datetime
import email.message
import logging
from collections.abc import Callable

from anymail.signals import EventType
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cadence.accounts.models import User
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Contact
from cadence.messaging import services
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus, SuppressionReason
from cadence.messaging.inbound_match import InboundScope
from cadence.messaging.inbound_parse import ParsedInbound, parse_message
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.messaging.outbox_checks import sender_for
from cadence.notifications.services import notification_create
from cadence.plans import services as plan_services
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.scheduling.zones import local_to_utc, resolve_zone

logger = logging.getLogger(__name__)

#: How long an out-of-office answer pauses a plan when it names no return date.
DEFAULT_AWAY = datetime.timedelta(days=7)
_TEXT_KEPT = 10_000


@transaction.atomic
def inbound_receive(
    *,
    raw: bytes | str | email.message.Message,
    source: str = "raw",
    now: datetime.datetime | None = None,
    viewer: User | None = None,
) -> InboundMessage:
    """Record and apply one inbound email; returns the record saying what was done.

    ``viewer`` is the person who handed it in (the raw API): it is matched only within their
    scope. Without one (the signed webhooks, ``ingest_email``) it is matched across the
    organisation.
    """
    scope = InboundScope(viewer)
    now = now or timezone.now()
    parsed = parse_message(raw, today=now.date())
    record = InboundMessage(
        message_id=parsed.message_id[:998],
        source=source[:50],
        kind=parsed.kind,
        from_address=parsed.from_address[:254],
        subject=parsed.subject[:998],
        text=parsed.text[:_TEXT_KEPT],
    )
    if (
        parsed.message_id
        and InboundMessage.objects.filter(
            message_id=parsed.message_id, status__in=[InboundStatus.APPLIED, InboundStatus.IGNORED]
        ).exists()
    ):
        record.status, record.note = InboundStatus.DUPLICATE, "Received before; applied once."
        record.save()
        return record
    record.outbound_message = scope.sent_message(parsed)
    apply = {
        InboundKind.REPLY: _apply_reply,
        InboundKind.AUTO_REPLY: _apply_auto_reply,
        InboundKind.BOUNCE: _apply_bounce,
        InboundKind.COMPLAINT: _apply_complaint,
        InboundKind.RECEIPT: _apply_receipt,
    }[parsed.kind]
    apply(record, parsed, now, scope)
    record.save()
    _after_failure(record, now=now)
    return record


def _after_failure(record: InboundMessage, *, now) -> None:
    problem = record.kind in (InboundKind.BOUNCE, InboundKind.COMPLAINT)
    if problem and record.status == InboundStatus.APPLIED and record.outbound_message:
        _check_sender_health(record.outbound_message.user, now=now)


def _log_inbound(
    *,
    user: User,
    contact: Contact,
    now: datetime.datetime,
    parsed: ParsedInbound | None = None,
    plan: LeadContactPlan | None = None,
    outcome: str = "",
    subject: str = "",
) -> Activity:
    """Log an email that came in from ``contact`` as an inbound Email activity of ``user``'s
    (with ``parsed``'s subject, text and Message-ID when it was read), through the plans'
    ``activity_log``, so that the exit rules see it."""
    return plan_services.activity_log(
        actor=user,
        user=user,
        contact=contact,
        plan=plan,
        activity_type=ActivityType.EMAIL,
        direction=Direction.INBOUND,
        outcome=outcome,
        subject=(parsed.subject if parsed else subject)[:255],
        description=parsed.text if parsed else "",
        occurred_at=now,
        message_id=parsed.message_id[:998] if parsed else "",
    )


def _apply_reply(record: InboundMessage, parsed: ParsedInbound, now, scope: InboundScope) -> None:
    contact, plan, user = scope.lead(parsed, record.outbound_message)
    if contact is None:
        record.status = InboundStatus.UNMATCHED
        record.note = "No sent email or contact matches this reply."
        return
    activity = _log_inbound(
        user=user,
        contact=contact,
        plan=plan if plan is not None and plan.contact_id == contact.pk else None,
        outcome=Outcome.REPLIED,
        parsed=parsed,
        now=now,
    )
    record.status, record.contact, record.plan, record.activity = (
        InboundStatus.APPLIED,
        contact,
        plan,
        activity,
    )
    record.note = f"Logged as a reply from {contact}; the exit rules applied."


def _apply_receipt(record: InboundMessage, parsed: ParsedInbound, now, scope: InboundScope) -> None:
    record.status = InboundStatus.IGNORED
    record.note = "A read receipt: kept, nothing to do."


def _apply_auto_reply(
    record: InboundMessage, parsed: ParsedInbound, now, scope: InboundScope
) -> None:
    contact, plan, user = scope.lead(parsed, record.outbound_message)
    if contact is None:
        record.status = InboundStatus.UNMATCHED
        record.note = "No sent email or contact matches this auto-reply."
        return
    record.contact, record.plan = contact, plan
    until = _resume_time(parsed.return_date, user) if parsed.return_date else now + DEFAULT_AWAY
    if until <= now:
        until = now + datetime.timedelta(hours=1)
    record.activity = _log_inbound(user=user, contact=contact, parsed=parsed, now=now)
    record.status = InboundStatus.APPLIED
    when = f"{until:%Y-%m-%d %H:%M} UTC"
    if plan is None or plan.status not in RUNNING_STATUSES:
        record.note = "Out of office; no running plan to pause."
        return
    plan_services.plan_pause(plan=plan, now=now, until=until)
    found = "the return date in the reply" if parsed.return_date else "no return date given"
    record.note = f"Out of office: plan paused until {when} ({found})."


def _resume_time(day: datetime.date, user) -> datetime.datetime:
    """The start of the working day on ``day``, in the rep's time zone."""
    zone = resolve_zone(user.time_zone if user else "")
    start = user.work_day_start if user else datetime.time(9, 0)
    return local_to_utc(datetime.datetime.combine(day, start), zone)


def _failed_addresses(parsed_recipients, sent: OutboundMessage | None) -> list[str]:
    """The addresses a bounce or a complaint is about: those it names and, when it is matched to
    an email Cadence sent, that email's, lowercased, each once."""
    addresses = [*parsed_recipients, sent.to_email if sent is not None else ""]
    return list(dict.fromkeys(address.lower() for address in addresses if address))


def _apply_bounce(record: InboundMessage, parsed: ParsedInbound, now, scope: InboundScope) -> None:
    if not parsed.bounce_permanent:
        record.status, record.note = InboundStatus.IGNORED, "A delay notice, not a failure."
        return
    sent = record.outbound_message
    addresses = _failed_addresses(parsed.bounced_recipients, sent)
    applied = bounce_apply(
        addresses=addresses, sent=sent, now=now, subject=parsed.subject, viewer=scope.viewer
    )
    if not applied:
        record.status = InboundStatus.UNMATCHED
        record.note = "The bounced address matches no contact."
        return
    record.status, record.contact = InboundStatus.APPLIED, applied[0]
    record.plan = sent.plan if sent is not None else None
    record.note = "Hard bounce: " + ", ".join(addresses) + " marked bounced, plans ended."


def _apply_complaint(
    record: InboundMessage, parsed: ParsedInbound, now, scope: InboundScope
) -> None:
    sent = record.outbound_message
    addresses = _failed_addresses(parsed.bounced_recipients, sent)
    contacts = complaint_apply(addresses=addresses, sent=sent, now=now, viewer=scope.viewer)
    if not contacts:
        record.status, record.note = InboundStatus.UNMATCHED, "The complaint matches no contact."
        return
    record.status, record.contact = InboundStatus.APPLIED, contacts[0]
    record.note = "Complaint: the contact is opted out and the address suppressed."


def _suppress_each(
    *,
    addresses: list[str],
    reason: SuppressionReason,
    note: str,
    viewer: User | None,
    then: Callable[[Contact, str, InboundScope], object],
) -> list[Contact]:
    """Put each address on the suppression list (for ``reason``, with ``note``), then do
    ``then(contact, address, scope)`` for every contact at it within ``viewer``'s scope (see
    ``InboundScope``). Returns the contacts affected."""
    scope = InboundScope(viewer)
    affected = []
    for address in dict.fromkeys(a.lower() for a in addresses if a):
        contacts = list(scope.contacts_at(address))
        services.suppression_add(
            email=address,
            reason=reason,
            actor=viewer,
            contact=contacts[0] if contacts else None,
            note=note,
        )
        for contact in contacts:
            then(contact, address, scope)
            affected.append(contact)
    return affected


def bounce_apply(
    *,
    addresses: list[str],
    sent: OutboundMessage | None,
    now,
    subject: str = "",
    viewer: User | None = None,
) -> list[Contact]:
    """Mark each address bounced: suppressed, and every contact at it (within ``viewer``'s
    scope when one handed the bounce in, see ``InboundScope``) has a bounce logged, which marks its
    email bounced and ends its plans (the exit rules). Returns the contacts affected."""

    def log_bounce(contact: Contact, address: str, scope: InboundScope) -> None:
        plan = sent.plan if sent is not None and sent.contact_id == contact.pk else None
        user = plan.user if plan is not None else scope.user_for(contact)
        _log_inbound(
            user=user,
            contact=contact,
            plan=plan,
            outcome=Outcome.BOUNCED,
            subject=subject or f"Bounce: {address}",
            now=now,
        )

    return _suppress_each(
        addresses=addresses,
        reason=SuppressionReason.BOUNCED,
        note="Hard bounce.",
        viewer=viewer,
        then=log_bounce,
    )


def complaint_apply(
    *,
    addresses: list[str],
    sent: OutboundMessage | None,
    now,
    viewer: User | None = None,
) -> list[Contact]:
    """A recipient marked our email as spam: treat it as an unsubscribe (of the contacts at
    the address within ``viewer``'s scope when one handed it in, see ``InboundScope``), and count it
    against the sender's health."""
    return _suppress_each(
        addresses=addresses,
        reason=SuppressionReason.COMPLAINED,
        note="The recipient reported the email as spam.",
        viewer=viewer,
        then=lambda contact, address, scope: services.contact_unsubscribe(contact=contact, at=now),
    )


def _check_sender_health(user, *, now) -> None:
    """Pause a sender whose recent mail bounces or draws complaints: a burst of them is how a
    bad list or a compromised mailbox shows, and providers block senders who keep going."""
    since = now - datetime.timedelta(hours=24)
    problems = InboundMessage.objects.filter(
        outbound_message__user=user,
        kind__in=[InboundKind.BOUNCE, InboundKind.COMPLAINT],
        status=InboundStatus.APPLIED,
        created_at__gte=since,
    ).count()
    sent = OutboundMessage.objects.filter(
        user=user, status=OutboundStatus.SENT, sent_at__gte=since
    ).count()
    if problems < settings.CADENCE_BOUNCE_PAUSE_COUNT:
        return
    if problems < settings.CADENCE_BOUNCE_PAUSE_RATE * max(sent, 1):
        return
    reason = (
        f"{problems} bounces or complaints in 24 hours against {sent} emails sent: check the "
        "list before resuming."
    )
    sender = sender_for(user)
    if services.sender_pause_automation(sender=sender, reason=reason):
        notification_create(
            user_id=user.pk,
            title="Your automated emails are paused",
            body=reason,
            url=f"/api/v1/senders/{sender.pk}/",
        )
        logger.warning("Paused automation of %s: %s", user, reason)


@transaction.atomic
def tracking_event_apply(
    *, event_type: str, recipient: str, esp_message_id: str, source: str, now=None
) -> InboundMessage | None:
    """Apply a provider's tracking event (bounced, complained, unsubscribed) and record it;
    other events are not ours to act on (``None``)."""
    now = now or timezone.now()
    kinds = {
        EventType.BOUNCED: InboundKind.BOUNCE,
        EventType.COMPLAINED: InboundKind.COMPLAINT,
        EventType.UNSUBSCRIBED: InboundKind.COMPLAINT,
    }
    if event_type not in kinds:
        return None
    sent = None
    if esp_message_id:
        # Providers differ on angle brackets, and some (Mailgun) report the Message-ID itself.
        bare = esp_message_id.strip().strip("<>")
        forms = [bare, f"<{bare}>"]
        sent = (
            OutboundMessage.objects.select_related("plan", "contact", "user")
            .filter(Q(esp_message_id__in=forms) | Q(message_id__in=forms))
            .first()
        )
    addresses = _failed_addresses([recipient], sent)
    record = InboundMessage(
        source=source[:50],
        kind=kinds[event_type],
        from_address=recipient[:254],
        subject=f"Provider event: {event_type}",
        outbound_message=sent,
        plan=sent.plan if sent else None,
    )
    if event_type == EventType.BOUNCED:
        contacts = bounce_apply(addresses=addresses, sent=sent, now=now)
    elif event_type == EventType.COMPLAINED:
        contacts = complaint_apply(addresses=addresses, sent=sent, now=now)
    else:
        contacts = _suppress_each(
            addresses=addresses,
            reason=SuppressionReason.UNSUBSCRIBED,
            note="The recipient unsubscribed through the email provider.",
            viewer=None,
            then=lambda contact, address, scope: services.contact_unsubscribe(
                contact=contact, at=now
            ),
        )
    record.status = InboundStatus.APPLIED if contacts else InboundStatus.UNMATCHED
    record.contact = contacts[0] if contacts else None
    record.note = f"{event_type} applied to {len(contacts)} contact(s)."
    record.save()
    _after_failure(record, now=now)
    return record
