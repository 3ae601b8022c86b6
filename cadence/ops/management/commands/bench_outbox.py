"""``manage.py bench_outbox``: how fast one worker sends automated email to a local SMTP server,
beside a plain smtplib loop sending the same prepared messages (``cadence.ops.bench.outbox``,
docs/benchmarks.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from cadence.ops.bench.outbox import outbox_bench


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
        outbox_bench(
            messages=messages,
            repeat=repeat,
            batch_size=batch_size,
            phases=phases,
            say=self.stdout.write,
        )
