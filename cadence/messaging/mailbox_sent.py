"""The emails reps write by hand, found in their own mailbox's Sent folder.

Two rules, each named here:

- *Sent by hand is logged once.* A message in the Sent folder addressed (To or Cc) to a contact
  in the owner's scope is logged as an outbound Email activity for that contact, once per
  Message-ID and contact, whichever sync finds it. When the contact's plan, owned by the rep, is
  waiting on a manual Email step, the message does that step, as if the rep had logged it. What
  Cadence sent itself (its Message-ID is an outbox row's) is not logged again: the outbox did.
- *The rep's own mail is never a reply.* Mail from the mailbox's own address, or its owner's,
  is never handed to the inbound pipeline, even when it answers a thread with a lead (a rep's
  follow-up, a copy to themselves): only the lead's own words end a plan.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import logging
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.crm.models import Contact
from cadence.mailboxes.models import Mailbox
from cadence.messaging.inbound_match import InboundScope
from cadence.messaging.inbound_parse import parse_message
from cadence.messaging.models import OutboundMessage
from cadence.plans.automation import is_automated_email
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.plans.services import activity_log

logger = logging.getLogger(__name__)


def own_addresses(mailbox: Mailbox) -> set[str]:
    """The addresses a mailbox's owner writes from."""
    return {a.lower() for a in (mailbox.email_address, mailbox.user.email) if a}


def is_own_mail(from_address: str, mailbox: Mailbox) -> bool:
    """Whether a message comes from the mailbox's owner: never a lead's reply."""
    return from_address.lower() in own_addresses(mailbox)


def _recipients(message) -> list[str]:
    pairs = getaddresses([str(v) for v in message.get_all("To", []) + message.get_all("Cc", [])])
    seen: list[str] = []
    for _, address in pairs:
        address = address.strip().lower()
        if "@" in address and address not in seen:
            seen.append(address)
    return seen


def _sent_at(message, now: datetime.datetime) -> datetime.datetime:
    try:
        moment = parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError, IndexError):
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    # A clock far off in the sender's mail client must not log the email in the future.
    return min(moment, now)


def _waiting_step(contact: Contact, mailbox: Mailbox):
    """The rep's plan for the contact and its step, when the plan waits on a manual email."""
    plan = (
        LeadContactPlan.objects.filter(
            contact=contact,
            user=mailbox.user,
            status__in=RUNNING_STATUSES,
            current_step__activity_type=ActivityType.EMAIL,
        )
        .select_related("current_step", "strategy", "contact", "company")
        .order_by("-plan_start_date")
        .first()
    )
    if plan is None or is_automated_email(plan):
        return None, None
    return plan, plan.current_step


def sent_by_hand_record(
    *, mailbox: Mailbox, raw: bytes, now: datetime.datetime | None = None
) -> int:
    """Log a message from the owner's Sent folder as an outbound Email for each contact it was
    addressed to (once per Message-ID and contact); returns how many activities were logged."""
    now = now or timezone.now()
    parsed = parse_message(raw, today=now.date())
    if not parsed.message_id or not is_own_mail(parsed.from_address, mailbox):
        return 0
    if OutboundMessage.objects.filter(message_id=parsed.message_id).exists():
        return 0  # Cadence sent it and logged it
    message = email.message_from_bytes(raw, policy=email.policy.default)
    scope = InboundScope(mailbox.user)
    logged = 0
    for address in _recipients(message):
        contact = scope.contact_at(address)
        if contact is None:
            continue
        if Activity.objects.filter(contact=contact, message_id=parsed.message_id).exists():
            continue
        plan, step = _waiting_step(contact, mailbox)
        activity_log(
            actor=mailbox.user,
            contact=contact,
            plan=plan,
            step=step,
            activity_type=ActivityType.EMAIL,
            direction=Direction.OUTBOUND,
            outcome=Outcome.SENT,
            subject=parsed.subject[:255],
            description=parsed.text,
            occurred_at=_sent_at(message, now),
            message_id=parsed.message_id,
        )
        logged += 1
    return logged
