"""``manage.py generate_history``: a seeded synthetic activity history with planted effects, to
try and to prove the history analysis (see ``cadence/ops/bench/history.py`` and
``docs/suggestions.md``)."""

from __future__ import annotations

import argparse
import time

from django.core.management.base import CommandError, CommandParser

from cadence.core.cli import number, whole_number
from cadence.ops.bench import history
from cadence.ops.bench.common import BenchCommand, add_seed_option


def _effect(value: str) -> history.PlantedEffect:
    try:
        return history.PlantedEffect.parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class Command(BenchCommand):
    help = (
        "Generate a synthetic activity history (one contact per company, all owned by the "
        "'history-generator' user) with planted effects on response rates: the default set "
        "unless --effect or --no-effects. Seeded: the same options make the same history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_seed_option(parser, help="Random seed (default 1).")
        parser.add_argument(
            "--contacts",
            type=whole_number(),
            default=history.DEFAULT_CONTACTS,
            help=f"Leads to generate (default {history.DEFAULT_CONTACTS:,}).",
        )
        parser.add_argument(
            "--touches",
            type=whole_number(),
            default=history.DEFAULT_TOUCHES,
            help=f"Next touches per lead at most, after the first email "
            f"(default {history.DEFAULT_TOUCHES}).",
        )
        parser.add_argument(
            "--effect",
            type=_effect,
            action="append",
            default=[],
            help="A planted effect, repeatable: "
            "'industry|band|prev channel:prev outcome|channel|bucket|multiplier', * for any, "
            "e.g. 'Technology|*|Email:Sent|LinkedIn Message|3-5|2.4'.",
        )
        parser.add_argument(
            "--no-effects", action="store_true", help="Plant no effect (effect-free history)."
        )
        parser.add_argument(
            "--base-rate",
            type=number(lambda x: 0 <= x <= 1, "between 0 and 1"),
            default=history.DEFAULT_BASE_RATE,
            help=f"Response rate of a touch without effects (default {history.DEFAULT_BASE_RATE}).",
        )
        parser.add_argument(
            "--clear",
            action="store_true",
            help="First delete everything generated earlier (the generator user's data).",
        )

    def handle(self, *args, **options) -> None:
        if options["no_effects"] and options["effect"]:
            raise CommandError("--no-effects and --effect exclude each other.")
        if options["clear"]:
            deleted = history.history_clear(progress=self.say)
            self.say(
                "Deleted {activities:,} activities, {contacts:,} contacts and "
                "{companies:,} companies generated earlier.".format(**deleted)
            )
        if options["no_effects"]:
            effects: tuple[history.PlantedEffect, ...] = ()
        else:
            effects = tuple(options["effect"]) or history.DEFAULT_EFFECTS
        self.say(
            f"Generating {options['contacts']:,} leads (seed {options['seed']}, up to "
            f"{options['touches']} next touches, base rate {options['base_rate']:g}) with "
            + (f"{len(effects)} planted effect(s):" if effects else "no planted effect.")
        )
        for effect in effects:
            self.say(f"  {effect}")
        started = time.perf_counter()
        try:
            made = history.history_generate(
                seed=options["seed"],
                contacts=options["contacts"],
                effects=effects,
                base_rate=options["base_rate"],
                touches=options["touches"],
                progress=self.say,
            )
        except history.HistoryExists as error:
            raise CommandError(f"{error} Use --clear, or another --seed.") from error
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.say(
            "Made {companies:,} companies, {contacts:,} contacts and {activities:,} activities "
            "({touches:,} outbound touches, {responses:,} responses)".format(**made)
            + f" in {time.perf_counter() - started:.1f} s."
        )
