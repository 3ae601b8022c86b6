"""The sending benchmark behind ``manage.py bench_outbox`` and its workload (``seed_outbox``,
also the fault test's; see docs/benchmarks.md).

The workload: one sender, an approved strategy whose first step is an automated email, and N
contacts whose email is due now. The benchmark: how fast one worker sends it to a local SMTP
server, beside a plain smtplib loop sending the same prepared messages.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import smtplib
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import EmailMessage, get_connection
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from cadence.accounts.models import User
from cadence.crm.models import Company, Contact
from cadence.messaging import outbox
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.plans.assignment import strategy_assign
from cadence.strategies.models import ContactStrategy, StrategyStep

USERNAME = "outbox-load"
CONTACTS_PER_COMPANY = 10


@dataclass(frozen=True)
class Workload:
    user_id: object
    queued: int
    seconds: float


def seed_outbox(*, messages: int, label: str = "", log=print) -> Workload:
    """Queue ``messages`` automated emails, due now, from a new sender (named by ``label``) to
    new contacts spread over many recipient domains, so no per-domain limit is in the way."""
    started = timezone.now()
    username = f"{USERNAME}-{label}" if label else USERNAME
    if User.objects.filter(username=username).exists():
        raise ValueError(f"This database holds the workload {username!r} already.")
    tag = f"{label}-" if label else ""
    with transaction.atomic():
        user = User.objects.create_user(
            username,
            email="load@sender.example",
            password=None,
            display_name="Load Sender",
            signature="-- Load Sender",
            time_zone="UTC",
        )
        Sender.objects.create(
            user=user,
            ramp_started_on=datetime.date(2000, 1, 1),
            daily_limit=10_000_000,
            hourly_limit=10_000_000,
            postal_address="Cadence Load Test, 1 Bench Street, Testville",
        )
        strategy = ContactStrategy.objects.create(
            name=f"Outbox load {label}".strip(), created_by=user, automation_approved_at=started
        )
        StrategyStep.objects.create(
            strategy=strategy,
            step_number=1,
            delay_days=0,
            activity_type="Email",
            is_automated=True,
            subject_template="A question for {{ company.name }}, {{ contact.first_name }}",
            description_template=(
                "Hi {{ contact.first_name }},\n\nI noticed {{ company.name }} is growing its "
                "{{ contact.title | default('sales') }} team. Would a short call next week "
                "help?\n\n{{ user.signature }}"
            ),
        )
        StrategyStep.objects.create(
            strategy=strategy, step_number=2, delay_days=3, activity_type="Call"
        )
        companies = Company.objects.bulk_create(
            Company(
                name=f"Load Co {tag}{n}",
                domain=f"{tag}load{n}.example",
                owner=user,
                time_zone="UTC",
            )
            for n in range(-(-messages // CONTACTS_PER_COMPANY))
        )
        contacts = Contact.objects.bulk_create(
            Contact(
                company=companies[n // CONTACTS_PER_COMPANY],
                first_name=f"Lead{n}",
                last_name="Load",
                email=f"lead{n}@{tag}load{n // CONTACTS_PER_COMPANY}.example",
                title="Head of Sales",
                owner=user,
                time_zone="UTC",
            )
            for n in range(messages)
        )
    log(f"Seeded {messages} contacts; enrolling them...")
    strategy_assign(
        strategy=strategy,
        user=user,
        contacts=contacts,
        plan_start_date=started - datetime.timedelta(minutes=1),
    )
    queued = outbox_queue_due(now=timezone.now())
    seconds = (timezone.now() - started).total_seconds()
    log(f"Queued {queued} automated emails in {seconds:.1f} s.")
    return Workload(
        user_id=user.pk,
        queued=OutboundMessage.objects.filter(status=OutboundStatus.QUEUED, user=user).count(),
        seconds=seconds,
    )


class _PhaseTimers:
    """Wraps the outbox's phases with timers for the length of a run, then puts them back."""

    PHASES = {
        "claim": "_claim",
        "prepare (checks, render, limits)": "_prepare",
        "hand-off and SMTP exchange": "_hand_over",
        "record (row, activity, plan)": "_record",
    }

    def __init__(self):
        self.totals: Counter = Counter()
        self._saved: dict = {}

    def __enter__(self):
        for label, name in self.PHASES.items():
            original = self._saved[name] = getattr(outbox, name)
            setattr(outbox, name, self._timed(label, original))
        return self

    def __exit__(self, *exc):
        for name, original in self._saved.items():
            setattr(outbox, name, original)

    def _timed(self, label, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.totals[label] += time.perf_counter() - started

        return timed


def outbox_bench(
    *, messages: int, repeat: int, batch_size: int, phases: bool, say: Callable[[str], None]
) -> None:
    """Queue ``messages`` automated emails, time one worker sending them (``outbox_send_due``)
    to a local SMTP server (aiosmtpd, in its own process), then time a plain smtplib loop
    sending the same messages, prepared beforehand, to the same server; ``repeat`` times on
    fresh workloads. ``say`` both rates, their ratio, and the medians."""
    if messages < 1 or repeat < 1 or batch_size < 1:
        raise CommandError("--messages, --repeat and --batch-size must be at least 1.")
    if OutboundMessage.objects.filter(status=OutboundStatus.QUEUED).exists():
        raise CommandError(
            "The database has queued emails already; benchmark on a database of its own."
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pointed = None
    try:
        _wait_for(port)
        pointed = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        )
        pointed.enable()
        say(
            f"Database {connection.vendor}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs; SMTP sink on 127.0.0.1:{port}; {messages} messages a run."
        )
        outbox_rates, plain_rates = [], []
        for run in range(1, repeat + 1):
            workload = seed_outbox(
                messages=messages, label=uuid.uuid4().hex[:8], log=lambda _: None
            )
            timers = _PhaseTimers() if phases else contextlib.nullcontext()
            with timers:
                started = time.perf_counter()
                report = outbox_send_due(batch_size=batch_size)
                seconds = time.perf_counter() - started
            if report.sent != workload.queued:
                raise CommandError(f"Run {run}: sent {report.sent} of {workload.queued}.")
            outbox_rates.append(report.sent / seconds)
            plain_rates.append(_plain_loop(port, user_id=workload.user_id))
            say(
                f"Run {run}: outbox {outbox_rates[-1]:.0f} msg/s "
                f"({report.sent} in {seconds:.2f} s); plain smtplib {plain_rates[-1]:.0f} "
                f"msg/s; ratio {outbox_rates[-1] / plain_rates[-1]:.2f}"
            )
            if phases:
                for name, total in timers.totals.most_common():
                    say(f"  {name:<28} {total * 1000 / report.sent:.3f} ms/msg")
    finally:
        if pointed is not None:
            pointed.disable()
        server.terminate()
        server.wait()
    outbox_rate, plain_rate = statistics.median(outbox_rates), statistics.median(plain_rates)
    say(
        f"Median: outbox {outbox_rate:.0f} msg/s, plain smtplib {plain_rate:.0f} msg/s, "
        f"ratio {outbox_rate / plain_rate:.2f} (targets: >= 100 msg/s, ratio >= 0.5)"
    )


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError("The SMTP sink did not start.")


def _plain_loop(port: int, *, user_id) -> float:
    """The same messages (as sent: headers, subject, body), serialized beforehand, sent on
    one smtplib connection: the floor of what sending over SMTP costs."""
    rows = OutboundMessage.objects.filter(user_id=user_id, status=OutboundStatus.SENT)
    prepared = []
    for row in rows.select_related("user").order_by("sent_at"):
        message = EmailMessage(
            subject=row.subject,
            body=row.body,
            from_email=row.user.email,
            to=[row.to_email],
            headers={"Message-ID": row.message_id, "X-Cadence-Outbox": str(row.pk)},
            connection=get_connection(),
        )
        prepared.append((row.user.email, [row.to_email], message.message().as_bytes()))
    smtp = smtplib.SMTP("127.0.0.1", port)
    try:
        started = time.perf_counter()
        for sender, recipients, data in prepared:
            smtp.sendmail(sender, recipients, data)
        seconds = time.perf_counter() - started
    finally:
        smtp.quit()
    return len(prepared) / seconds
