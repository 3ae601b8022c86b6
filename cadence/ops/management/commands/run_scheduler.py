import datetime
import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cadence.ops.scheduler import scheduler_pass


class Command(BaseCommand):
    help = (
        "Run the scheduler pass: create the reminders of due plan steps and deliver due "
        "reminders. With --once, one pass; otherwise a pass every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between passes (default 60)."
        )
        parser.add_argument(
            "--now", help="Pretend the time is this ISO 8601 instant (for catching up or tests)."
        )

    def handle(self, *args, once: bool, interval: float, now: str | None, **options) -> None:
        at = None
        if now:
            try:
                at = parse_datetime(now)
            except ValueError:  # well formed but no such date or time, e.g. 2025-02-30
                at = None
            if at is None:
                self.stderr.write(self.style.ERROR(f"--now: not an ISO 8601 date-time: {now}"))
                raise SystemExit(2)
            if timezone.is_naive(at):
                at = timezone.make_aware(at, datetime.UTC)
        while True:
            result = scheduler_pass(now=at)
            self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {result}")
            if once:
                return
            time.sleep(interval)
