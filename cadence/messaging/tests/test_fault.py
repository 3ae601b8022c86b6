"""Killing the sender: real ``send_outbox`` worker processes, sending a batch of due steps to a
real SMTP server, are killed with SIGKILL at random moments and restarted, several times. Then
the server must have received each (plan, step) at most once, and every outbox row must be
settled (sent, failed, suppressed, cancelled or uncertain), none stuck, with exactly one Sent
activity per sent row.

The workers run against a database of their own (a SQLite file; on PostgreSQL, a database made
for the test), seeded by ``manage.py seed_outbox``. On PostgreSQL two workers run at once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from cadence.core.tests.smtp import RecordingHandler, start_server
from cadence.messaging.choices import SETTLED_STATUSES, OutboundStatus
from cadence.messaging.outbox import RECORD_EVERY

MESSAGES = 400
KILLS = 6
SETTLED = set(SETTLED_STATUSES)
ON_POSTGRESQL = connection.vendor == "postgresql"

pytestmark = [pytest.mark.timeout(600)]


class SlowHandler(RecordingHandler):
    """A server that takes a few milliseconds a message, as real ones do, so that kills land
    in the middle of batches rather than between them."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.004)
        return await super().handle_DATA(server, session, envelope)


class FaultDatabase:
    """The workers' database, and plain-driver access to it from the test."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        if ON_POSTGRESQL:
            self.name = f"cadence_fault_{uuid.uuid4().hex[:12]}"
            params = settings.DATABASES["default"]
            self.server = {
                "host": params.get("HOST") or "127.0.0.1",
                "port": params.get("PORT") or 5432,
                "user": params.get("USER") or "postgres",
                "password": params.get("PASSWORD") or None,
            }
            self._admin(f'CREATE DATABASE "{self.name}"')
            auth = self.server["user"] + (
                f":{self.server['password']}" if self.server["password"] else ""
            )
            self.url = urlunsplit(
                (
                    "postgres",
                    f"{auth}@{self.server['host']}:{self.server['port']}",
                    f"/{self.name}",
                    "",
                    "",
                )
            )
        else:
            self.path = tmp_path / "fault.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **self.server) as conn:
            conn.execute(sql)

    def query(self, sql: str) -> list[tuple]:
        if ON_POSTGRESQL:
            import psycopg

            with psycopg.connect(dbname=self.name, **self.server) as conn:
                return list(conn.execute(sql).fetchall())
        with sqlite3.connect(self.path) as conn:
            return list(conn.execute(sql).fetchall())

    def drop(self) -> None:
        if ON_POSTGRESQL:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def fault_db(tmp_path):
    database = FaultDatabase(tmp_path)
    try:
        yield database
    finally:
        database.drop()


def _environment(database: FaultDatabase, tmp_path: Path, smtp_port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=database.url,
        CADENCE_VAR_DIR=str(tmp_path / "var"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CADENCE_OUTBOX_CLAIM_TIMEOUT="2",
        CADENCE_DOMAIN_HOURLY_LIMIT="100000",
        CADENCE_COMPANY_WEEKLY_TOUCHES="100000",
        LOG_LEVEL="ERROR",
    )
    return env


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_outbox", "--interval", "0.2", "--batch-size", "20"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _statuses(database: FaultDatabase) -> Counter:
    return Counter(
        dict(database.query("SELECT status, COUNT(*) FROM outbound_messages GROUP BY status"))
    )


@pytest.mark.django_db
def test_killed_workers_never_send_a_step_twice_and_leave_nothing_stuck(fault_db, tmp_path):
    handler = SlowHandler()
    server = start_server(handler)
    workers_per_round = 2 if ON_POSTGRESQL else 1
    chance = random.Random(os.environ.get("CADENCE_FAULT_SEED", "20261125"))
    try:
        env = _environment(fault_db, tmp_path, server.port)
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "seed_outbox", "--messages", str(MESSAGES))
        assert _statuses(fault_db) == Counter({OutboundStatus.QUEUED: MESSAGES})

        kills = 0
        for _ in range(KILLS):
            if not _statuses(fault_db)[OutboundStatus.QUEUED]:
                break
            before = len(handler.messages)
            workers = [_worker(env) for _ in range(workers_per_round)]
            # Kill only once mail is flowing, at a random moment of the sending.
            deadline = time.monotonic() + 60
            while len(handler.messages) == before and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(handler.messages) > before, "the worker sent nothing"
            for worker in workers:
                time.sleep(chance.uniform(0.0, 0.3))
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills += 1

        # Restarted for good: the workers finish the queue and, once the claim timeout has
        # passed, settle what the killed ones left claimed.
        workers = [_worker(env) for _ in range(workers_per_round)]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                statuses = _statuses(fault_db)
                if not statuses[OutboundStatus.QUEUED] and not statuses[OutboundStatus.SENDING]:
                    break
                time.sleep(0.5)
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    finally:
        server.stop()

    statuses = _statuses(fault_db)
    rows = {
        str(uuid.UUID(str(pk))): (status, str(plan), str(step))
        for pk, status, plan, step in fault_db.query(
            "SELECT outbound_message_id, status, plan_id, step_id FROM outbound_messages"
        )
    }
    received = Counter(str(m["X-Cadence-Outbox"]) for m in handler.messages)
    sent_activities = fault_db.query(
        "SELECT COUNT(*) FROM activities WHERE outcome = 'Sent' AND direction = 'outbound'"
    )[0][0]
    print(f"\n{kills} kills; rows {dict(statuses)}; {len(handler.messages)} messages received")

    assert kills >= 3
    assert set(statuses) <= SETTLED, statuses
    assert len(rows) == MESSAGES
    assert len({(plan, step) for _, plan, step in rows.values()}) == MESSAGES
    duplicates = {pk: n for pk, n in received.items() if n > 1}
    assert not duplicates, f"sent more than once: {duplicates}"
    assert set(received) <= set(rows)
    for pk, (status, _, _) in rows.items():
        if status == OutboundStatus.SENT:
            assert pk in received, f"{pk} is recorded sent but never arrived"
        if pk in received:
            assert status in (OutboundStatus.SENT, OutboundStatus.UNCERTAIN), (
                f"{pk} arrived but is {status}"
            )
    assert sent_activities == statuses[OutboundStatus.SENT]
    # Every kill leaves at most the messages sent since the last record uncertain.
    assert statuses[OutboundStatus.UNCERTAIN] <= kills * RECORD_EVERY
    assert statuses[OutboundStatus.SENT] + statuses[OutboundStatus.UNCERTAIN] == MESSAGES
