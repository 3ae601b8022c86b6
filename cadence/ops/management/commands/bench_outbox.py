"""``manage.py bench_outbox``: how fast one worker sends automated email to a local SMTP server,
beside a plain smtplib loop sending the same prepared messages (docs/benchmarks.md)."""

from __future__ import annotations

import contextlib
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

from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings

from cadence.messaging import outbox
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.messaging.outbox import outbox_send_due
from cadence.ops.outbox_load import seed_outbox


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


class Command(BaseCommand):
    help = (
        "Benchmark sending: queue --messages automated emails, time one worker sending them "
        "(outbox_send_due) to a local SMTP server (aiosmtpd, in its own process), then time a "
        "plain smtplib loop sending the same messages, prepared beforehand, to the same server. "
        "Prints both rates and their ratio; --repeat runs it several times on fresh workloads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=2000, help="Emails per run.")
        parser.add_argument("--repeat", type=int, default=3, help="Runs (default 3).")
        parser.add_argument("--batch-size", type=int, default=50, help="Outbox claim size.")
        parser.add_argument(
            "--phases",
            action="store_true",
            help="Also print the time per message of each phase of sending (adds a little).",
        )

    def handle(
        self, *args, messages: int, repeat: int, batch_size: int, phases: bool, **options
    ) -> None:
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
            self._wait_for(port)
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
            self.stdout.write(
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
                plain_rates.append(self._plain_loop(port, user_id=workload.user_id))
                self.stdout.write(
                    f"Run {run}: outbox {outbox_rates[-1]:.0f} msg/s "
                    f"({report.sent} in {seconds:.2f} s); plain smtplib {plain_rates[-1]:.0f} "
                    f"msg/s; ratio {outbox_rates[-1] / plain_rates[-1]:.2f}"
                )
                if phases:
                    for name, total in timers.totals.most_common():
                        self.stdout.write(f"  {name:<28} {total * 1000 / report.sent:.3f} ms/msg")
        finally:
            if pointed is not None:
                pointed.disable()
            server.terminate()
            server.wait()
        outbox, plain = statistics.median(outbox_rates), statistics.median(plain_rates)
        self.stdout.write(
            f"Median: outbox {outbox:.0f} msg/s, plain smtplib {plain:.0f} msg/s, "
            f"ratio {outbox / plain:.2f} (targets: >= 100 msg/s, ratio >= 0.5)"
        )

    def _wait_for(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise CommandError("The SMTP sink did not start.")

    def _plain_loop(self, port: int, *, user_id) -> float:
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
