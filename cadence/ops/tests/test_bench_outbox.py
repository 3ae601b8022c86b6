"""The sending benchmark runs end to end on a small workload and prints its figures."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from cadence.messaging.models import OutboundMessage

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]


def test_bench_outbox_sends_its_workload_and_prints_both_rates():
    out = io.StringIO()

    call_command("bench_outbox", "--messages", "30", "--repeat", "2", "--phases", stdout=out)

    lines = out.getvalue().splitlines()
    assert len([line for line in lines if line.startswith("Run ")]) == 2
    assert re.match(
        r"Median: outbox \d+ msg/s, plain smtplib \d+ msg/s, ratio \d\.\d\d", lines[-1]
    ), lines[-1]
    assert OutboundMessage.objects.filter(status="sent").count() == 60
    assert any("record (row, activity, plan)" in line for line in lines)


def test_bench_outbox_refuses_a_database_with_queued_mail():
    call_command("seed_outbox", "--messages", "3", stdout=io.StringIO())

    with pytest.raises(CommandError, match="queued emails already"):
        call_command("bench_outbox", "--messages", "3", stdout=io.StringIO())


def test_seed_outbox_refuses_a_second_workload_and_bad_counts():
    call_command("seed_outbox", "--messages", "2", stdout=io.StringIO())

    with pytest.raises(CommandError, match="already"):
        call_command("seed_outbox", "--messages", "2", stdout=io.StringIO())
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_outbox", "--messages", "0", stdout=io.StringIO())
