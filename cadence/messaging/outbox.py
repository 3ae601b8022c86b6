"""The outbox's send pass: each queued automated email sent exactly once.

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
  advanced in one transaction after the send, guarded by the row's claim (``outbox_record``).

A pass runs in phases, each a function here: ``_claim`` a batch, ``_prepare`` each row (every
check, in order, in ``outbox_checks``), ``_hand_over`` each to the mail server, ``_record`` what
went. Queueing the steps that fall due is ``outbox_queue``'s.
"""

from __future__ import annotations

import datetime
import enum
import logging
import smtplib
import socket
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cadence.messaging import limits
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.messaging.outbox_checks import (
    SendBatch,
    message_build,
    problems_text,
    recipient_refusal,
    send_wait,
    sender_for,
    step_render,
)
from cadence.messaging.outbox_queue import outbox_queue_due
from cadence.messaging.outbox_record import NOT_SENT, record_sent, tell_user
from cadence.messaging.outbox_transport import Transport, Transports
from cadence.messaging.unsubscribe import unsubscribe_url
from cadence.plans.automation import is_automated_email
from cadence.plans.choices import RUNNING_STATUSES

# The outbox's public face: the scheduler and the tests queue through here, and pages find a
# user's sender here, whichever module the work is done in.
__all__ = [
    "RECORD_EVERY",
    "SendReport",
    "outbox_queue_due",
    "outbox_reclaim_stuck",
    "outbox_send_due",
    "outbox_send_one",
    "sender_for",
]

logger = logging.getLogger(__name__)

#: Sent messages are recorded this many at a time: recording together is what makes a batch
#: fast, and a worker killed meanwhile leaves at most this many sent but unrecorded
#: (``uncertain``) rows for a person to confirm.
RECORD_EVERY = 20
#: A mail server that refuses for now (4xx) is tried again this much later.
TEMPORARY_RETRY = datetime.timedelta(minutes=10)
#: A row given back to the queue holds no claim, and never reached the mail server.
NO_CLAIM = {"claim_token": None, "claimed_at": None, "handoff_at": None}


def claim_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CADENCE_OUTBOX_CLAIM_TIMEOUT)


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

    def count_settled(self, status: OutboundStatus) -> None:
        """Count a row ended before the mail server took it."""
        counter = {
            OutboundStatus.FAILED: "failed",
            OutboundStatus.SUPPRESSED: "suppressed",
            OutboundStatus.CANCELLED: "cancelled",
        }[status]
        setattr(self, counter, getattr(self, counter) + 1)

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.failed} failed, {self.suppressed} suppressed, "
            f"{self.cancelled} cancelled, {self.waiting} waiting, {self.uncertain} uncertain, "
            f"{self.requeued} reclaimed"
        )


class _Handed(enum.Enum):
    """What became of a message given to the mail server."""

    SENT = enum.auto()  # accepted: to be recorded
    SETTLED = enum.auto()  # refused, deferred, or no longer this worker's: its row says so
    STOP = enum.auto()  # the connection is gone: nothing more this round


@dataclass
class _Ready:
    """A checked, rendered, counted message, ready to hand to the mail server."""

    row: OutboundMessage
    message: EmailMessage
    sent_at: datetime.datetime | None = None
    esp_message_id: str = ""


def outbox_reclaim_stuck(*, now: datetime.datetime, report: SendReport | None = None) -> None:
    """Settle rows whose worker stopped: queued again if the message never reached the mail
    server, ``uncertain`` if it may have."""
    stuck = OutboundMessage.objects.filter(
        status=OutboundStatus.SENDING, claimed_at__lt=now - claim_timeout()
    )
    requeued = stuck.filter(handoff_at__isnull=True).update(
        status=OutboundStatus.QUEUED, **NO_CLAIM, updated_at=timezone.now()
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
            "plan__current_step",
            "step",
            "contact__company",
            "user",
        )
        .order_by("send_after")
    )


def _mine(row: OutboundMessage):
    """The row, if this worker's claim on it still holds."""
    return OutboundMessage.objects.filter(
        pk=row.pk, claim_token=row.claim_token, status=OutboundStatus.SENDING
    )


def _send_batch(
    rows: list[OutboundMessage], *, now: datetime.datetime | None, mail, report: SendReport
) -> bool:
    """Check, render and count every claimed row, hand each to its mail server (the owner's
    mailbox or the organisation's), then record the sent ones together. Returns False when
    the organisation's mail server could not be reached."""
    moment = now or timezone.now()
    batch = SendBatch(rows)
    transports = Transports(rows, organisation=mail)
    transports.check_inboxes(rows, now=moment)
    try:
        ready = [
            item
            for row in rows
            if (item := _prepare(row, batch, transports, now=moment, report=report))
        ]
        _hand_all(ready, transports, now=moment, report=report)
    finally:
        transports.close()
    transports.file_sent()
    return not transports.organisation.down


def _hand_all(
    ready: list[_Ready], transports: Transports, *, now: datetime.datetime, report: SendReport
) -> None:
    sent: list[_Ready] = []
    try:
        for item in ready:
            transport = transports.for_row(item.row)
            if transport.down:
                _release(item.row, report=report, until=now + TEMPORARY_RETRY, why=transport.down)
                continue
            if _hand_over(item, transport, now=now, report=report) is _Handed.SENT:
                sent.append(item)
                if len(sent) >= RECORD_EVERY:
                    _record(sent, report=report)
                    sent = []
    finally:
        # Whatever stopped the loop, what did go out is recorded now.
        _record(sent, report=report)


def _settle(
    row: OutboundMessage,
    status: OutboundStatus,
    error: str,
    report: SendReport,
    *,
    title: str = NOT_SENT,
) -> None:
    """End a claimed row the mail server did not take: failed (its rep is told, under
    ``title``), suppressed or cancelled."""
    _mine(row).update(status=status, error=error, claim_token=None, updated_at=timezone.now())
    report.count_settled(status)
    report.lines.append(f"{row.pk} {status}: {error}")
    if status == OutboundStatus.FAILED:
        row.status = status
        tell_user(row, title, error)


def _release(
    row: OutboundMessage,
    *,
    report: SendReport,
    until: datetime.datetime,
    why: str,
    status: OutboundStatus = OutboundStatus.QUEUED,
) -> None:
    """Give a claimed row back, untouched by the mail server, to wait until ``until``."""
    _mine(row).update(
        status=status, send_after=until, error=why, **NO_CLAIM, updated_at=timezone.now()
    )
    report.waiting += 1
    report.lines.append(f"{row.pk} waits until {until:%Y-%m-%d %H:%M} UTC: {why}")


def _prepare(
    row: OutboundMessage,
    batch: SendBatch,
    transports: Transports,
    *,
    now: datetime.datetime,
    report: SendReport,
) -> _Ready | None:
    """Every check before a send, in order; a row that may not go now is settled or given back
    here, before anything reaches the mail server."""
    plan, contact, step = row.plan, row.contact, row.step
    if plan.status not in RUNNING_STATUSES or step is None or plan.current_step_id != step.pk:
        _settle(row, OutboundStatus.CANCELLED, "The plan moved on before it was sent.", report)
        return None
    if not is_automated_email(plan):
        why = "The step is no longer an automated email: it is the rep's to do."
        _settle(row, OutboundStatus.CANCELLED, why, report)
        return None
    refusal = recipient_refusal(contact, suppressed=batch.suppressed)
    if refusal is not None:
        _settle(row, *refusal, report)
        return None
    broken = transports.mailbox_wait(row)
    if broken is not None:
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=broken)
        return None
    sender = batch.sender(row.user)
    wait = send_wait(row, sender, now=now)
    if wait is not None:
        _release(row, report=report, until=wait.until, why=wait.why, status=wait.status)
        return None
    link = unsubscribe_url(contact)
    rendered = step_render(plan, step, contact, link=link)
    if not rendered.ok:
        _settle(row, OutboundStatus.FAILED, problems_text(rendered), report)
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
    message = message_build(row, rendered, contact=contact, postal=postal, link=link)
    transports.for_row(row).prepare(message)
    return _Ready(row, message)


def _hand_over(
    item: _Ready, transport: Transport, *, now: datetime.datetime, report: SendReport
) -> _Handed:
    """Give one message to its mail server."""
    row, message, mail = item.row, item.message, transport.backend
    try:
        mail.open()
    except Exception as exc:
        # Nothing was handed over: the row waits, untouched.
        logger.warning("Outbox: mail server unreachable: %s", exc)
        why = transport.failed(exc, now=now)
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=why)
        return _Handed.STOP
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
        return _Handed.SETTLED  # reclaimed by another pass after the timeout: it is theirs now
    try:
        accepted = message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        _refused(row, exc, report, now=now)
        return _Handed.SETTLED
    except (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror) as exc:
        # Refused before a conversation began: nothing can have been accepted.
        why = transport.failed(exc, now=now)
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=why)
        return _Handed.STOP
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
        transport.down = f"The mail server connection broke off: {exc}"
        return _Handed.STOP
    if accepted != 1:
        _settle(row, OutboundStatus.FAILED, "The mail backend took no message.", report)
        return _Handed.SETTLED
    item.sent_at = timezone.now()
    transport.sent.append(message)
    esp_id = getattr(getattr(message, "anymail_status", None), "message_id", None)
    item.esp_message_id = "" if esp_id is None else str(esp_id)[:255]
    return _Handed.SENT


def _refused(row: OutboundMessage, exc: Exception, report: SendReport, *, now) -> None:
    """The server answered no: the message was not accepted. Temporary refusals (4xx) wait and
    go again; permanent ones fail."""
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((answer[0] for answer in exc.recipients.values()), default=550)
    detail = str(exc)[:500]
    if code is not None and 400 <= code < 500:
        why = f"The mail server deferred it: {detail}"
        _release(row, report=report, until=now + TEMPORARY_RETRY, why=why)
        return
    why = f"The mail server refused it: {detail}"
    _settle(row, OutboundStatus.FAILED, why, report, title="An automated email was refused")


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
