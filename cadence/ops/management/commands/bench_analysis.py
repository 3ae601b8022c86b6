"""``manage.py bench_analysis``: time the history analysis and measure its memory over a
generated history of N activities, at several sizes (``cadence.ops.bench.analysis``,
``docs/benchmarks.md``)."""

from __future__ import annotations

from django.core.management.base import CommandParser

from cadence.ops.bench.analysis import analysis_bench
from cadence.ops.bench.common import BenchCommand, add_keep_and_force_options, add_sizes_option


class Command(BenchCommand):
    help = (
        "Benchmark the history analysis: generate a synthetic history (generate_history's "
        "default effects) up to each of --sizes activities, and at each size time one "
        "history_analyze run and measure its peak memory (process RSS, and the tracemalloc "
        "peak of Python allocations in a second, untimed run). Needs a database of its own: "
        "refuses one holding other activities unless --force; removes what it made unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_sizes_option(
            parser,
            default=[100_000, 1_000_000],
            help="Comma-separated activity counts (default 100000,1000000).",
        )
        add_keep_and_force_options(
            parser,
            kept="generated history",
            force="Run even though the database holds other activities (they are analysed too).",
        )

    def handle(self, *args, sizes: list[int], keep: bool, force: bool, **options) -> None:
        analysis_bench(sizes=sizes, keep=keep, force=force, say=self.say)
