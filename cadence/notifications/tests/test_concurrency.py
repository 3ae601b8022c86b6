"""Two delivery passes at the same moment, on two database connections, deliver each reminder
once: one notification and one email each, and the reminder counted by one pass only."""

import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection, connections

from cadence.accounts.tests.factories import UserFactory
from cadence.notifications import services
from cadence.notifications.models import EmailDelivery, Notification
from cadence.notifications.tests.helpers import NOW, due_plan, plan_reminder

REMINDERS = 40
PASSES = 3

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite runs one writer at a time, and the in-memory test "
        "database is not shared between threads",
    ),
]


def _run_at_once(target, count: int) -> list:
    """Run ``target`` in ``count`` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # surfaced below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == count
    return results


@pytest.mark.timeout(120)
def test_concurrent_passes_deliver_each_reminder_once():
    users = [UserFactory(username=f"racer{n}") for n in range(2)]
    reminders = [
        plan_reminder(due_plan(users[n % 2], company_name=f"Company {n}")) for n in range(REMINDERS)
    ]

    delivered = _run_at_once(lambda: services.reminders_deliver_due(now=NOW, batch_size=7), PASSES)

    assert sum(delivered) == REMINDERS
    per_reminder = Counter(Notification.objects.values_list("reminder", flat=True))
    assert per_reminder == Counter({r.pk: 1 for r in reminders})
    assert EmailDelivery.objects.count() == REMINDERS
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}
    subjects = Counter(m.subject for m in mail.outbox)
    assert len(mail.outbox) == REMINDERS
    assert set(subjects.values()) == {1}


@pytest.mark.timeout(120)
def test_concurrent_senders_send_each_email_once(rep):
    """Pending emails picked up by several senders at once go out once each."""
    for n in range(REMINDERS):
        plan_reminder(due_plan(rep, company_name=f"Company {n}"))
    # Deliver, then put the emails back as if the pass had stopped before sending them.
    services.reminders_deliver_due(now=NOW)
    mail.outbox.clear()
    EmailDelivery.objects.update(status="pending", attempts=0, sent_at=None)

    sent = _run_at_once(lambda: services.email_deliveries_send(now=NOW, batch_size=5), PASSES)

    assert sum(sent) == REMINDERS
    assert len(mail.outbox) == REMINDERS
    assert len({m.subject for m in mail.outbox}) == REMINDERS
    assert set(EmailDelivery.objects.values_list("attempts", flat=True)) == {1}
