"""The scheduler pass as production runs it: a real Celery worker process, fed by a real Redis
broker, working on the same PostgreSQL database as the test. Also the beat schedule that sends
the task every minute.

The worker test needs PostgreSQL (another process cannot see SQLite's in-memory test database)
and Redis (``CADENCE_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/15``). It is skipped
without them, unless ``CADENCE_REQUIRE_SERVICES=1`` (set by CI for its PostgreSQL run), which
turns a missing service into a failure so CI cannot pass by skipping it.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.notifications.models import EmailDelivery, Notification
from cadence.ops.tasks import scheduler_pass_task
from cadence.plans import services as plan_services
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from config.celery import app

REDIS_URL = os.environ.get("CADENCE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("CADENCE_REQUIRE_SERVICES") == "1"
DUE_PLANS = 5
WAIT_SECONDS = 60


def _require(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRED:
        pytest.fail(f"{reason}, and CADENCE_REQUIRE_SERVICES=1 forbids skipping this test")
    pytest.skip(reason)


def _redis_answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _database_url() -> str:
    """The URL of the database this test runs on (pytest-django's ``test_...`` database)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def _log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _stop(worker: subprocess.Popen) -> int:
    """Warm shutdown (SIGTERM: finish the current task, then exit); kill if it hangs."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            return worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    return worker.wait(timeout=10)


def _forget_queue(queue: str, token: str) -> None:
    """Remove what the test's queue and worker left in Redis (the database may be shared)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        for key in client.scan_iter("_kombu.binding.*"):
            stale = [m for m in client.smembers(key) if token.encode() in m]
            if stale:
                client.srem(key, *stale)
    except redis.RedisError:
        pass
    finally:
        client.close()


@pytest.fixture
def services():
    _require(
        connection.vendor == "postgresql",
        "needs PostgreSQL (CADENCE_TEST_DATABASE_URL): a worker process cannot see SQLite's "
        "in-memory test database",
    )
    _require(_redis_answers(), f"needs Redis at {REDIS_URL} (CADENCE_TEST_REDIS_URL)")


@pytest.fixture
def lead_plans():
    """Five plans whose step 1 fell due a week ago, one whose first step is a month away, and
    one overdue but paused: the pass owes a reminder to the first five only."""
    rep = UserFactory(username="worker-rep", time_zone="UTC", country="DE")
    strategy = ContactStrategyFactory(created_by=rep, name="Outbound")
    StrategyStepFactory(strategy=strategy, step_number=1, delay_days=1, activity_type="Call")
    now = timezone.now()

    def plan(name: str, start: datetime.datetime):
        contact = ContactFactory(
            owner=rep,
            company=CompanyFactory(owner=rep, name=f"{name} Ltd"),
            first_name=name,
            last_name="Lead",
        )
        return plan_services.plan_create(
            user=rep, contact=contact, strategy=strategy, plan_start_date=start
        )

    due = [plan(f"Due{n}", now - datetime.timedelta(days=8)) for n in range(DUE_PLANS)]
    later = plan("Later", now + datetime.timedelta(days=30))
    paused = plan_services.plan_pause(plan=plan("Paused", now - datetime.timedelta(days=8)))
    return due, [later, paused]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(180)
def test_a_celery_worker_process_runs_the_pass_over_redis(services, lead_plans, tmp_path):
    """``ops.scheduler_pass`` sent through Redis is run by a separate ``celery worker`` process
    on the test's PostgreSQL database: each due plan gets exactly one reminder, delivered once
    (one in-app notification, one email written by the worker's mail backend), the plans not
    due get none, and the worker shuts down cleanly on SIGTERM."""
    due, not_due = lead_plans
    token = uuid.uuid4().hex[:12]
    queue = f"cadence-test-{token}"
    var_dir = tmp_path / "var"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CADENCE_VAR_DIR": str(var_dir),
        "SECRET_KEY": "worker-test-secret-key",
        "LOG_LEVEL": "INFO",
    }
    for name in ("EMAIL_URL", "CELERY_RESULT_BACKEND", "CADENCE_TEST_DATABASE_URL"):
        env.pop(name, None)
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool", "solo", "--concurrency", "1", "--queues", queue,
        "--hostname", f"{queue}@%h", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip

    started = time.monotonic()
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        # The message waits in Redis until the worker, still starting, consumes it.
        with app.connection_for_write(REDIS_URL) as broker:
            scheduler_pass_task.apply_async(queue=queue, connection=broker)

        delivered = Reminder.objects.none()
        while time.monotonic() - started < WAIT_SECONDS:
            assert worker.poll() is None, f"the worker died:\n{_log_tail(log_path)}"
            delivered = Reminder.objects.filter(status="sent")
            emailed = EmailDelivery.objects.filter(status="sent")
            if delivered.count() >= DUE_PLANS and emailed.count() >= DUE_PLANS:
                break
            time.sleep(0.25)
        else:
            pytest.fail(
                f"no pass within {WAIT_SECONDS} s: {Reminder.objects.count()} reminder(s), "
                f"{delivered.count()} delivered\n{_log_tail(log_path)}"
            )
    finally:
        exit_code = _stop(worker)
        _forget_queue(queue, token)

    per_plan = Counter(Reminder.objects.values_list("plan_id", flat=True))
    assert per_plan == Counter({plan.pk: 1 for plan in due})
    assert not Reminder.objects.filter(plan__in=not_due).exists()
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert Counter(Notification.objects.values_list("reminder__plan_id", flat=True)) == per_plan
    assert Counter(EmailDelivery.objects.values_list("reminder__plan_id", flat=True)) == per_plan
    mail = "".join(path.read_text() for path in (var_dir / "mail").glob("*.eml"))
    assert mail.count("Auto-Submitted: auto-generated") == DUE_PLANS
    for plan in due:
        assert f"Call {plan.contact.full_name} at {plan.company.name}" in mail
    log = log_path.read_text(errors="replace")
    assert "ops.scheduler_pass" in log and "succeeded" in log, _log_tail(log_path)
    assert (
        f"{DUE_PLANS} plan(s) reminded, 0 automated email(s) queued, 0 suggestion(s) made, "
        f"{DUE_PLANS} reminder(s) delivered" in log
    )
    assert exit_code == 0, f"the worker did not stop cleanly:\n{_log_tail(log_path)}"


def test_beat_sends_the_scheduler_pass_every_minute():
    """Celery beat's schedule (from ``CELERY_BEAT_SCHEDULE``) sends ``ops.scheduler_pass`` every
    60 seconds, a task the worker knows by that name; a message left queued more than two
    intervals expires, since a later pass does its work."""
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == "ops.scheduler_pass"]
    assert len(entries) == 1
    (entry,) = entries
    assert maybe_schedule(entry["schedule"]).run_every == datetime.timedelta(seconds=60)
    assert entry.get("options", {}).get("expires") == 120
    app.loader.import_default_modules()
    assert app.tasks["ops.scheduler_pass"].run is scheduler_pass_task.run
    assert app.conf.timezone == "UTC"


@pytest.mark.django_db
def test_the_task_runs_one_pass_and_reports_it(lead_plans):
    """Run in-process, the task makes and delivers the due plans' reminders and returns the
    pass's summary."""
    due, _ = lead_plans
    summary = scheduler_pass_task()
    assert summary.startswith(
        f"0 plan(s) resumed, {DUE_PLANS} plan(s) reminded, 0 automated email(s) queued, "
        f"0 suggestion(s) made, {DUE_PLANS} reminder(s) delivered"
    )
    assert set(Reminder.objects.values_list("plan_id", flat=True)) == {p.pk for p in due}
    assert scheduler_pass_task().startswith(
        "0 plan(s) resumed, 0 plan(s) reminded, 0 automated email(s) queued, 0 suggestion(s) "
        "made, 0 reminder(s) delivered"
    )
