"""What an automated email must pass, when it is queued and again just before it goes, and what
it says.

- *May anyone receive it?* ``recipient_refusal``: a contact to write to, not opted out, not
  bounced, not on the suppression list.
- *What does it say?* ``step_render`` renders the step's templates for the lead, and
  ``message_build`` makes the email handed to the mail server: the sender's name, the footer
  with the postal address and the unsubscribe link, and the one-click unsubscribe headers.
- *May it go now?* ``send_wait``: not before the strategy's approval, while the sender's
  automation is paused, or outside the send window.
- *Who sends it?* ``sender_for``, the user's sending settings, made on first use; ``SendBatch``
  reads them, and the suppressions, once for a whole batch of the send pass.

Which steps are the outbox's to send at all is not decided here: that rule is
``cadence.plans.automation``'s.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from email.utils import formataddr, make_msgid

from django.core.mail import EmailMessage
from django.utils import timezone

from cadence.crm.choices import EmailStatus
from cadence.crm.models import Contact
from cadence.messaging import limits
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.selectors import OUTBOX_HEADER, suppressed_among, suppression_find
from cadence.plans.automation import automation_approved
from cadence.plans.models import LeadContactPlan
from cadence.scheduling.due import fit_send_window
from cadence.scheduling.zones import resolve_zone, to_local
from cadence.strategies.rendering import RenderedMessage, render_message, template_context

#: While a sender's automation is paused, its messages look again this much later.
PAUSED_RETRY = datetime.timedelta(hours=1)


def recipient_refusal(
    contact: Contact | None, *, suppressed: set[str] | None = None
) -> tuple[OutboundStatus, str] | None:
    """Why no email may go to this lead at all, as the (status, reason) to settle its row on;
    ``None`` when it may. ``suppressed``: the suppressed addresses, when read already."""
    if contact is None:
        return OutboundStatus.FAILED, "The plan targets a company, not a person: no one to email."
    if contact.opted_out:
        return OutboundStatus.SUPPRESSED, "The contact opted out."
    if contact.email_status == EmailStatus.BOUNCED:
        return OutboundStatus.SUPPRESSED, "The contact's email address bounced."
    if not contact.email:
        return OutboundStatus.FAILED, "The contact has no email address."
    address = contact.email.strip().lower()
    on_list = address in suppressed if suppressed is not None else suppression_find(address)
    if on_list:
        return OutboundStatus.SUPPRESSED, "The address is on the suppression list."
    return None


@dataclass(frozen=True)
class Wait:
    """A message that may go, but not yet: it waits in ``status`` until ``until``."""

    until: datetime.datetime
    why: str
    status: OutboundStatus = OutboundStatus.QUEUED


def send_wait(row: OutboundMessage, sender: Sender, *, now: datetime.datetime) -> Wait | None:
    """Why a message must wait, if it must: for the strategy's approval, while its sender's
    automation is paused, or for the send window. One a person asked to send now waits for none
    of these (the rate limits still hold it)."""
    if row.send_now:
        return None
    plan, contact = row.plan, row.contact
    if not automation_approved(plan.strategy):
        why = "The strategy's automation awaits a manager's approval."
        return Wait(now, why, OutboundStatus.AWAITING_APPROVAL)
    if sender.automation_paused_at is not None:
        why = f"The sender's automation is paused: {sender.automation_paused_reason}"
        return Wait(now + PAUSED_RETRY, why)
    opens = fit_send_window(
        now,
        window_start=plan.strategy.send_window_start,
        window_end=plan.strategy.send_window_end,
        time_zone=contact.time_zone or contact.company.time_zone or row.user.time_zone,
    )
    return Wait(opens, "Outside the send window.") if opens > now else None


def step_render(plan: LeadContactPlan, step, contact: Contact, *, link: str) -> RenderedMessage:
    """The step's subject and body for this lead, with ``link`` as ``{{ unsubscribe_url }}``."""
    context = template_context(
        contact=contact, company=plan.company, user=plan.user, plan=plan, step=step
    )
    context["unsubscribe_url"] = link
    return render_message(step.subject_template, step.description_template, context)


def problems_text(rendered: RenderedMessage) -> str:
    return "Personalization check failed: " + " ".join(rendered.problems)


def message_build(
    row: OutboundMessage, rendered: RenderedMessage, *, contact: Contact, postal: str, link: str
) -> EmailMessage:
    """The email as the mail server gets it: from the sender, with the legal footer and the
    unsubscribe headers (RFC 8058 one-click)."""
    user = row.user
    name = user.display_name or user.get_full_name() or user.username
    domain = user.email.rpartition("@")[2] or "cadence.local"
    footer = (
        f"\n\n--\n{postal.strip()}\n"
        f"If you would rather not hear from {name} again, unsubscribe here: {link}\n"
    )
    return EmailMessage(
        subject=rendered.subject,
        body=rendered.body.rstrip() + footer,
        from_email=formataddr((name, user.email)),
        to=[contact.email],
        headers={
            "Message-ID": make_msgid(domain=domain),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            OUTBOX_HEADER: str(row.pk),
        },
    )


def sender_for(user) -> Sender:
    """The user's sending settings; made on first use, the ramp starting that day."""
    sender = Sender.objects.filter(user=user).first()
    if sender is None:
        today = to_local(timezone.now(), resolve_zone(user.time_zone)).date()
        sender, _ = Sender.objects.get_or_create(user=user, defaults={"ramp_started_on": today})
    return sender


class SendBatch:
    """What the checks of a batch of the send pass need, read once for all its rows."""

    def __init__(self, rows: list[OutboundMessage]):
        users = {row.user_id: row.user for row in rows}
        self.senders = {s.user_id: s for s in Sender.objects.filter(user_id__in=users)}
        self.suppressed = suppressed_among([row.contact.email for row in rows if row.contact])
        self.touches: dict = {}

    def sender(self, user) -> Sender:
        if user.pk not in self.senders:
            self.senders[user.pk] = sender_for(user)
        sender = self.senders[user.pk]
        sender.user = user
        return sender

    def touches_by_hand(self, company_id, now) -> int:
        if company_id not in self.touches:
            self.touches[company_id] = limits.touches_by_hand(company_id=company_id, now=now)
        return self.touches[company_id]
