"""``manage.py bench_mailboxes``: what reading the reps' own mailboxes costs, and how soon a
reply stops its plan (``cadence.ops.bench.mailboxes``, docs/benchmarks.md)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from cadence.core.cli import number, whole_number
from cadence.ops.bench.common import BenchCommand
from cadence.ops.bench.mailboxes import Sizes, mailboxes_bench

seconds = number(lambda value: value > 0, "a positive number of seconds")


class Command(BenchCommand):
    help = (
        "Benchmark the mailbox sync on a private Dovecot: M mailboxes with K new messages each "
        "synced by W worker processes (time, messages/s, each reply applied once, no flag "
        "changed); an idle sync per mailbox (ms, IMAP connections, bytes); the delay from a "
        "reply landing to its plan ending while syncs run every --interval seconds; and replies "
        "racing the outbox's sends (none may go to a lead who had replied before the claim)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        positive = whole_number(minimum=1)
        parser.add_argument("--mailboxes", type=positive, default=200, help="M (default 200).")
        parser.add_argument(
            "--messages", type=positive, default=50, help="K new messages per inbox (50)."
        )
        parser.add_argument("--workers", type=positive, default=2, help="W processes (2).")
        parser.add_argument(
            "--interval", type=seconds, default=60.0, help="Seconds between syncs (60)."
        )
        parser.add_argument(
            "--duration",
            type=seconds,
            default=180.0,
            help="Seconds over which the reply-to-stop replies land (180).",
        )
        parser.add_argument(
            "--stop-replies",
            type=whole_number(),
            default=40,
            help="Replies landing during the reply-to-stop phase (40; 0 skips it).",
        )
        parser.add_argument(
            "--race-leads",
            type=whole_number(),
            default=200,
            help="Leads whose email is sent while half of them reply (200; 0 skips the race).",
        )
        parser.add_argument(
            "--race-seconds",
            type=seconds,
            default=3.0,
            help="Seconds over which the racing replies land (3).",
        )
        parser.add_argument(
            "--race-batch", type=positive, default=10, help="Outbox claim size in the race (10)."
        )

    def handle(self, *args, **options) -> None:
        mailboxes_bench(
            sizes=Sizes(
                mailboxes=options["mailboxes"],
                messages=options["messages"],
                workers=options["workers"],
                interval=options["interval"],
                duration=options["duration"],
                stop_replies=options["stop_replies"],
                race_leads=options["race_leads"],
                race_seconds=options["race_seconds"],
                race_batch=options["race_batch"],
            ),
            say=self.say,
        )
