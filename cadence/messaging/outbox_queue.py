"""Queueing: each automated email step that falls due gets its outbox row, once.

Which plans' steps are the outbox's is ``cadence.plans.automation``'s rule: an automated Email
step of a plan on a contact (``automated_email_q``). A step whose strategy's automation is not
approved yet is queued too, ``awaiting_approval``; the approval moves it on. The row is rendered
and checked here already, so that what cannot go (no address, an opted-out contact, a template
that does not render) is settled, and its rep told, before anyone waits for it; the send pass
(``outbox``) checks again before it goes.
"""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.messaging.outbox_checks import problems_text, recipient_refusal, step_render
from cadence.messaging.outbox_record import NOT_SENT, tell_user
from cadence.messaging.unsubscribe import unsubscribe_url
from cadence.plans.automation import automated_email_q, automation_approved
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan

logger = logging.getLogger(__name__)


def outbox_queue_due(*, now: datetime.datetime, batch_size: int = 1000) -> int:
    """Queue the automated email steps due at ``now`` that have no outbox row yet; returns how
    many rows were made. Safe to run concurrently: the row is unique per (plan, step)."""
    made = 0
    broken: set = set()
    while True:
        has_row = OutboundMessage.objects.filter(plan=OuterRef("pk"), step=OuterRef("current_step"))
        plans = list(
            LeadContactPlan.objects.exclude(pk__in=broken)
            .filter(automated_email_q(), status__in=RUNNING_STATUSES, next_step_due_date__lte=now)
            .filter(~Exists(has_row))
            .select_related("contact", "company", "strategy", "current_step", "user")
            .order_by("next_step_due_date")[:batch_size]
        )
        for plan in plans:
            try:
                with transaction.atomic():
                    made += _queue_one(plan, now=now)
            except Exception:
                # One broken plan must not stop the pass for the whole organisation: it is
                # recorded on its own outbox row, its owner is told, and the pass goes on.
                logger.exception("Could not queue the email of plan %s", plan.pk)
                made += _queue_failed(plan, now=now)
                broken.add(plan.pk)
        if len(plans) < batch_size:
            return made


def _new_row(plan: LeadContactPlan, *, now: datetime.datetime) -> OutboundMessage:
    """The plan's current step as an outbox row, not saved: waiting for the approval unless
    the strategy's automation is approved."""
    return OutboundMessage(
        plan=plan,
        step=plan.current_step,
        strategy=plan.strategy,
        contact=plan.contact,
        company=plan.company,
        user=plan.user,
        to_email=(plan.contact.email if plan.contact else "")[:254],
        send_after=max(plan.next_step_due_date, now) if plan.next_step_due_date else now,
        status=(
            OutboundStatus.QUEUED
            if automation_approved(plan.strategy)
            else OutboundStatus.AWAITING_APPROVAL
        ),
    )


def _queue_one(plan: LeadContactPlan, *, now: datetime.datetime) -> int:
    row = _new_row(plan, now=now)
    refusal = recipient_refusal(plan.contact)
    if refusal is None:
        rendered = step_render(
            plan, plan.current_step, plan.contact, link=unsubscribe_url(plan.contact)
        )
        row.subject, row.body = rendered.subject[:998], rendered.body
        if not rendered.ok:
            row.status, row.error = OutboundStatus.FAILED, problems_text(rendered)
    else:
        row.status, row.error = refusal
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return 0  # a concurrent pass queued it first
    if row.status == OutboundStatus.FAILED:
        tell_user(row, NOT_SENT, row.error)
    return 1


def _queue_failed(plan: LeadContactPlan, *, now: datetime.datetime) -> int:
    """Settle a plan whose email could not be prepared on a failed row, so that it is neither
    retried on every pass nor silently forgotten; 0 when even that is impossible."""
    reason = "This email could not be prepared; the error is in the server log. Fix the step."
    try:
        with transaction.atomic():
            # By IDs alone, not ``_new_row``: what broke may be one of the plan's related rows.
            row = OutboundMessage.objects.create(
                plan=plan,
                step_id=plan.current_step_id,
                strategy_id=plan.strategy_id,
                contact_id=plan.contact_id,
                company_id=plan.company_id,
                user_id=plan.user_id,
                to_email="",
                send_after=now,
                status=OutboundStatus.FAILED,
                error=reason,
            )
        tell_user(row, NOT_SENT, reason)
    except Exception:
        logger.exception("Could not record the failure of plan %s", plan.pk)
        return 0
    return 1
