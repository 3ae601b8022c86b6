"""``manage.py seed_outbox --messages N``: queue N automated emails due now (for the outbox
benchmark and the fault test; ``cadence.ops.bench.outbox``, docs/benchmarks.md)."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadence.ops.bench.outbox import seed_outbox


class Command(BaseCommand):
    help = (
        "Queue --messages automated emails, due now, from one sender to as many contacts. For "
        "a database of its own: it refuses one that holds a workload already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, required=True, help="Emails to queue.")

    def handle(self, *args, messages: int, **options) -> None:
        if messages < 1:
            raise CommandError("--messages must be at least 1.")
        try:
            seed_outbox(messages=messages, log=self.stdout.write)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
