"""The mailbox benchmark runs end to end, small, on a private Dovecot and prints its figures.

Its workers are forked processes on PostgreSQL, so the data must be committed for them to see
it (``transaction=True``); on the suite's in-memory SQLite the benchmark syncs in this process.
"""

import io
import os
import re

import pytest
from django.core.management import CommandError, call_command

from cadence.mailboxes.models import Mailbox
from cadence.messaging.models import InboundMessage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

SMALL = [
    "--mailboxes", "3",
    "--messages", "6",
    "--workers", "2",
    "--interval", "1",
    "--duration", "2",
    "--stop-replies", "3",
    "--race-leads", "6",
    "--race-seconds", "1",
    "--race-batch", "2",
]  # fmt: skip


def _run(*args) -> list[str]:
    out = io.StringIO()
    try:
        call_command("bench_mailboxes", *args, stdout=out)
    except CommandError as error:
        if "needs a private Dovecot" not in str(error):
            raise
        if os.environ.get("CADENCE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{error}\nCADENCE_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
        pytest.skip(str(error))
    return out.getvalue().splitlines()


def _line(lines: list[str], start: str) -> str:
    [found] = [line for line in lines if line.startswith(start)]
    return found


def test_bench_mailboxes_prints_every_figure_and_passes_its_checks():
    lines = _run(*SMALL)

    assert re.search(r"in [\d.]+ s by \d worker\(s\): \d+ inbox messages/s", _line(lines, "Sync"))
    checks = _line(lines, "  checks:")
    # 3 inboxes x (one threaded reply + no note: 6 // 10 is 0) planted and applied once.
    assert "replies planted 3, applied once 3 (records 3), plans ended 3/3" in checks
    assert checks.endswith("flags unchanged on 3 mailboxes: yes")
    idle = _line(lines, "Idle sync:")
    assert re.search(r"p50 [\d.]+ ms, p95 [\d.]+ ms", idle)
    assert "IMAP connections per sync 1-1" in idle
    stop = _line(lines, "Reply to stop")
    assert re.search(r"p95 [\d.]+ s, max [\d.]+ s over 3 replies; plans ended 3/3", stop)
    race = _line(lines, "Race:")
    assert race.endswith("was in the mailbox before the claim: 0 (target 0)")
    # The 3 replies of phase 1 and 3 of phase 3; the race's replies are applied by the look
    # before sending (each once) or wait for the next sync.
    assert InboundMessage.objects.filter(source="mailbox", status="applied").count() >= 6
    assert Mailbox.objects.count() == 3


def test_bench_mailboxes_refuses_a_database_with_mailboxes():
    _run(*SMALL[:4], "--stop-replies", "0", "--race-leads", "0")

    with pytest.raises(CommandError, match="mailboxes or queued emails already"):
        call_command("bench_mailboxes", *SMALL, stdout=io.StringIO())
