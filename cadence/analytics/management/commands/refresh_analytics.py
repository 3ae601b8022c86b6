"""``manage.py refresh_analytics [--rebuild]``: bring the report rollups up to date now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from cadence.analytics.rollups import ROLLUPS, rollups_refresh


class Command(BaseCommand):
    help = (
        "Refresh the analytics rollups (the days touched since the last refresh), or rebuild "
        "them from every step result with --rebuild. Celery beat does this on its own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Recount everything, not only touched days."
        )

    def handle(self, *args, rebuild: bool = False, **options) -> None:
        names = ", ".join(rollup.name for rollup in ROLLUPS)
        self.stdout.write(f"Refreshing the rollups ({names})...")
        for summary in rollups_refresh(rebuild=rebuild):
            self.stdout.write(str(summary))
