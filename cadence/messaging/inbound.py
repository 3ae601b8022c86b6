"""Mail that comes back: replies, out-of-office answers, bounces and complaints.

Each arrives as an RFC 822 message (the raw API, the ``ingest_email`` command, an email
provider's inbound webhook) or as a provider's tracking event. It is matched to the email Cadence
sent by ``In-Reply-To``/``References`` (failing that, by the sender's address), recorded once
(a webhook delivered twice is applied once), and applied:

- a reply is logged as an inbound Activity with outcome Replied, which the exit rules act on;
- an out-of-office answer pauses the plan until the return date it gives;
- a hard bounce marks the address bounced and ends the contact's plans; a complaint opts the
  contact out. Too many of either in a day pause the sender's automation.

The doors are not equally trusted. The signed webhooks and the ``ingest_email`` command are the
organisation's own mail and match across it. The raw API is a person's: it matches only what its
caller's scope (``viewer``, see ``_Scope``), so a manager cannot end another team's plans by
handing in their leads' mail, and the answer, which names the contact and plan, names none of
another team's: such mail is stored as unmatched.
"""

from __future__ import annotations

import datetime
import email.message
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work, scope_by_user
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Contact
from cadence.messaging import services
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus, SuppressionReason
from cadence.messaging.inbound_parse import ParsedInbound, parse_message
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.messaging.outbox import sender_for
from cadence.notifications.models import Notification
from cadence.plans import services as plan_services
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.scheduling.zones import local_to_utc, resolve_zone

logger = logging.getLogger(__name__)

#: How long an out-of-office answer pauses a plan when it names no return date.
DEFAULT_AWAY = datetime.timedelta(days=7)
_TEXT_KEPT = 10_000


@dataclass(frozen=True)
class _Scope:
    """What an inbound email may be matched to: everything for a trusted door (no ``viewer``),
    otherwise the sent emails, logged emails and plans of the viewer's scope (their own, their
    team's for managers, all for admins), and the contacts their scope owns or has plans for.
    A contact another team merely shares with theirs is not enough: a reply ends the contact's
    plans, the other team's too. Mail that matches only outside the scope is, for the viewer,
    mail that matches nothing."""

    viewer: User | None = None

    def sent_messages(self) -> QuerySet[OutboundMessage]:
        messages = OutboundMessage.objects.select_related("plan", "contact", "user", "step")
        if self.viewer is None:
            return messages
        return messages.filter(scope_by_user(self.viewer, field="user"))

    def activities(self) -> QuerySet[Activity]:
        activities = Activity.objects.select_related("plan", "contact", "user")
        if self.viewer is None:
            return activities
        return activities.filter(scope_by_user(self.viewer, field="user"))

    def contacts(self) -> QuerySet[Contact]:
        if self.viewer is None:
            return Contact.objects.all()
        worked = self.plans().filter(contact__isnull=False).values("contact_id")
        return Contact.objects.filter(
            scope_by_user(self.viewer, field="owner") | Q(pk__in=worked)
        ).select_related("owner")

    def plans(self) -> QuerySet[LeadContactPlan]:
        if self.viewer is None:
            return LeadContactPlan.objects.all()
        return LeadContactPlan.objects.filter(scope_by_user(self.viewer, field="user"))

    def user_for(self, contact: Contact) -> User:
        """Whom an email about a contact outside any plan is logged for: its owner, unless the
        owner is beyond the viewer's reach (a contact another team shares with theirs)."""
        if self.viewer is None or can_manage_user_work(self.viewer, contact.owner):
            return contact.owner
        return self.viewer


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
    scope = _Scope(viewer)
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
    record.outbound_message = _sent_message(parsed, scope)
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


def _sent_message(parsed: ParsedInbound, scope: _Scope) -> OutboundMessage | None:
    """The email this one answers: by the Message-IDs it refers to, else the latest sent to
    the address it comes from (or, for a bounce, the address that failed)."""
    messages = scope.sent_messages()
    for message_id in parsed.referenced_ids:
        found = messages.filter(message_id=message_id).first()
        if found is not None:
            return found
    addresses = list(parsed.bounced_recipients) or [parsed.from_address]
    for address in filter(None, addresses):
        found = (
            messages.annotate(address=Lower("to_email"))
            .filter(address=address.lower(), status=OutboundStatus.SENT)
            .order_by("-sent_at")
            .first()
        )
        if found is not None:
            return found
    return None


def _manual_email(parsed: ParsedInbound, scope: _Scope) -> Activity | None:
    """An email a rep sent by hand and logged with its Message-ID."""
    for message_id in parsed.referenced_ids:
        found = (
            scope.activities().filter(message_id=message_id, direction=Direction.OUTBOUND).first()
        )
        if found is not None:
            return found
    return None


def _contacts_at(address: str, scope: _Scope) -> QuerySet[Contact]:
    return scope.contacts().annotate(address=Lower("email")).filter(address=address.lower())


def _contact_by_address(address: str, scope: _Scope) -> Contact | None:
    if not address:
        return None
    contacts = _contacts_at(address, scope)
    # Prefer the person someone is working: a contact with an active plan.
    worked = scope.plans().filter(status__in=ACTIVE_STATUSES).values("contact_id")
    return contacts.filter(pk__in=worked).first() or contacts.order_by("-updated_at").first()


def _lead(record: InboundMessage, parsed: ParsedInbound, address: str, scope: _Scope):
    """The contact, plan and user an inbound email concerns."""
    sent = record.outbound_message
    if sent is not None:
        return sent.contact, sent.plan, sent.user
    manual = _manual_email(parsed, scope)
    if manual is not None:
        return manual.contact, manual.plan, manual.user
    contact = _contact_by_address(address, scope)
    if contact is None:
        return None, None, None
    plan = (
        scope.plans()
        .filter(contact=contact, status__in=ACTIVE_STATUSES)
        .order_by("-plan_start_date")
        .first()
    )
    return contact, plan, (plan.user if plan else scope.user_for(contact))


def _apply_reply(record: InboundMessage, parsed: ParsedInbound, now, scope: _Scope) -> None:
    contact, plan, user = _lead(record, parsed, parsed.from_address, scope)
    if contact is None:
        record.status = InboundStatus.UNMATCHED
        record.note = "No sent email or contact matches this reply."
        return
    activity = plan_services.activity_log(
        actor=user,
        user=user,
        contact=contact,
        plan=plan if plan is not None and plan.contact_id == contact.pk else None,
        activity_type=ActivityType.EMAIL,
        direction=Direction.INBOUND,
        outcome=Outcome.REPLIED,
        subject=parsed.subject[:255],
        description=parsed.text,
        occurred_at=now,
        message_id=parsed.message_id[:998],
    )
    record.status, record.contact, record.plan, record.activity = (
        InboundStatus.APPLIED,
        contact,
        plan,
        activity,
    )
    record.note = f"Logged as a reply from {contact}; the exit rules applied."


def _apply_receipt(record: InboundMessage, parsed: ParsedInbound, now, scope: _Scope) -> None:
    record.status = InboundStatus.IGNORED
    record.note = "A read receipt: kept, nothing to do."


def _apply_auto_reply(record: InboundMessage, parsed: ParsedInbound, now, scope: _Scope) -> None:
    contact, plan, user = _lead(record, parsed, parsed.from_address, scope)
    if contact is None:
        record.status = InboundStatus.UNMATCHED
        record.note = "No sent email or contact matches this auto-reply."
        return
    record.contact, record.plan = contact, plan
    until = _resume_time(parsed.return_date, user) if parsed.return_date else now + DEFAULT_AWAY
    if until <= now:
        until = now + datetime.timedelta(hours=1)
    activity = plan_services.activity_log(
        actor=user,
        user=user,
        contact=contact,
        activity_type=ActivityType.EMAIL,
        direction=Direction.INBOUND,
        subject=parsed.subject[:255],
        description=parsed.text,
        occurred_at=now,
        message_id=parsed.message_id[:998],
    )
    record.activity = activity
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


def _apply_bounce(record: InboundMessage, parsed: ParsedInbound, now, scope: _Scope) -> None:
    if not parsed.bounce_permanent:
        record.status, record.note = InboundStatus.IGNORED, "A delay notice, not a failure."
        return
    addresses = list(parsed.bounced_recipients)
    sent = record.outbound_message
    if sent is not None and sent.to_email and sent.to_email.lower() not in addresses:
        addresses.append(sent.to_email.lower())
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


def bounce_apply(
    *,
    addresses: list[str],
    sent: OutboundMessage | None,
    now,
    subject: str = "",
    viewer: User | None = None,
) -> list[Contact]:
    """Mark each address bounced: suppressed, and every contact at it (within ``viewer``'s
    scope when one handed the bounce in, see ``_Scope``) has its email marked bounced and its
    plans ended (through the exit rules). Returns the contacts affected."""
    scope = _Scope(viewer)
    affected = []
    for address in dict.fromkeys(a.lower() for a in addresses if a):
        contacts = list(_contacts_at(address, scope))
        services.suppression_add(
            email=address,
            reason=SuppressionReason.BOUNCED,
            actor=viewer,
            contact=contacts[0] if contacts else None,
            note="Hard bounce.",
        )
        for contact in contacts:
            plan = sent.plan if sent is not None and sent.contact_id == contact.pk else None
            user = plan.user if plan is not None else scope.user_for(contact)
            plan_services.activity_log(
                actor=user,
                user=user,
                contact=contact,
                plan=plan,
                activity_type=ActivityType.EMAIL,
                direction=Direction.INBOUND,
                outcome=Outcome.BOUNCED,
                subject=(subject or f"Bounce: {address}")[:255],
                occurred_at=now,
            )
            affected.append(contact)
    return affected


def _apply_complaint(record: InboundMessage, parsed: ParsedInbound, now, scope: _Scope) -> None:
    addresses = list(parsed.bounced_recipients)
    sent = record.outbound_message
    if sent is not None and sent.to_email:
        addresses.append(sent.to_email)
    contacts = complaint_apply(addresses=addresses, sent=sent, now=now, viewer=scope.viewer)
    if not contacts:
        record.status, record.note = InboundStatus.UNMATCHED, "The complaint matches no contact."
        return
    record.status, record.contact = InboundStatus.APPLIED, contacts[0]
    record.note = "Complaint: the contact is opted out and the address suppressed."


def complaint_apply(
    *,
    addresses: list[str],
    sent: OutboundMessage | None,
    now,
    viewer: User | None = None,
) -> list[Contact]:
    """A recipient marked our email as spam: treat it as an unsubscribe (of the contacts at
    the address within ``viewer``'s scope when one handed it in, see ``_Scope``), and count it
    against the sender's health."""
    scope = _Scope(viewer)
    affected = []
    for address in dict.fromkeys(a.lower() for a in addresses if a):
        contacts = list(_contacts_at(address, scope))
        services.suppression_add(
            email=address,
            reason=SuppressionReason.COMPLAINED,
            actor=viewer,
            contact=contacts[0] if contacts else None,
            note="The recipient reported the email as spam.",
        )
        for contact in contacts:
            services.contact_unsubscribe(contact=contact, at=now)
            affected.append(contact)
    return affected


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
        Notification.objects.create(
            user=user,
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
        "bounced": InboundKind.BOUNCE,
        "complained": InboundKind.COMPLAINT,
        "unsubscribed": InboundKind.COMPLAINT,
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
    addresses = [recipient] if recipient else []
    if sent is not None and sent.to_email:
        addresses.append(sent.to_email)
    record = InboundMessage(
        source=source[:50],
        kind=kinds[event_type],
        from_address=recipient[:254],
        subject=f"Provider event: {event_type}",
        outbound_message=sent,
        plan=sent.plan if sent else None,
    )
    if event_type == "bounced":
        contacts = bounce_apply(addresses=addresses, sent=sent, now=now)
    elif event_type == "complained":
        contacts = complaint_apply(addresses=addresses, sent=sent, now=now)
    else:
        contacts = list(
            Contact.objects.annotate(address=Lower("email")).filter(
                address__in=[a.lower() for a in addresses]
            )
        )
        for contact in contacts:
            services.contact_unsubscribe(contact=contact, at=now)
    record.status = InboundStatus.APPLIED if contacts else InboundStatus.UNMATCHED
    record.contact = contacts[0] if contacts else None
    record.note = f"{event_type} applied to {len(contacts)} contact(s)."
    record.save()
    _after_failure(record, now=now)
    return record
