import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cadence.messaging.mailbox_sync import mailboxes_sync_all


class Command(BaseCommand):
    help = (
        "Read the connected mailboxes' new messages and apply the replies, out-of-office "
        "answers and bounces among them. With --once, one round, then exit; otherwise a round "
        "every CADENCE_MAILBOX_SYNC_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One round, then exit.")

    def handle(self, *args, once: bool, **options):
        while True:
            results = mailboxes_sync_all()
            for result in results:
                if result.skipped:
                    line = "busy (another sync holds it) or broken"
                elif result.error:
                    line = f"failed: {result.error}"
                else:
                    line = (
                        f"{result.read} new message(s), {result.applied} about leads, "
                        f"{result.logged} sent by hand logged"
                    )
                self.stdout.write(f"  mailbox {result.mailbox_id}: {line}")
            self.stdout.write(
                f"{timezone.now():%Y-%m-%d %H:%M:%S} {len(results)} mailbox(es) synced"
            )
            if once:
                return
            time.sleep(settings.CADENCE_MAILBOX_SYNC_SECONDS)
