"""``manage.py bench_pages``: how long the web pages take on a database full of plans
(``cadence.ops.bench.pages``; seed it first with ``bench_scheduler --plans N --keep``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from cadence.ops.bench.pages import pages_bench


class Command(BaseCommand):
    help = "Time the main web pages for the benchmark's manager and a rep (after bench_scheduler)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=5, help="Timed requests per page.")

    def handle(self, *args, repeat: int, **options) -> None:
        pages_bench(repeat=repeat, say=self.stdout.write)
