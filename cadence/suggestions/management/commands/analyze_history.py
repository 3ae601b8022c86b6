"""``manage.py analyze_history``: run the history analysis now and print its findings."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadence.core.cli import count, number, whole_number
from cadence.suggestions import stats
from cadence.suggestions.analysis import DEFAULT_RESPONSE_DAYS, history_analyze


class Command(BaseCommand):
    help = (
        "Analyse the activity history: for each lead profile (industry, size band, previous "
        "touch) compare the response rate of each next touch (channel and delay) with the "
        "profile's baseline, control the false discovery rate, and store the findings as a new "
        "analysis run. See docs/suggestions.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--min-n",
            type=count,
            default=stats.DEFAULT_MIN_N,
            help=f"Touches a cell and its baseline need to be compared "
            f"(default {stats.DEFAULT_MIN_N}).",
        )
        parser.add_argument(
            "--q",
            type=number(lambda x: 0 < x < 1, "between 0 and 1"),
            default=stats.DEFAULT_Q,
            help=f"False discovery rate, Benjamini-Hochberg (default {stats.DEFAULT_Q}).",
        )
        parser.add_argument(
            "--min-ratio",
            type=number(lambda x: x > 1, "greater than 1"),
            default=stats.DEFAULT_MIN_RATIO,
            help=f"Smallest ratio of rates worth a finding, its inverse for fewer responses "
            f"(default {stats.DEFAULT_MIN_RATIO}).",
        )
        parser.add_argument(
            "--response-days",
            type=whole_number(),
            default=DEFAULT_RESPONSE_DAYS,
            help=f"Days within which an inbound activity answers a touch "
            f"(default {DEFAULT_RESPONSE_DAYS}).",
        )

    def handle(self, *args, **options) -> None:
        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            run = history_analyze(
                min_n=options["min_n"],
                q=options["q"],
                min_ratio=options["min_ratio"],
                response_days=options["response_days"],
                progress=say,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        except Exception as error:
            raise CommandError(
                f"The analysis failed (recorded as a failed run): {error}"
            ) from error
        self.stdout.write(f"Done in {run.seconds:.1f} s.")
        for finding in run.findings.order_by("-ratio"):
            self.stdout.write(f"- {finding.sentence}")
