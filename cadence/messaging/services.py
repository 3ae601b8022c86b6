"""What people do with automated email: approve a strategy's automation, send one message now,
cancel or confirm one, keep the suppression list, unsubscribe."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work
from cadence.accounts.services import user_update
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.core.services import model_update
from cadence.crm.models import Contact
from cadence.messaging.choices import OutboundStatus, SuppressionReason
from cadence.messaging.models import OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import NO_CLAIM, outbox_send_one
from cadence.messaging.outbox_checks import sender_for
from cadence.messaging.outbox_record import record_sent
from cadence.messaging.selectors import RECIPIENTS_WORD, suppression_can_lift, suppression_find
from cadence.plans import exits
from cadence.strategies.models import ContactStrategy
from cadence.strategies.selectors import strategy_can_approve_automation
from cadence.strategies.services import strategy_automation_set

WAITING = (OutboundStatus.QUEUED, OutboundStatus.AWAITING_APPROVAL)


def _may_act(actor: User, message: OutboundMessage) -> None:
    if not can_manage_user_work(actor, message.user):
        raise PermissionDeniedError("Only the sender, their manager or an admin may do this.")


def _refresh(message: OutboundMessage) -> OutboundMessage:
    return OutboundMessage.objects.select_related("plan", "step", "contact", "user").get(
        pk=message.pk
    )


def _move(message: OutboundMessage, *, only, refusal: str, **changes) -> None:
    """Change a message that is in one of the statuses ``only``, else refuse with ``refusal``.
    The status guard makes a race with the send pass harmless."""
    changes.setdefault("updated_at", timezone.now())
    if not OutboundMessage.objects.filter(pk=message.pk, status__in=only).update(**changes):
        raise CadenceError(refusal, field="status")


def _requeued(**changes) -> dict:
    """The changes that put a message back in the queue, to go at once."""
    now = timezone.now()
    return {"status": OutboundStatus.QUEUED, "send_after": now, "error": "", **NO_CLAIM} | changes


def _only_waiting(message: OutboundMessage, verb: str) -> str:
    return (
        f"This email is {message.get_status_display().lower()}; only a queued or unapproved "
        f"one can be {verb}."
    )


# -- Approval -------------------------------------------------------------------------------------


def _check_may_approve(actor: User, strategy: ContactStrategy, verb: str) -> None:
    """The rule is ``strategy_can_approve_automation``'s; this only picks the refusal's words."""
    if strategy_can_approve_automation(actor, strategy):
        return
    if not (actor.is_manager or actor.is_admin):
        raise PermissionDeniedError(f"Only a manager or an admin may {verb} automation.")
    raise PermissionDeniedError(
        f"Only a manager of the team this strategy belongs to, or an admin, may {verb} its "
        "automation."
    )


@transaction.atomic
def strategy_approve_automation(*, strategy: ContactStrategy, actor: User) -> ContactStrategy:
    """Turn a strategy's automated steps on; what waited for approval is queued."""
    _check_may_approve(actor, strategy, "approve")
    strategy_automation_set(strategy=strategy, approved_by=actor)
    OutboundMessage.objects.filter(
        strategy=strategy, status=OutboundStatus.AWAITING_APPROVAL
    ).update(status=OutboundStatus.QUEUED, error="", updated_at=timezone.now())
    return strategy


@transaction.atomic
def strategy_revoke_automation(*, strategy: ContactStrategy, actor: User) -> ContactStrategy:
    """Turn automation off again; queued messages wait for a new approval (not those a person
    asked to send now)."""
    _check_may_approve(actor, strategy, "stop")
    strategy_automation_set(strategy=strategy, approved_by=None)
    OutboundMessage.objects.filter(
        strategy=strategy, status=OutboundStatus.QUEUED, send_now=False
    ).update(status=OutboundStatus.AWAITING_APPROVAL, updated_at=timezone.now())
    return strategy


def strategy_automation_decide(
    *, strategy: ContactStrategy, actor: User, approve: bool
) -> ContactStrategy:
    """Approve (``approve``) or stop a strategy's automated sending: the one entry the pages
    use, whichever page the manager decides on."""
    if approve:
        return strategy_approve_automation(strategy=strategy, actor=actor)
    return strategy_revoke_automation(strategy=strategy, actor=actor)


# -- One message ----------------------------------------------------------------------------------


def outbox_send_now(*, message: OutboundMessage, actor: User) -> OutboundMessage:
    """Send a waiting message at once, without waiting for approval or the send window. The
    opt-out, personalization and rate-limit checks still apply: over a limit it waits, and the
    row says until when."""
    _may_act(actor, message)
    _move(
        message,
        only=WAITING,
        refusal=_only_waiting(message, "sent now"),
        status=OutboundStatus.QUEUED,
        send_now=True,
        send_after=timezone.now(),
    )
    outbox_send_one(message=message)
    return _refresh(message)


def outbox_cancel(*, message: OutboundMessage, actor: User) -> OutboundMessage:
    """Do not send this message; the plan's step stays for the rep to do by hand."""
    _may_act(actor, message)
    _move(
        message,
        only=WAITING,
        refusal=_only_waiting(message, "cancelled"),
        status=OutboundStatus.CANCELLED,
        error=f"Cancelled by {actor}.",
    )
    return _refresh(message)


def outbox_confirm(*, message: OutboundMessage, actor: User, sent: bool) -> OutboundMessage:
    """Settle an uncertain message: it arrived (recorded as sent, the plan moves on) or it did
    not (queued again, since a person has now said a second copy cannot be a duplicate)."""
    _may_act(actor, message)
    refusal = "Only an uncertain email can be confirmed."
    if not sent:
        _move(message, only=[OutboundStatus.UNCERTAIN], refusal=refusal, **_requeued(send_now=True))
        return _refresh(message)
    message = _refresh(message)
    done = record_sent(
        [(message, message.handoff_at or timezone.now(), "")],
        statuses=(OutboundStatus.UNCERTAIN,),
        claimed=False,
    )
    if not done:
        raise CadenceError(refusal, field="status")
    return _refresh(message)


def outbox_retry(*, message: OutboundMessage, actor: User) -> OutboundMessage:
    """Queue a failed message again (after fixing the contact or the template)."""
    _may_act(actor, message)
    _move(
        message,
        only=[OutboundStatus.FAILED],
        refusal="Only a failed email can be tried again.",
        **_requeued(),
    )
    return _refresh(message)


# -- Suppressions and unsubscribing ---------------------------------------------------------------


@transaction.atomic
def suppression_add(
    *,
    email: str,
    reason: str = SuppressionReason.MANUAL,
    actor: User | None = None,
    contact: Contact | None = None,
    note: str = "",
) -> Suppression:
    """Never email this address again. Adding one that exists keeps the first entry, except
    that the recipient's own word (an unsubscribe, a complaint) replaces a reason of ours: it
    is what decides who may lift the entry. Waiting messages to the address are settled as
    suppressed at once."""
    email = email.strip()
    if not email or "@" not in email:
        raise CadenceError("Give an email address.", field="email")
    existing = suppression_find(email)
    if existing is None:
        try:
            with transaction.atomic():
                existing = Suppression.objects.create(
                    email=email, reason=reason, created_by=actor, contact=contact, note=note
                )
        except IntegrityError:
            existing = suppression_find(email)
    if reason in RECIPIENTS_WORD and existing.reason not in RECIPIENTS_WORD:
        Suppression.objects.filter(pk=existing.pk).update(reason=reason, updated_at=timezone.now())
        existing.reason = reason
    OutboundMessage.objects.annotate(address=Lower("to_email")).filter(
        address=email.lower(), status__in=WAITING
    ).update(
        status=OutboundStatus.SUPPRESSED,
        error="The address is on the suppression list.",
        updated_at=timezone.now(),
    )
    return existing


def suppression_remove(*, suppression: Suppression, actor: User) -> None:
    """Allow email to an address again (``suppression_can_lift`` says who may). A recipient's
    own unsubscribe or complaint can only be lifted by an admin: it is their word, not ours."""
    if not suppression_can_lift(actor, suppression):
        if suppression.reason in RECIPIENTS_WORD and not actor.is_admin:
            raise PermissionDeniedError("The recipient asked for this; only an admin may lift it.")
        if not (actor.is_admin or actor.is_manager):
            raise PermissionDeniedError("Only a manager or an admin may lift a suppression.")
        raise PermissionDeniedError(
            "Another team put this address on the list; only its manager or an admin may lift it."
        )
    suppression.delete()


@transaction.atomic
def contact_unsubscribe(*, contact: Contact, at: datetime.datetime | None = None) -> None:
    """The contact asked to hear no more: opted out, address suppressed, every active plan
    ended (opted out), every waiting message settled. Safe to repeat."""
    at = at or timezone.now()
    exits.contact_opt_out(contact=contact, at=at)
    if contact.email:
        suppression_add(
            email=contact.email,
            reason=SuppressionReason.UNSUBSCRIBED,
            contact=contact,
            note="Unsubscribed through the link in an email.",
        )
    OutboundMessage.objects.filter(contact=contact, status__in=WAITING).update(
        status=OutboundStatus.SUPPRESSED, error="The contact opted out.", updated_at=at
    )


# -- Senders --------------------------------------------------------------------------------------

SENDER_LIMIT_FIELDS = ("daily_limit", "hourly_limit", "ramp_start", "ramp_step", "ramp_started_on")
#: What ``sender_update`` sets; the automation pause has its own services.
SENDER_FIELDS = (*SENDER_LIMIT_FIELDS, "postal_address")


def sender_update(*, sender: Sender, actor: User, data: dict) -> Sender:
    """Change a sender's settings: the postal address is theirs to set; limits and the ramp are
    set by their manager or an admin."""
    if not can_manage_user_work(actor, sender.user):
        raise PermissionDeniedError("You may not change this sender.")
    unknown = sorted(set(data) - set(SENDER_FIELDS))
    if unknown:
        raise CadenceError(f"A sender's {', '.join(unknown)} cannot be set here.", field=unknown[0])
    if any(name in data for name in SENDER_LIMIT_FIELDS) and not (
        actor.is_admin or actor.is_manager
    ):
        raise PermissionDeniedError("Only a manager or an admin may change sending limits.")
    sender, _ = model_update(instance=sender, fields=SENDER_FIELDS, data=data)
    return sender


#: What a user sets about their own sending, on their sender and on their profile; the rest is
#: their manager's or an admin's (``sender_update``).
OWN_SENDER_FIELDS = ("postal_address",)
OWN_PROFILE_FIELDS = ("display_name", "signature")


@transaction.atomic
def sender_update_own(*, user: User, data: dict) -> Sender:
    """A user changing their own sending: the postal address of their emails' footer and the
    name and signature the emails carry. Limits, the ramp and the automation pause are refused
    here even for a manager or an admin, who change them on the sender itself."""
    others = sorted(set(data) - {*OWN_SENDER_FIELDS, *OWN_PROFILE_FIELDS})
    if others:
        raise PermissionDeniedError(
            f"Your manager or an admin sets {', '.join(others)}; you set your postal address, "
            "name and signature."
        )
    sender = sender_for(user)
    model_update(instance=sender, fields=OWN_SENDER_FIELDS, data=data)
    profile = {key: value for key, value in data.items() if key in OWN_PROFILE_FIELDS}
    if profile:
        user = user_update(user=user, data=profile, fields=OWN_PROFILE_FIELDS)
    sender.user = user
    return sender


def sender_pause_automation(*, sender: Sender, reason: str) -> bool:
    """Stop a sender's automated sends until someone resumes them; True if this paused it."""
    return bool(
        Sender.objects.filter(pk=sender.pk, automation_paused_at__isnull=True).update(
            automation_paused_at=timezone.now(),
            automation_paused_reason=reason,
            updated_at=timezone.now(),
        )
    )


def sender_resume_automation(*, sender: Sender, actor: User) -> Sender:
    if not can_manage_user_work(actor, sender.user):
        raise PermissionDeniedError("You may not change this sender.")
    Sender.objects.filter(pk=sender.pk).update(
        automation_paused_at=None, automation_paused_reason="", updated_at=timezone.now()
    )
    sender.refresh_from_db()
    return sender
