"""The argument types the management commands share."""

import argparse

import pytest
from django.core.management import CommandError, call_command

from cadence.core.cli import count, number, whole_number, whole_numbers


def test_whole_numbers_accept_separators_and_check_the_minimum():
    assert count("1,000,000") == count("1_000_000") == 1_000_000
    assert whole_number()("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1"):
        count("0")
    with pytest.raises(argparse.ArgumentTypeError, match="must not be negative"):
        whole_number()("-1")
    with pytest.raises(argparse.ArgumentTypeError, match="'ten' is not a whole number"):
        count("ten")


def test_lists_are_sorted_once_each_and_not_empty():
    assert whole_numbers()("50000, 10000,50000") == [10000, 50000]
    with pytest.raises(argparse.ArgumentTypeError, match="at least one"):
        whole_numbers()(" , ")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1"):
        whole_numbers()("10,0")


def test_numbers_say_what_they_must_be():
    fraction = number(lambda x: 0 < x < 1, "between 0 and 1")
    assert fraction("0.25") == 0.25
    with pytest.raises(argparse.ArgumentTypeError, match="must be between 0 and 1"):
        fraction("1")
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not a number"):
        fraction("x")


def test_a_command_refuses_a_bad_value_with_a_usage_error():
    with pytest.raises(CommandError, match="--plans: must be at least 1"):
        call_command("bench_analytics", "--plans", "0")
