"""Scheduler passes running at the same moment on PostgreSQL, each thread on its own database
connection: they split the due plans between them (``SELECT ... FOR UPDATE SKIP LOCKED``), and
every due plan gets exactly one reminder, delivered exactly once.

SQLite runs one writer at a time and its in-memory test database is not shared between threads,
so these tests need PostgreSQL. With ``CADENCE_REQUIRE_SERVICES=1`` (set by CI for its PostgreSQL
run) they fail instead of skipping when PostgreSQL is not the database.
"""

import datetime
import os
import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.models import F

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.crm.models import Contact
from cadence.crm.tests.factories import CompanyFactory
from cadence.notifications.models import EmailDelivery, Notification
from cadence.ops.scheduler import scheduler_pass
from cadence.plans.assignment import strategy_assign
from cadence.plans.models import LeadContactPlan
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

#: A Tuesday morning; every seeded plan's first step fell due days before.
NOW = datetime.datetime(2025, 11, 25, 9, 0, tzinfo=datetime.UTC)
PLANS = 2000
BATCH = 100

REQUIRED = os.environ.get("CADENCE_REQUIRE_SERVICES") == "1"
ON_POSTGRESQL = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL and not REQUIRED,
        reason="needs PostgreSQL (CADENCE_TEST_DATABASE_URL): SQLite runs one writer at a time "
        "and its in-memory test database is not shared between threads, so passes cannot race",
    ),
    pytest.mark.timeout(300),
]


@pytest.fixture(autouse=True)
def _postgresql_required():
    if not ON_POSTGRESQL:
        pytest.fail("CADENCE_REQUIRE_SERVICES=1 but the test database is not PostgreSQL")


def seed_due_plans(count: int) -> list:
    """``count`` running plans of one rep, one per contact, enrolled in bulk ten days before
    ``NOW``: each owes the reminder of its step 1 (due eight days before ``NOW``)."""
    owner = UserFactory(username="racer", time_zone="UTC", country="DE")
    company = CompanyFactory(owner=owner, name="Acme")
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                company=company,
                owner=owner,
                first_name=f"Lead{n}",
                last_name="Racer",
                email=f"lead{n}@acme.example.com",
            )
            for n in range(count)
        ],
        batch_size=500,
    )
    strategy = ContactStrategyFactory(created_by=owner, name="Outbound")
    StrategyStepFactory(strategy=strategy, step_number=1, delay_days=2, activity_type="Call")
    StrategyStepFactory(strategy=strategy, step_number=2, delay_days=3, activity_type="Email")
    result = strategy_assign(
        strategy=strategy,
        user=owner,
        contacts=contacts,
        plan_start_date=NOW - datetime.timedelta(days=10),
    )
    assert len(result.enrolled) == count, result.skipped[:3]
    assert LeadContactPlan.objects.filter(reminder_due_at__lte=NOW).count() == count, (
        "every seeded plan owes its reminder at NOW"
    )
    return result.enrolled


def run_together(*targets) -> list:
    """Run each target in its own thread, on its own database connection, released at the same
    instant; return their results in order. Each connection is opened before the release, so no
    thread starts late for want of a connection."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)
    errors: list = []

    def run(index, target):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            results[index] = target()
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, target), name=f"pass-{index}")
        for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a pass did not finish"
    assert not errors, errors
    return results


def assert_one_reminder_per_plan(plan_ids) -> None:
    per_plan = Counter(Reminder.objects.values_list("plan_id", flat=True))
    duplicated = {plan: n for plan, n in per_plan.items() if n > 1}
    missing = set(plan_ids) - set(per_plan)
    assert not duplicated, f"{len(duplicated)} plan(s) reminded more than once"
    assert not missing, f"{len(missing)} plan(s) got no reminder"
    assert set(per_plan) == set(plan_ids)
    assert not LeadContactPlan.objects.filter(reminder_due_at__isnull=False).exists()
    # Each reminder is the one the plan owed: its current step, at its due date.
    assert not Reminder.objects.exclude(step_id=F("plan__current_step_id")).exists()
    assert not Reminder.objects.exclude(due_at=F("plan__next_step_due_date")).exists()


def test_two_concurrent_passes_split_the_due_plans_and_remind_each_once():
    """Two passes released together over 2,000 due plans, in batches of 100: each plan gets
    exactly one reminder, none owes one afterwards, the two counts add up to the plans (no plan
    counted by both), and both passes did part of the work. (Each thread's connection is open
    before the release, and 20 batches take about a second, so neither pass can finish the queue
    before the other starts; measured splits are 1000/1000 or 900/1100.)"""
    plan_ids = seed_due_plans(PLANS)

    handled = run_together(
        lambda: plans_create_due_reminders(now=NOW, batch_size=BATCH),
        lambda: plans_create_due_reminders(now=NOW, batch_size=BATCH),
    )

    assert_one_reminder_per_plan(plan_ids)
    assert sum(handled) == PLANS, handled
    assert all(count > 0 for count in handled), f"one pass did all the work: {handled}"
    # Nothing is left for a third pass.
    assert plans_create_due_reminders(now=NOW, batch_size=BATCH) == 0


def test_a_pass_skips_plans_another_transaction_holds_instead_of_waiting():
    """While another transaction holds the first plans in the queue locked, a pass neither waits
    for them nor reminds them: it reminds all the others and returns. Once the lock is released,
    the next pass reminds the held plans, each once. Deterministic proof of SKIP LOCKED."""
    plan_ids = seed_due_plans(500)
    held = plan_ids[:150]
    # The held plans come first in the pass's order, so a pass that waited on locks would block.
    LeadContactPlan.objects.filter(pk__in=held).update(
        reminder_due_at=NOW - datetime.timedelta(days=30)
    )

    with transaction.atomic():
        assert len(list(LeadContactPlan.objects.select_for_update().filter(pk__in=held))) == 150
        outcome: dict = {}

        def other_pass():
            try:
                outcome["handled"] = plans_create_due_reminders(now=NOW, batch_size=BATCH)
            except Exception as exc:
                outcome["error"] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=other_pass)
        thread.start()
        thread.join(timeout=60)
        blocked = thread.is_alive()
        if blocked:  # let it go before failing, or the test would hang on teardown
            transaction.set_rollback(True)
    thread.join(timeout=60)

    assert not blocked, "the pass waited on rows another transaction had locked"
    assert "error" not in outcome, outcome
    assert outcome["handled"] == 500 - 150
    assert not Reminder.objects.filter(plan_id__in=held).exists()
    assert plans_create_due_reminders(now=NOW, batch_size=BATCH) == 150
    assert_one_reminder_per_plan(plan_ids)


def test_two_concurrent_scheduler_passes_deliver_each_reminder_once():
    """Two whole scheduler passes (make reminders, then deliver them) released together over
    1,000 due plans: one reminder per plan, each delivered once (one notification, one email),
    and every reminder counted as made and as delivered by exactly one of the passes."""
    count = 1000
    plan_ids = seed_due_plans(count)

    results = run_together(lambda: scheduler_pass(now=NOW), lambda: scheduler_pass(now=NOW))

    assert_one_reminder_per_plan(plan_ids)
    assert sum(r.reminders_created for r in results) == count, results
    assert sum(r.reminders_delivered for r in results) == count, results
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    per_reminder = Counter(Notification.objects.values_list("reminder_id", flat=True))
    assert len(per_reminder) == count
    assert set(per_reminder.values()) == {1}
    assert set(per_reminder) == set(Reminder.objects.values_list("pk", flat=True))
    emails = Counter(EmailDelivery.objects.values_list("reminder_id", flat=True))
    assert len(emails) == count
    assert set(emails.values()) == {1}
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == count
    # A pass after them finds nothing left to make or deliver.
    again = scheduler_pass(now=NOW)
    assert (again.reminders_created, again.reminders_delivered) == (0, 0)
