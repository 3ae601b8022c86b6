"""The mailbox benchmark behind ``manage.py bench_mailboxes`` (issue 16, docs/benchmarks.md).

A private Dovecot holds M reps' mailboxes. Each rep has leads who were sent an automated email
(through the organisation's transport, in memory, while seeding), and each inbox receives K new
messages by IMAP APPEND: a tenth replies to those emails, a tenth mail from a lead's address
without a thread, the rest newsletters and colleagues' mail. Then:

1. **Sync cost**: W worker processes sync every mailbox once (``mailbox_sync``); the wall time,
   the messages per second, and the checks (each reply applied once, its plan ended, no flag
   changed).
2. **Idle sync**: every mailbox synced again with nothing new: ms per mailbox, IMAP connections
   and bytes exchanged per sync.
3. **Reply to stop**: the workers sync every ``interval`` seconds while replies land at random
   moments; for each, the delay from its APPEND completing to the inbound record that ended its
   plan.
4. **Race**: replies land while W workers send automated emails through the reps' mailboxes
   (``outbox_send_due``, which looks in the inbox just before sending); no email may go to a
   lead whose reply was in the mailbox before their row was claimed.

Workers are forked processes, each with its own database connection, so they share the
database through a file or a server. An in-memory SQLite database (the test suite's) cannot be
shared: there the work runs in this process and the replies land from a thread.
"""

from __future__ import annotations

import datetime
import email.utils
import imaplib
import logging
import math
import multiprocessing
import os
import random
import secrets
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from cadence.mailboxes.models import Mailbox

# The benchmark runs the same private Dovecot and SMTP submission server the mailbox tests do:
# they are plain classes with no test framework in them, and a second copy here would drift
# from the servers the suite proves the product against.
from cadence.mailboxes.tests.servers import (
    Account,
    DovecotServer,
    ServerUnavailable,
    SmtpAuthServer,
)
from cadence.messaging.choices import InboundStatus, OutboundStatus
from cadence.messaging.inbound_parse import normalise_message_id
from cadence.messaging.mailbox_sync import mailbox_sync
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.ops.bench.common import setup_line
from cadence.ops.bench.mailboxes_data import (
    Rep,
    Sizes,
    append_all,
    note_from,
    reply,
    seed,
)
from cadence.plans.assignment import strategy_assign
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy

#: Mailboxes whose flags are compared before and after the syncs.
FLAG_SAMPLE = 10
#: A worker of the sync-cost phase says how far it is after this many syncs.
PROGRESS_EVERY = 25

Say = Callable[[str], None]


def mailboxes_bench(*, sizes: Sizes, say: Say) -> None:
    """Run the four phases (module docstring) and ``say`` their figures."""
    _check(sizes)
    label = secrets.token_hex(3)
    dovecot = DovecotServer()
    try:
        dovecot.start()
    except ServerUnavailable as exc:
        raise CommandError(f"The benchmark needs a private Dovecot: {exc}") from exc
    smtp = SmtpAuthServer()
    try:
        with _smtp_quiet():
            smtp.start()
            inline = _inline()
            say(
                f"{setup_line()}; Dovecot on {dovecot.host}:{dovecot.port}; {sizes.mailboxes} "
                f"mailboxes x {sizes.messages} messages; "
                + (
                    "syncing in this process (an in-memory database cannot be shared)."
                    if inline
                    else f"{sizes.workers} worker processes."
                )
            )
            reps = seed(sizes, label=label, dovecot=dovecot, smtp=smtp, say=say)
            _sync_cost(reps, sizes, dovecot=dovecot, inline=inline, say=say)
            _idle_cost(reps, say=say)
            _reply_to_stop(reps, sizes, dovecot=dovecot, inline=inline, say=say)
            _race(reps, sizes, dovecot=dovecot, inline=inline, say=say)
    finally:
        smtp.stop()
        dovecot.stop()


@contextmanager
def _smtp_quiet():
    """aiosmtpd logs every SMTP command of the race at INFO and warns about its own use of a
    deprecated attribute at every login: the figures would drown in it."""
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
            yield
    finally:
        smtp_log.setLevel(level)


def _check(sizes: Sizes) -> None:
    if min(sizes.mailboxes, sizes.messages, sizes.workers, sizes.race_batch) < 1:
        raise CommandError("--mailboxes, --messages, --workers and --race-batch must be >= 1.")
    if sizes.interval <= 0 or sizes.duration <= 0 or sizes.race_seconds <= 0:
        raise CommandError("--interval, --duration and --race-seconds must be positive.")
    if (
        Mailbox.objects.exists()
        or OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).exists()
    ):
        raise CommandError(
            "This database has mailboxes or queued emails already; benchmark on a database of "
            "its own (docs/benchmarks.md)."
        )


def _inline() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


# -- workers ---------------------------------------------------------------------------------


def sync_passes(
    mailbox_ids: list,
    *,
    offset: int,
    start_at: float,
    interval: float | None,
    until: float,
    say: Say | None = None,
) -> Counter:
    """A worker: sync every mailbox, starting at ``offset`` so that workers begin apart; from
    ``start_at`` (epoch seconds) every ``interval`` seconds until ``until``, or once. A mailbox
    another worker synced in this pass is passed over, and one it holds is skipped by the
    claim (``mailbox_claim_sync``). ``say``: a progress line every ``PROGRESS_EVERY`` syncs."""
    totals: Counter = Counter()
    ids = mailbox_ids[offset:] + mailbox_ids[:offset]
    due = start_at
    while True:
        time.sleep(max(0.0, due - time.time()))
        pass_started = timezone.now()
        for mailbox_id in ids:
            mailbox = Mailbox.objects.select_related("user").get(pk=mailbox_id)
            if mailbox.last_sync_at is not None and mailbox.last_sync_at >= pass_started:
                continue
            result = mailbox_sync(mailbox=mailbox)
            totals["syncs"] += not result.skipped
            totals["skipped"] += result.skipped
            totals["errors"] += bool(result.error)
            totals["read"] += result.read
            totals["applied"] += result.applied
            if say is not None and totals["syncs"] and totals["syncs"] % PROGRESS_EVERY == 0:
                say(f"  worker {os.getpid()}: {totals['syncs']} mailboxes synced")
        if interval is None:
            return totals
        due += interval
        if due > until:
            return totals


def send_all(batch_size: int) -> Counter:
    """A worker sending what is due (the outbox takes its rows with a claim)."""
    report = outbox_send_due(batch_size=batch_size)
    return Counter(sent=report.sent, cancelled=report.cancelled, waiting=report.waiting)


def _child(queue, job, kwargs) -> None:
    try:
        queue.put(job(**kwargs))
    except BaseException as exc:
        queue.put(exc)
        raise
    finally:
        connections.close_all()


def run_workers(jobs: list[tuple[Callable, dict]], *, inline: bool, beside=None) -> Counter:
    """Run ``jobs`` (a function and its keyword arguments each) in forked processes at once,
    while ``beside`` (if given) runs in a thread of this process; the sum of their counters.
    ``inline``: one after the other in this process instead, ``beside`` still in a thread."""
    totals: Counter = Counter()
    if inline:
        thread = _started(beside)
        try:
            for job, kwargs in jobs:
                totals.update(job(**kwargs))
        finally:
            if thread is not None:
                thread.join()
        return totals
    # The forked children open their own connections; one inherited from here would be
    # shared by both sides of the fork.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_child, args=(queue, job, kw)) for job, kw in jobs]
    for process in processes:
        process.start()
    # Started after the fork, so that no child inherits the thread's half-done IMAP exchange.
    thread = _started(beside)
    try:
        failure = None
        for _ in processes:
            outcome = queue.get()
            if isinstance(outcome, BaseException):
                failure = failure or outcome
            else:
                totals.update(outcome)
        for process in processes:
            process.join()
        if failure is not None:
            raise CommandError(f"A worker failed: {failure!r}") from failure
    finally:
        if thread is not None:
            thread.join()
    return totals


def _started(work) -> threading.Thread | None:
    if work is None:
        return None
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


# -- phase 1: sync cost ----------------------------------------------------------------------


def _flags(dovecot, reps: list[Rep]) -> dict:
    found = {}
    for rep in reps[:FLAG_SAMPLE]:
        with dovecot.connect(rep.account.username, rep.account.password) as imap:
            imap.select("INBOX", readonly=True)
            _, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        found[rep.account.username] = sorted(part for part in data if part)
    return found


def _sync_cost(reps: list[Rep], sizes: Sizes, *, dovecot, inline: bool, say: Say) -> None:
    before = _flags(dovecot, reps)
    ids = [rep.mailbox.pk for rep in reps]
    workers = 1 if inline else sizes.workers
    say(f"Phase 1: {workers} worker(s) syncing {len(ids)} mailboxes...")
    planted = sum(len(rep.repliers) + len(rep.writers) for rep in reps)
    started = time.perf_counter()
    jobs = [
        (
            sync_passes,
            {
                "mailbox_ids": ids,
                "offset": w * len(ids) // workers,
                "start_at": time.time(),
                "interval": None,
                "until": 0.0,
                "say": say,
            },
        )
        for w in range(workers)
    ]
    totals = run_workers(jobs, inline=inline)
    seconds = time.perf_counter() - started
    inbox = sizes.messages * len(reps)
    say(
        f"Sync cost: {totals['read']} messages read ({inbox} new in the inboxes, the rest in "
        f"Sent) and {totals['applied']} applied in {seconds:.1f} s by {workers} worker(s): "
        f"{inbox / seconds:.0f} inbox messages/s, {seconds * 1000 * workers / len(reps):.0f} "
        f"ms per mailbox and worker ({totals['syncs']} syncs, {totals['skipped']} skipped as "
        f"held, {totals['errors']} failed)"
    )
    applied = InboundMessage.objects.filter(source="mailbox", status=InboundStatus.APPLIED).count()
    stored = InboundMessage.objects.count()
    leads = [c.pk for rep in reps for c, _ in rep.repliers + rep.writers]
    ended = LeadContactPlan.objects.filter(
        contact_id__in=leads, status="Completed", exit_reason="replied"
    ).count()
    unchanged = _flags(dovecot, reps) == before
    say(
        f"  checks: replies planted {planted}, applied once {applied} (records {stored}), "
        f"plans ended {ended}/{len(leads)}, flags unchanged on {len(before)} mailboxes: "
        f"{'yes' if unchanged else 'NO'}"
    )
    if applied != planted or stored != planted or ended != len(leads) or not unchanged:
        raise CommandError("Phase 1 failed its checks (above).")


# -- phase 2: idle sync ----------------------------------------------------------------------


@contextmanager
def imap_counted():
    """Count IMAP connections and the bytes sent and read by every ``imaplib.IMAP4`` (what the
    product's sessions use) for the length of the block, by wrapping its socket methods here
    rather than in the product's code."""
    counts: Counter = Counter()
    cls = imaplib.IMAP4
    saved = {name: getattr(cls, name) for name in ("open", "send", "read", "readline")}

    def opened(self, *args, **kwargs):
        counts["connections"] += 1
        return saved["open"](self, *args, **kwargs)

    def send(self, data):
        counts["sent"] += len(data)
        return saved["send"](self, data)

    def read(self, size):
        data = saved["read"](self, size)
        counts["received"] += len(data)
        return data

    def readline(self):
        data = saved["readline"](self)
        counts["received"] += len(data)
        return data

    cls.open, cls.send, cls.read, cls.readline = opened, send, read, readline
    try:
        yield counts
    finally:
        for name, method in saved.items():
            setattr(cls, name, method)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _idle_cost(reps: list[Rep], *, say: Say) -> None:
    say(f"Phase 2: an idle sync of each of {len(reps)} mailboxes, in this process...")
    times, connections_used, exchanged = [], [], []
    for rep in reps:
        mailbox = Mailbox.objects.select_related("user").get(pk=rep.mailbox.pk)
        with imap_counted() as counts:
            started = time.perf_counter()
            result = mailbox_sync(mailbox=mailbox)
            times.append((time.perf_counter() - started) * 1000)
        if result.read or result.skipped or result.error:
            raise CommandError(f"An idle sync was not idle: {result}")
        connections_used.append(counts["connections"])
        exchanged.append((counts["sent"], counts["received"]))
    sent = sum(s for s, _ in exchanged) / len(exchanged)
    received = sum(r for _, r in exchanged) / len(exchanged)
    say(
        f"Idle sync: p50 {percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
        f"max {max(times):.1f} ms per mailbox; IMAP connections per sync "
        f"{min(connections_used)}-{max(connections_used)}; {sent + received:.0f} bytes a sync "
        f"({sent:.0f} sent, {received:.0f} received; counted at imaplib's send/read)"
    )


# -- phase 3: reply to stop ------------------------------------------------------------------


def _lander(dovecot, planned: list[tuple[float, Account, bytes]], landed: dict):
    """The replies landing: each APPENDed at its moment (epoch seconds); ``landed`` maps its
    Message-ID to when the APPEND completed."""

    def land() -> None:
        for moment, account, raw in planned:
            time.sleep(max(0.0, moment - time.time()))
            append_all(dovecot, account, "INBOX", [raw])
            landed[_message_id(raw)] = time.time()

    return land


def _message_id(raw: bytes) -> str:
    header = raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode()
    return normalise_message_id(header)


def _reply_to_stop(reps: list[Rep], sizes: Sizes, *, dovecot, inline: bool, say: Say) -> None:
    leads = [(rep, contact, row) for rep in reps for contact, row in rep.stoppers]
    if not leads:
        return
    workers = 1 if inline else sizes.workers
    say(
        f"Phase 3: {len(leads)} replies landing at random over {sizes.duration:.0f} s while "
        f"{workers} worker(s) sync every {sizes.interval:g} s...",
    )
    chance = random.Random(3)
    start_at = time.time() + 1
    planned = sorted(
        (start_at + chance.uniform(0, sizes.duration), rep.account, reply(rep, contact, row))
        for rep, contact, row in leads
    )
    landed: dict = {}
    ids = [rep.mailbox.pk for rep in reps]
    until = start_at + sizes.duration + sizes.interval
    jobs = [
        (
            sync_passes,
            {
                "mailbox_ids": ids,
                "offset": w * len(ids) // workers,
                "start_at": start_at,
                "interval": sizes.interval,
                "until": until,
            },
        )
        for w in range(workers)
    ]
    run_workers(jobs, inline=inline, beside=_lander(dovecot, planned, landed))
    applied = {
        record.message_id: record.created_at.timestamp()
        for record in InboundMessage.objects.filter(message_id__in=list(landed))
        if record.status == InboundStatus.APPLIED
    }
    delays = [applied[mid] - at for mid, at in landed.items() if mid in applied]
    ended = LeadContactPlan.objects.filter(
        contact_id__in=[contact.pk for _, contact, _ in leads], exit_reason="replied"
    ).count()
    if not delays:
        raise CommandError("Phase 3: no reply was applied.")
    say(
        f"Reply to stop (interval {sizes.interval:g} s): p50 {percentile(delays, 0.5):.1f} s, "
        f"p95 {percentile(delays, 0.95):.1f} s, max {max(delays):.1f} s over {len(delays)} "
        f"replies; plans ended {ended}/{len(leads)}"
    )
    if ended != len(leads) or len(delays) != len(leads):
        raise CommandError("Phase 3: a reply did not stop its plan.")


# -- phase 4: the race -----------------------------------------------------------------------


def _race(reps: list[Rep], sizes: Sizes, *, dovecot, inline: bool, say: Say) -> None:
    racing = [(rep, contact) for rep in reps for contact, _ in rep.racers]
    if not racing:
        return
    strategy = ContactStrategy.objects.get(created_by=reps[0].user)
    for rep in reps:
        if rep.racers:
            strategy_assign(
                strategy=strategy,
                user=rep.user,
                contacts=[contact for contact, _ in rep.racers],
                plan_start_date=timezone.now() - datetime.timedelta(minutes=1),
            )
    queued = outbox_queue_due(now=timezone.now())
    workers = 1 if inline else sizes.workers
    chance = random.Random(4)
    answering = chance.sample(racing, len(racing) // 2)
    start_at = time.time() + 0.5
    # The window opens a little before the senders start, so that some replies are in the
    # inbox before the first claim and the check before sending must stop them.
    planned = sorted(
        (
            start_at + chance.uniform(-0.2 * sizes.race_seconds, sizes.race_seconds),
            rep.account,
            note_from(rep, contact),
        )
        for rep, contact in answering
    )
    landed: dict = {}
    by_id = {_message_id(raw): _to(raw) for _, _, raw in planned}
    senders = len({rep.user.pk for rep, _ in racing})
    say(
        f"Phase 4: {queued} automated emails queued to leads of {senders} reps; {workers} "
        f"worker(s) send them in batches of {sizes.race_batch} while {len(planned)} of the "
        f"leads reply over about {sizes.race_seconds:g} s..."
    )

    def wait_then_send() -> Counter:
        time.sleep(max(0.0, start_at - time.time()))
        return send_all(sizes.race_batch)

    jobs = [(wait_then_send, {}) for _ in range(workers)]
    totals = run_workers(jobs, inline=inline, beside=_lander(dovecot, planned, landed))
    rows = {
        row.contact.email: row
        for row in OutboundMessage.objects.filter(
            contact_id__in=[contact.pk for _, contact in racing]
        ).select_related("contact")
    }
    before_claim = after_claim = violations = 0
    for message_id, at in landed.items():
        row = rows[by_id[message_id]]
        claimed = row.claimed_at.timestamp() if row.claimed_at else math.inf
        if at < claimed:
            before_claim += 1
            violations += row.status == OutboundStatus.SENT
        else:
            after_claim += 1
    say(
        f"Race: {totals['sent']} sent, {totals['cancelled']} stopped by a reply, "
        f"{totals['waiting']} waiting; replies in the mailbox before their row's claim "
        f"{before_claim}, after it {after_claim}; automated emails sent to a lead whose reply "
        f"was in the mailbox before the claim: {violations} (target 0)"
    )
    if violations:
        raise CommandError("Phase 4: an email went to a lead who had replied.")


def _to(raw: bytes) -> str:
    sender = raw.split(b"From: ", 1)[1].split(b"\r\n", 1)[0].decode()
    return email.utils.parseaddr(sender)[1]
