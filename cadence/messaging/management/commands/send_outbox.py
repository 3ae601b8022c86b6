import time

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cadence.messaging.outbox import outbox_send_due


class Command(BaseCommand):
    help = (
        "Send the queued automated emails that are due. With --once, send what is due now and "
        "exit; otherwise keep sending, looking again every --interval seconds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between looks (default 5)."
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Handle at most this many emails a round."
        )
        parser.add_argument(
            "--batch-size", type=int, default=50, help="Emails claimed at a time (default 50)."
        )

    def handle(self, *args, once: bool, interval: float, limit, batch_size: int, **options):
        if limit is not None and limit < 1:
            self.stderr.write(self.style.ERROR("--limit must be at least 1."))
            raise SystemExit(2)
        if batch_size < 1:
            self.stderr.write(self.style.ERROR("--batch-size must be at least 1."))
            raise SystemExit(2)
        while True:
            report = outbox_send_due(limit=limit, batch_size=batch_size)
            if options["verbosity"] > 1:
                for line in report.lines:
                    self.stdout.write(f"  {line}")
            if once or report.handled or report.waiting or report.requeued:
                self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {report}")
            if once:
                return
            if not report.handled:
                time.sleep(interval)
