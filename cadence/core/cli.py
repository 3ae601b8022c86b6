"""Argument types for management commands: numbers with bounds, checked when parsed, so a bad
value is a one-line usage error naming the option rather than a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(*, minimum: int = 0) -> Callable[[str], int]:
    """A whole number of at least ``minimum``; ``1_000_000`` and ``1,000,000`` are accepted."""

    def parse(value: str) -> int:
        try:
            number = int(value.strip().replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(
                "must not be negative" if minimum == 0 else f"must be at least {minimum}"
            )
        return number

    return parse


def whole_numbers(*, minimum: int = 1) -> Callable[[str], list[int]]:
    """A comma-separated list of whole numbers of at least ``minimum``, sorted, each once."""
    one = whole_number(minimum=minimum)

    def parse(value: str) -> list[int]:
        numbers = sorted({one(part) for part in value.split(",") if part.strip()})
        if not numbers:
            raise argparse.ArgumentTypeError("give at least one number")
        return numbers

    return parse


def number(valid: Callable[[float], bool], requirement: str) -> Callable[[str], float]:
    """A number for which ``valid`` holds; ``requirement`` says which, e.g. "between 0 and 1"."""

    def parse(value: str) -> float:
        try:
            parsed = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not valid(parsed):
            raise argparse.ArgumentTypeError(f"must be {requirement}")
        return parsed

    return parse


#: The most common kind: a count of at least 1.
count = whole_number(minimum=1)
