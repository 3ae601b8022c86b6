"""The outbox: queueing the automated email steps that fall due, and sending them exactly once.

A row moves ``queued -> sending -> sent``, or ends ``failed``, ``suppressed``, ``cancelled`` or
``uncertain``; rows of a strategy whose automation is not approved wait in
``awaiting_approval``. The guarantees, and how each is kept:

- *Never twice.* A row is claimed by a conditional update (``status = 'queued'``, plus
  ``SKIP LOCKED`` on PostgreSQL so workers share a queue without waiting). Just before the
  message goes to the mail server, ``handoff_at`` is committed. A row found still ``sending``
  after the claim timeout is queued again only if it never got that far; otherwise it may have
  gone, and it becomes ``uncertain``: only a person can say whether it arrived, so it is never
  re-sent by itself.
- *Never lost.* Whatever stops a worker (a kill, a crash, a lost connection) leaves the row
  ``sending``, and the next pass past the timeout settles it as above.
- *Recorded once.* The Activity (Email, Sent, with the Message-ID) is logged and the plan
  advanced in one transaction after the send, guarded by the row's claim.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import socket
import uuid
from dataclasses import dataclass, field
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Contact
from cadence.messaging import limits
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage, Sender, Suppression
from cadence.messaging.unsubscribe import unsubscribe_url
from cadence.notifications.models import Notification
from cadence.plans import services as plan_services
from cadence.plans.choices import RUNNING_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.scheduling.due import fit_send_window
from cadence.scheduling.zones import resolve_zone, to_local
from cadence.strategies.rendering import RenderedMessage, render_message, template_context

logger = logging.getLogger(__name__)

#: While a sender's automation is paused, its messages look again this much later.
PAUSED_RETRY = datetime.timedelta(hours=1)
#: A mail server that refuses for now (4xx) is tried again this much later.
TEMPORARY_RETRY = datetime.timedelta(minutes=10)


def claim_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CADENCE_OUTBOX_CLAIM_TIMEOUT)


# -- Queueing -------------------------------------------------------------------------------------


def automation_approved(strategy) -> bool:
    return strategy is not None and strategy.automation_approved_at is not None


def outbox_queue_due(*, now: datetime.datetime, batch_size: int = 1000) -> int:
    """Queue the automated email steps due at ``now`` that have no outbox row yet; returns how
    many rows were made. Safe to run concurrently: the row is unique per (plan, step)."""
    made = 0
    while True:
        has_row = OutboundMessage.objects.filter(plan=OuterRef("pk"), step=OuterRef("current_step"))
        plans = list(
            LeadContactPlan.objects.filter(
                status__in=RUNNING_STATUSES,
                next_step_due_date__lte=now,
                current_step__is_automated=True,
                current_step__activity_type=ActivityType.EMAIL,
            )
            .filter(~Exists(has_row))
            .select_related("contact", "company", "strategy", "current_step", "user")
            .order_by("next_step_due_date")[:batch_size]
        )
        for plan in plans:
            made += _queue_one(plan, now=now)
        if len(plans) < batch_size:
            return made


def _queue_one(plan: LeadContactPlan, *, now: datetime.datetime) -> int:
    contact = plan.contact
    row = OutboundMessage(
        plan=plan,
        step=plan.current_step,
        strategy=plan.strategy,
        contact=contact,
        company=plan.company,
        user=plan.user,
        to_email=(contact.email if contact else "")[:254],
        send_after=max(plan.next_step_due_date, now) if plan.next_step_due_date else now,
        status=(
            OutboundStatus.QUEUED
            if automation_approved(plan.strategy)
            else OutboundStatus.AWAITING_APPROVAL
        ),
    )
    refusal = _recipient_refusal(contact)
    rendered = None
    if refusal is None:
        rendered = _render(plan, plan.current_step, contact)
        row.subject, row.body = rendered.subject[:998], rendered.body
        if not rendered.ok:
            row.status, row.error = OutboundStatus.FAILED, _problems_text(rendered)
    else:
        row.status, row.error = refusal
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return 0  # a concurrent pass queued it first
    if row.status == OutboundStatus.FAILED:
        _tell_user(row, "An automated email was not sent", row.error)
    return 1


def _recipient_refusal(contact: Contact | None) -> tuple[str, str] | None:
    """Why no email may go to this lead at all, as the (status, reason) to settle on."""
    if contact is None:
        return OutboundStatus.FAILED, "The plan targets a company, not a person: no one to email."
    if contact.opted_out:
        return OutboundStatus.SUPPRESSED, "The contact opted out."
    if contact.email_status == EmailStatus.BOUNCED:
        return OutboundStatus.SUPPRESSED, "The contact's email address bounced."
    if not contact.email:
        return OutboundStatus.FAILED, "The contact has no email address."
    if is_suppressed(contact.email):
        return OutboundStatus.SUPPRESSED, "The address is on the suppression list."
    return None


def is_suppressed(email: str) -> bool:
    return (
        Suppression.objects.annotate(address=Lower("email"))
        .filter(address=email.strip().lower())
        .exists()
    )


def _render(plan: LeadContactPlan, step, contact: Contact) -> RenderedMessage:
    context = template_context(
        contact=contact, company=plan.company, user=plan.user, plan=plan, step=step
    )
    context["unsubscribe_url"] = unsubscribe_url(contact)
    return render_message(step.subject_template, step.description_template, context)


def _problems_text(rendered: RenderedMessage) -> str:
    return "Personalization check failed: " + " ".join(rendered.problems)


def _tell_user(row: OutboundMessage, title: str, body: str) -> None:
    lead = row.contact or row.company
    Notification.objects.create(
        user_id=row.user_id,
        title=title,
        body=f"To {lead}: {body}",
        url=f"/api/v1/outbox/{row.pk}/",
    )


# -- Sending --------------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    cancelled: int = 0
    waiting: int = 0
    uncertain: int = 0
    requeued: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.suppressed + self.cancelled + self.uncertain

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.failed} failed, {self.suppressed} suppressed, "
            f"{self.cancelled} cancelled, {self.waiting} waiting, {self.uncertain} uncertain, "
            f"{self.requeued} reclaimed"
        )


def outbox_reclaim_stuck(*, now: datetime.datetime, report: SendReport | None = None) -> None:
    """Settle rows whose worker stopped: queued again if the message never reached the mail
    server, ``uncertain`` if it may have."""
    stuck = OutboundMessage.objects.filter(
        status=OutboundStatus.SENDING, claimed_at__lt=now - claim_timeout()
    )
    requeued = stuck.filter(handoff_at__isnull=True).update(
        status=OutboundStatus.QUEUED, claim_token=None, claimed_at=None, updated_at=timezone.now()
    )
    uncertain = stuck.filter(handoff_at__isnull=False).update(
        status=OutboundStatus.UNCERTAIN,
        error=(
            "The worker stopped after handing this email to the mail server and before "
            "recording it: it may have been sent. Confirm whether it arrived."
        ),
        updated_at=timezone.now(),
    )
    if report is not None:
        report.requeued += requeued
        report.uncertain += uncertain


def outbox_send_due(
    *,
    now: datetime.datetime | None = None,
    limit: int | None = None,
    batch_size: int = 50,
    mail_connection=None,
) -> SendReport:
    """Send what is queued and due (at most ``limit``); returns what happened."""
    report = SendReport()
    outbox_reclaim_stuck(now=now or timezone.now(), report=report)
    mail = mail_connection or get_connection()
    try:
        while limit is None or report.handled + report.waiting < limit:
            done = report.handled + report.waiting
            size = batch_size if limit is None else min(batch_size, limit - done)
            claimed = _claim(now=now or timezone.now(), size=size)
            if not claimed:
                break
            for row in claimed:
                _process(row, now=now, mail=mail, report=report)
    finally:
        mail.close()
    return report


def outbox_send_one(
    *, message: OutboundMessage, now: datetime.datetime | None = None
) -> SendReport:
    """Send one queued row at once (``send now``), if no worker has claimed it."""
    report = SendReport()
    claimed = _claim(now=now or timezone.now(), size=1, only=message.pk)
    if claimed:
        mail = get_connection()
        try:
            _process(claimed[0], now=now, mail=mail, report=report)
        finally:
            mail.close()
    return report


def _claim(*, now: datetime.datetime, size: int, only=None) -> list[OutboundMessage]:
    token = uuid.uuid4()
    with transaction.atomic():
        due = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
        due = due.filter(pk=only) if only is not None else due.filter(send_after__lte=now)
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("send_after").values_list("pk", flat=True)[:size])
        if not ids:
            return []
        # The status guard makes the claim safe on SQLite too, where there is no row lock.
        OutboundMessage.objects.filter(pk__in=ids, status=OutboundStatus.QUEUED).update(
            status=OutboundStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            handoff_at=None,
            attempts=F("attempts") + 1,
            updated_at=timezone.now(),
        )
    return list(
        OutboundMessage.objects.filter(claim_token=token, status=OutboundStatus.SENDING)
        .select_related(
            "plan__strategy",
            "plan__current_step",
            "plan__company",
            "plan__user",
            "step",
            "contact",
            "user",
        )
        .order_by("send_after")
    )


def _mine(row: OutboundMessage, *statuses: str):
    return OutboundMessage.objects.filter(
        pk=row.pk, claim_token=row.claim_token, status__in=statuses or [OutboundStatus.SENDING]
    )


def _settle(row: OutboundMessage, status: str, error: str, report: SendReport) -> None:
    """End a claimed row that never reached the mail server."""
    _mine(row).update(status=status, error=error, claim_token=None, updated_at=timezone.now())
    attribute = {
        OutboundStatus.FAILED: "failed",
        OutboundStatus.SUPPRESSED: "suppressed",
        OutboundStatus.CANCELLED: "cancelled",
    }[status]
    setattr(report, attribute, getattr(report, attribute) + 1)
    report.lines.append(f"{row.pk} {status}: {error}")
    if status == OutboundStatus.FAILED:
        row.status = status
        _tell_user(row, "An automated email was not sent", error)


def _release(
    row: OutboundMessage,
    *,
    report: SendReport,
    until: datetime.datetime,
    why: str,
    status: str = OutboundStatus.QUEUED,
) -> None:
    """Give a claimed row back, untouched by the mail server, to wait until ``until``."""
    _mine(row).update(
        status=status,
        send_after=until,
        error=why,
        claim_token=None,
        claimed_at=None,
        handoff_at=None,
        updated_at=timezone.now(),
    )
    report.waiting += 1
    report.lines.append(f"{row.pk} waits until {until:%Y-%m-%d %H:%M} UTC: {why}")


def sender_for(user) -> Sender:
    sender = Sender.objects.filter(user=user).select_related("user").first()
    if sender is None:
        today = to_local(timezone.now(), resolve_zone(user.time_zone)).date()
        sender, _ = Sender.objects.get_or_create(user=user, defaults={"ramp_started_on": today})
    return sender


def _process(
    row: OutboundMessage, *, now: datetime.datetime | None, mail, report: SendReport
) -> None:
    now = now or timezone.now()
    plan, contact, step = row.plan, row.contact, row.step
    if plan.status not in RUNNING_STATUSES or step is None or plan.current_step_id != step.pk:
        _settle(row, OutboundStatus.CANCELLED, "The plan moved on before it was sent.", report)
        return
    if contact is not None:
        contact.refresh_from_db(fields=["opted_out", "email_status", "email"])
    refusal = _recipient_refusal(contact)
    if refusal is not None:
        _settle(row, refusal[0], refusal[1], report)
        return
    sender = sender_for(row.user)
    sender.user = row.user
    if not row.send_now:
        if not automation_approved(plan.strategy):
            _release(
                row,
                report=report,
                until=now,
                why="The strategy's automation awaits a manager's approval.",
                status=OutboundStatus.AWAITING_APPROVAL,
            )
            return
        if sender.automation_paused_at is not None:
            _release(
                row,
                report=report,
                until=now + PAUSED_RETRY,
                why=f"The sender's automation is paused: {sender.automation_paused_reason}",
            )
            return
        strategy = plan.strategy
        opens = fit_send_window(
            now,
            window_start=strategy.send_window_start,
            window_end=strategy.send_window_end,
            time_zone=contact.time_zone or contact.company.time_zone or row.user.time_zone,
        )
        if opens > now:
            _release(row, report=report, until=opens, why="Outside the send window.")
            return
    rendered = _render(plan, step, contact)
    if not rendered.ok:
        _settle(row, OutboundStatus.FAILED, _problems_text(rendered), report)
        return
    if not row.user.email:
        _settle(row, OutboundStatus.FAILED, "The sender has no email address.", report)
        return
    postal = sender.postal_address or settings.CADENCE_POSTAL_ADDRESS
    if not postal.strip():
        _settle(
            row,
            OutboundStatus.FAILED,
            "No postal address for the footer: set the sender's or CADENCE_POSTAL_ADDRESS.",
            report,
        )
        return
    windows = limits.send_windows(
        sender=sender, to_email=contact.email, company_id=row.company_id, now=now
    )
    try:
        limits.reserve(windows)
    except limits.OverLimit as over:
        _release(row, report=report, until=over.retry_at, why=over.reason)
        return
    message = _build(row, rendered, contact=contact, postal=postal, mail=mail)
    handed = _mine(row).update(
        handoff_at=timezone.now(),
        message_id=message.extra_headers["Message-ID"],
        to_email=contact.email,
        subject=message.subject,
        body=message.body,
        error="",
        updated_at=timezone.now(),
    )
    if not handed:
        return  # reclaimed by another pass after the timeout: it is theirs now
    try:
        accepted = message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        _refused(row, exc, report, now=now)
        return
    except smtplib.SMTPResponseException as exc:
        _refused(row, exc, report, now=now)
        return
    except (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror) as exc:
        # Refused before a conversation began: nothing can have been accepted.
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=f"Mail server: {exc}")
        return
    except Exception as exc:
        logger.warning("Outbox %s: send interrupted", row.pk, exc_info=True)
        _mine(row).update(
            status=OutboundStatus.UNCERTAIN,
            error=f"The send was interrupted ({exc}); it may have been sent.",
            updated_at=timezone.now(),
        )
        report.uncertain += 1
        report.lines.append(f"{row.pk} uncertain: {exc}")
        return
    if accepted != 1:
        _settle_after_handoff(row, OutboundStatus.FAILED, "The mail backend took no message.")
        report.failed += 1
        return
    esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None) or ""
    record_sent(
        row,
        subject=message.subject,
        body=message.body,
        message_id=message.extra_headers["Message-ID"],
        esp_message_id=str(esp_id),
        at=timezone.now(),
    )
    report.sent += 1
    report.lines.append(f"{row.pk} sent to {contact.email}: {message.subject}")


def _settle_after_handoff(row: OutboundMessage, status: str, error: str) -> None:
    _mine(row).update(status=status, error=error, claim_token=None, updated_at=timezone.now())


def _refused(row: OutboundMessage, exc: Exception, report: SendReport, *, now) -> None:
    """The server answered no: the message was not accepted. Temporary refusals (4xx) wait and
    go again; permanent ones fail."""
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((answer[0] for answer in exc.recipients.values()), default=550)
    detail = str(exc)[:500]
    if code is not None and 400 <= code < 500:
        _mine(row).update(
            status=OutboundStatus.QUEUED,
            send_after=now + TEMPORARY_RETRY,
            error=f"The mail server deferred it: {detail}",
            claim_token=None,
            claimed_at=None,
            handoff_at=None,
            updated_at=timezone.now(),
        )
        report.waiting += 1
        return
    _settle_after_handoff(row, OutboundStatus.FAILED, f"The mail server refused it: {detail}")
    report.failed += 1
    row.status = OutboundStatus.FAILED
    _tell_user(row, "An automated email was refused", detail)


def _build(row: OutboundMessage, rendered: RenderedMessage, *, contact, postal: str, mail):
    user = row.user
    link = unsubscribe_url(contact)
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
        connection=mail,
        headers={
            "Message-ID": make_msgid(domain=domain),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Cadence-Outbox": str(row.pk),
        },
    )


@transaction.atomic
def record_sent(
    row: OutboundMessage,
    *,
    subject: str,
    body: str,
    message_id: str,
    at: datetime.datetime,
    esp_message_id: str = "",
    guard=None,
) -> bool:
    """Mark the row sent, log the Activity and advance the plan, together. ``guard`` is the
    row's expected state (by default: still claimed by this worker, or found uncertain while
    this send was still finishing, in which case it did go)."""
    if guard is None:
        guard = _mine(row, OutboundStatus.SENDING, OutboundStatus.UNCERTAIN)
    done = guard.update(
        status=OutboundStatus.SENT,
        sent_at=at,
        esp_message_id=esp_message_id[:255],
        error="",
        claim_token=None,
        updated_at=timezone.now(),
    )
    if not done:
        return False
    fields = {
        "plan": row.plan,
        "contact": row.contact,
        "user": row.user,
        "activity_type": ActivityType.EMAIL,
        "direction": Direction.OUTBOUND,
        "outcome": Outcome.SENT,
        "subject": subject[:255],
        "description": body,
        "occurred_at": at,
        "message_id": message_id,
    }
    try:
        with transaction.atomic():
            activity = plan_services.activity_log(actor=row.user, step=row.step, **fields)
    except plan_services.PlanStateError:
        # The plan was paused or moved on while the email went out: it went all the same.
        activity = plan_services.activity_log(actor=row.user, **fields)
    OutboundMessage.objects.filter(pk=row.pk).update(activity=activity)
    return True
