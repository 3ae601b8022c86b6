"""The CSV writer every export uses: text a spreadsheet would run as a formula gets a leading
quote (OWASP's advice), numbers stay numbers, and the page that shows a written CSV back can
recover the text."""

import csv
import datetime
import io
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cadence.core.csv_export import FORMULA_STARTS, csv_cell, csv_cell_read, csv_writer


def written(*rows) -> list[list[str]]:
    out = io.StringIO()
    csv_writer(out).writerows(rows)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("https://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"],
)
def test_text_starting_like_a_formula_gets_a_leading_quote(text):
    assert written([text]) == [["'" + text]]


@pytest.mark.parametrize("value", [-3, -2.5, Decimal("-1.25"), 0, 7, True])
def test_numbers_stay_numbers_even_when_negative(value):
    assert written([value]) == [[str(value)]]


def test_plain_values_are_written_as_csv_writes_them():
    day = datetime.date(2025, 1, 6)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert written(["Ada", None, day, key, "a=b", "x-y"], []) == [
        ["Ada", "", "2025-01-06", str(key), "a=b", "x-y"],
        [],
    ]


def test_a_non_text_value_that_prints_like_a_formula_is_neutralised_too():
    class Named:
        def __str__(self) -> str:
            return "=1+1"

    assert written([Named()]) == [["'=1+1"]]


@given(st.text())
def test_no_written_text_cell_starts_a_formula_and_the_text_reads_back(text):
    cell = csv_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    if not (text.startswith("'") and text[1:].startswith(FORMULA_STARTS)):
        assert csv_cell_read(cell) == text
