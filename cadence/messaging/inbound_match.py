"""What an inbound email is about: the email Cadence sent that it answers, and the contact, plan
and user it concerns, looked for only where the door it came in by may look (``InboundScope``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work, scope_by_user
from cadence.activities.choices import Direction
from cadence.activities.models import Activity
from cadence.crm.models import Contact
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.inbound_parse import ParsedInbound
from cadence.messaging.models import OutboundMessage
from cadence.plans.choices import ACTIVE_STATUSES
from cadence.plans.models import LeadContactPlan


@dataclass(frozen=True)
class InboundScope:
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

    def contacts_at(self, address: str) -> QuerySet[Contact]:
        """The contacts whose email is ``address``, whatever its case."""
        return self.contacts().annotate(address=Lower("email")).filter(address=address.lower())

    def sent_message(self, parsed: ParsedInbound) -> OutboundMessage | None:
        """The email this one answers: by the Message-IDs it refers to, else the latest sent to
        the address it comes from (or, for a bounce, the address that failed)."""
        messages = self.sent_messages()
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

    def lead(
        self, parsed: ParsedInbound, sent: OutboundMessage | None
    ) -> tuple[Contact | None, LeadContactPlan | None, User | None]:
        """The contact, plan and user an email from ``parsed.from_address`` concerns: those of
        the email it answers (``sent``, or one a rep logged by hand), else of its sender's
        address; ``(None, None, None)`` when nothing matches."""
        if sent is not None:
            return sent.contact, sent.plan, sent.user
        manual = self._manual_email(parsed)
        if manual is not None:
            return manual.contact, manual.plan, manual.user
        contact = self.contact_at(parsed.from_address)
        if contact is None:
            return None, None, None
        plan = (
            self.plans()
            .filter(contact=contact, status__in=ACTIVE_STATUSES)
            .order_by("-plan_start_date")
            .first()
        )
        return contact, plan, (plan.user if plan else self.user_for(contact))

    def _manual_email(self, parsed: ParsedInbound) -> Activity | None:
        """An email a rep sent by hand and logged with its Message-ID."""
        for message_id in parsed.referenced_ids:
            found = (
                self.activities()
                .filter(message_id=message_id, direction=Direction.OUTBOUND)
                .first()
            )
            if found is not None:
                return found
        return None

    def contact_at(self, address: str) -> Contact | None:
        """The contact an address belongs to, preferring one someone is working."""
        if not address:
            return None
        contacts = self.contacts_at(address)
        # Prefer the person someone is working: a contact with an active plan.
        worked = self.plans().filter(status__in=ACTIVE_STATUSES).values("contact_id")
        return contacts.filter(pk__in=worked).first() or contacts.order_by("-updated_at").first()
