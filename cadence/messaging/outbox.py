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
from cadence.activities.models import Activity
from cadence.core.services import rows_update
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
#: Sent messages are recorded this many at a time: recording together is what makes a batch
#: fast, and a worker killed meanwhile leaves at most this many sent but unrecorded
#: (``uncertain``) rows for a person to confirm.
RECORD_EVERY = 20
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
    broken: set = set()
    while True:
        has_row = OutboundMessage.objects.filter(plan=OuterRef("pk"), step=OuterRef("current_step"))
        plans = list(
            LeadContactPlan.objects.exclude(pk__in=broken)
            .filter(
                # A plan on a whole company has no one to email: its email steps are the rep's.
                contact__isnull=False,
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


def _queue_failed(plan: LeadContactPlan, *, now: datetime.datetime) -> int:
    """Settle a plan whose email could not be prepared on a failed row, so that it is neither
    retried on every pass nor silently forgotten; 0 when even that is impossible."""
    reason = "This email could not be prepared; the error is in the server log. Fix the step."
    try:
        with transaction.atomic():
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
        _tell_user(row, "An automated email was not sent", reason)
    except Exception:
        logger.exception("Could not record the failure of plan %s", plan.pk)
        return 0
    return 1


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
        rendered = _render(plan, plan.current_step, contact, link=unsubscribe_url(contact))
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


def _recipient_refusal(
    contact: Contact | None, *, suppressed: set[str] | None = None
) -> tuple[str, str] | None:
    """Why no email may go to this lead at all, as the (status, reason) to settle on."""
    if contact is None:
        return OutboundStatus.FAILED, "The plan targets a company, not a person: no one to email."
    if contact.opted_out:
        return OutboundStatus.SUPPRESSED, "The contact opted out."
    if contact.email_status == EmailStatus.BOUNCED:
        return OutboundStatus.SUPPRESSED, "The contact's email address bounced."
    if not contact.email:
        return OutboundStatus.FAILED, "The contact has no email address."
    address = contact.email.strip().lower()
    if address in suppressed if suppressed is not None else is_suppressed(address):
        return OutboundStatus.SUPPRESSED, "The address is on the suppression list."
    return None


def is_suppressed(email: str) -> bool:
    return (
        Suppression.objects.annotate(address=Lower("email"))
        .filter(address=email.strip().lower())
        .exists()
    )


def _render(plan: LeadContactPlan, step, contact: Contact, *, link: str) -> RenderedMessage:
    context = template_context(
        contact=contact, company=plan.company, user=plan.user, plan=plan, step=step
    )
    context["unsubscribe_url"] = link
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
            if not _send_batch(claimed, now=now, mail=mail, report=report):
                break  # the mail server cannot be reached: the rest waits for the next round
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
            _send_batch(claimed, now=now, mail=mail, report=report)
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
        OutboundMessage.objects.filter(pk__in=ids, claim_token=token, status=OutboundStatus.SENDING)
        .select_related(
            "plan__strategy",
            "plan__company",
            "plan__user",
            "step",
            "contact__company",
            "user",
        )
        .order_by("send_after")
    )


def _mine(row: OutboundMessage, *statuses: str):
    return OutboundMessage.objects.filter(
        pk=row.pk, claim_token=row.claim_token, status__in=statuses or [OutboundStatus.SENDING]
    )


class _Batch:
    """What the checks of a batch need, read once for all its rows."""

    def __init__(self, rows: list[OutboundMessage]):
        users = {row.user_id: row.user for row in rows}
        self.senders = {s.user_id: s for s in Sender.objects.filter(user_id__in=users)}
        addresses = {row.contact.email.strip().lower() for row in rows if row.contact}
        self.suppressed = set(
            Suppression.objects.annotate(address=Lower("email"))
            .filter(address__in=addresses)
            .values_list("address", flat=True)
        )
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


@dataclass
class _Ready:
    """A checked, rendered, counted message, ready to hand to the mail server."""

    row: OutboundMessage
    message: EmailMessage
    sent_at: datetime.datetime | None = None
    esp_message_id: str = ""


def _send_batch(
    rows: list[OutboundMessage], *, now: datetime.datetime | None, mail, report: SendReport
) -> bool:
    """Check, render and count every claimed row, hand each to the mail server, then record
    the sent ones together. Returns False when the mail server could not be reached."""
    moment = now or timezone.now()
    batch = _Batch(rows)
    ready = [item for row in rows if (item := _prepare(row, batch, now=moment, report=report))]
    sent: list[_Ready] = []
    reachable = True
    try:
        for index, item in enumerate(ready):
            outcome = _hand_over(item, mail=mail, now=moment, report=report)
            if outcome == "sent":
                sent.append(item)
                if len(sent) >= RECORD_EVERY:
                    _record(sent, report=report)
                    sent = []
            elif outcome == "stop":
                reachable = False
                for rest in ready[index + 1 :]:
                    _release(
                        rest.row,
                        report=report,
                        until=moment + TEMPORARY_RETRY,
                        why="The mail server could not be reached; it goes again later.",
                    )
                break
    finally:
        # Whatever stopped the loop, what did go out is recorded now.
        _record(sent, report=report)
    return reachable


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
    sender = Sender.objects.filter(user=user).first()
    if sender is None:
        today = to_local(timezone.now(), resolve_zone(user.time_zone)).date()
        sender, _ = Sender.objects.get_or_create(user=user, defaults={"ramp_started_on": today})
    return sender


def _prepare(
    row: OutboundMessage, batch: _Batch, *, now: datetime.datetime, report: SendReport
) -> _Ready | None:
    """Every check before a send, in order; a row that may not go now is settled or given back
    here, before anything reaches the mail server."""
    plan, contact, step = row.plan, row.contact, row.step
    if plan.status not in RUNNING_STATUSES or step is None or plan.current_step_id != step.pk:
        _settle(row, OutboundStatus.CANCELLED, "The plan moved on before it was sent.", report)
        return None
    refusal = _recipient_refusal(contact, suppressed=batch.suppressed)
    if refusal is not None:
        _settle(row, refusal[0], refusal[1], report)
        return None
    sender = batch.sender(row.user)
    if not row.send_now:
        if not automation_approved(plan.strategy):
            _release(
                row,
                report=report,
                until=now,
                why="The strategy's automation awaits a manager's approval.",
                status=OutboundStatus.AWAITING_APPROVAL,
            )
            return None
        if sender.automation_paused_at is not None:
            _release(
                row,
                report=report,
                until=now + PAUSED_RETRY,
                why=f"The sender's automation is paused: {sender.automation_paused_reason}",
            )
            return None
        strategy = plan.strategy
        opens = fit_send_window(
            now,
            window_start=strategy.send_window_start,
            window_end=strategy.send_window_end,
            time_zone=contact.time_zone or contact.company.time_zone or row.user.time_zone,
        )
        if opens > now:
            _release(row, report=report, until=opens, why="Outside the send window.")
            return None
    link = unsubscribe_url(contact)
    rendered = _render(plan, step, contact, link=link)
    if not rendered.ok:
        _settle(row, OutboundStatus.FAILED, _problems_text(rendered), report)
        return None
    if not row.user.email:
        _settle(row, OutboundStatus.FAILED, "The sender has no email address.", report)
        return None
    postal = sender.postal_address or settings.CADENCE_POSTAL_ADDRESS
    if not postal.strip():
        _settle(
            row,
            OutboundStatus.FAILED,
            "No postal address for the footer: set the sender's or CADENCE_POSTAL_ADDRESS.",
            report,
        )
        return None
    windows = limits.send_windows(
        sender=sender,
        to_email=contact.email,
        company_id=row.company_id,
        now=now,
        by_hand=batch.touches_by_hand(row.company_id, now),
    )
    try:
        limits.reserve(windows)
    except limits.OverLimit as over:
        _release(row, report=report, until=over.retry_at, why=over.reason)
        return None
    return _Ready(row, _build(row, rendered, contact=contact, postal=postal, link=link))


def _hand_over(item: _Ready, *, mail, now: datetime.datetime, report: SendReport) -> str:
    """Give one message to the mail server: ``sent``, ``done`` (settled otherwise) or ``stop``
    (the connection is gone; send nothing more this round)."""
    row, message = item.row, item.message
    try:
        mail.open()
    except Exception as exc:
        # Nothing was handed over: the row waits, untouched.
        logger.warning("Outbox: mail server unreachable: %s", exc)
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=f"Mail server: {exc}")
        return "stop"
    message.connection = mail
    row.handoff_at = timezone.now()
    row.message_id = message.extra_headers["Message-ID"]
    row.to_email, row.subject, row.body = message.to[0], message.subject, message.body
    handed = _mine(row).update(
        handoff_at=row.handoff_at,
        message_id=row.message_id,
        to_email=row.to_email,
        subject=row.subject,
        body=row.body,
        error="",
        updated_at=timezone.now(),
    )
    if not handed:
        return "done"  # reclaimed by another pass after the timeout: it is theirs now
    try:
        accepted = message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        _refused(row, exc, report, now=now)
        return "done"
    except smtplib.SMTPResponseException as exc:
        _refused(row, exc, report, now=now)
        return "done"
    except (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror) as exc:
        # Refused before a conversation began: nothing can have been accepted.
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=f"Mail server: {exc}")
        return "stop"
    except Exception as exc:
        logger.warning("Outbox %s: send interrupted", row.pk, exc_info=True)
        _mine(row).update(
            status=OutboundStatus.UNCERTAIN,
            error=f"The send was interrupted ({exc}); it may have been sent.",
            updated_at=timezone.now(),
        )
        report.uncertain += 1
        report.lines.append(f"{row.pk} uncertain: {exc}")
        mail.close()
        return "stop"
    if accepted != 1:
        _settle_after_handoff(row, OutboundStatus.FAILED, "The mail backend took no message.")
        report.failed += 1
        return "done"
    item.sent_at = timezone.now()
    esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    item.esp_message_id = "" if esp_id is None else str(esp_id)[:255]
    return "sent"


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


def _build(row: OutboundMessage, rendered: RenderedMessage, *, contact, postal: str, link: str):
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
            "X-Cadence-Outbox": str(row.pk),
        },
    )


def _record(items: list[_Ready], *, report: SendReport) -> None:
    """Record sent messages: each row marked sent (if it is still this worker's, or was found
    uncertain while its send was finishing: then it did go), its Activity logged and its plan
    advanced, all in one transaction."""
    if not items:
        return
    recorded = record_sent(
        [(item.row, item.sent_at, item.esp_message_id) for item in items],
        statuses=(OutboundStatus.SENDING, OutboundStatus.UNCERTAIN),
        claimed=True,
    )
    report.sent += len(recorded)
    for row in recorded:
        report.lines.append(f"{row.pk} sent to {row.to_email}: {row.subject}")


@transaction.atomic
def record_sent(
    sends: list[tuple[OutboundMessage, datetime.datetime, str]],
    *,
    statuses: tuple[str, ...],
    claimed: bool,
) -> list[OutboundMessage]:
    """Mark rows in ``statuses`` (and still holding their claim, if ``claimed``) as sent at the
    given times, log their Activities (Email, Sent, with the Message-ID) and advance their
    plans. Returns the rows recorded."""
    by_pk = {row.pk: (row, at, esp_id) for row, at, esp_id in sends}
    guard = OutboundMessage.objects.filter(pk__in=by_pk, status__in=statuses)
    if connection.vendor == "postgresql":
        guard = guard.select_for_update()
    current = dict(guard.values_list("pk", "claim_token"))
    rows = [
        row
        for row, _, _ in sends
        if row.pk in current and (not claimed or current[row.pk] == row.claim_token)
    ]
    done = []
    for row in rows:
        _, at, _ = by_pk[row.pk]
        activity = Activity(
            company_id=row.company_id,
            contact_id=row.contact_id,
            user_id=row.user_id,
            activity_type=ActivityType.EMAIL,
            direction=Direction.OUTBOUND,
            outcome=Outcome.SENT,
            subject=row.subject[:255],
            description=row.body,
            occurred_at=at,
            plan_id=row.plan_id,
            step_id=row.step_id,
            message_id=row.message_id,
        )
        activity.user = row.user
        done.append(plan_services.StepDone(plan_id=row.plan_id, step=row.step, activity=activity))
    activities = plan_services.steps_log_done(done=done)
    now = timezone.now()
    for row, activity in zip(rows, activities, strict=True):
        _, at, esp_id = by_pk[row.pk]
        row.status = OutboundStatus.SENT
        row.sent_at = at
        row.esp_message_id = esp_id or row.esp_message_id
        row.activity = activity
        row.error = ""
        row.claim_token = None
        row.updated_at = now
    rows_update(
        model=OutboundMessage,
        objs=rows,
        fields=[
            "status",
            "sent_at",
            "esp_message_id",
            "activity",
            "error",
            "claim_token",
            "updated_at",
        ],
    )
    return rows
