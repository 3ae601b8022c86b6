"""CSV files for spreadsheets: every CSV Cadence writes goes through ``csv_writer``.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or
a carriage return) as a formula, so a strategy named ``=HYPERLINK("https://evil.example")``
would become a live link, or worse, in the manager who opens the export. Following OWASP's
advice, such a text cell is written with a single quote in front, which spreadsheets show as
text. Numbers are left alone: ``-3`` written as a number stays a number.
"""

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs: text starting like a formula gets a
    leading ``'``; numbers and ``None`` (an empty cell) pass as they are."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_cell_read(text: str) -> str:
    """The text a cell written by ``csv_cell`` stood for, for showing a CSV Cadence wrote back on
    a page. (A text that really began with ``'`` and then a formula character loses its quote:
    no value Cadence writes does.)"""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class SafeCsvWriter:
    """A ``csv.writer`` whose every cell goes through ``csv_cell``."""

    def __init__(self, handle, **options) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle, **options) -> SafeCsvWriter:
    """A CSV writer on ``handle`` (as ``csv.writer``, same options) that neutralises formulas."""
    return SafeCsvWriter(handle, **options)
