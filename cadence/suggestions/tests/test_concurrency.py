"""Scheduler passes racing on PostgreSQL, each thread on its own connection, make each
suggestion once: the unique ``dedupe_key`` keeps one row whoever inserts first.

SQLite's in-memory test database is not shared between threads; with
``CADENCE_REQUIRE_SERVICES=1`` (CI's PostgreSQL run) these fail instead of skipping.
"""

import datetime
import os
import threading

import pytest
from django.db import connection

from cadence.activities.choices import ActivityType, Outcome
from cadence.activities.models import Activity
from cadence.crm.tests.factories import ContactFactory
from cadence.suggestions.models import Suggestion
from cadence.suggestions.services import suggestions_generate_due, suggestions_on_activities

NOW = datetime.datetime(2025, 11, 25, 9, 0, tzinfo=datetime.UTC)
EMAILS = 300
REQUIRED = os.environ.get("CADENCE_REQUIRE_SERVICES") == "1"
ON_POSTGRESQL = connection.vendor == "postgresql"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ON_POSTGRESQL and not REQUIRED,
        reason="needs PostgreSQL (CADENCE_TEST_DATABASE_URL): SQLite's in-memory test database "
        "is not shared between threads",
    ),
    pytest.mark.timeout(300),
]


@pytest.fixture(autouse=True)
def _postgresql_required():
    if not ON_POSTGRESQL:
        pytest.fail("CADENCE_REQUIRE_SERVICES=1 but the test database is not PostgreSQL")


def race(target, workers: int = 4) -> list:
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_racing_passes_make_each_silence_suggestion_once(rep):
    contacts = ContactFactory.create_batch(EMAILS, company__owner=rep)
    Activity.objects.bulk_create(
        Activity(
            company=contact.company,
            contact=contact,
            user=rep,
            activity_type=ActivityType.EMAIL,
            outcome=Outcome.SENT,
            occurred_at=NOW - datetime.timedelta(days=3, hours=6),
        )
        for contact in contacts
    )
    made = race(lambda: suggestions_generate_due(now=NOW))
    assert Suggestion.objects.count() == EMAILS
    assert Suggestion.objects.values("trigger_activity").distinct().count() == EMAILS
    # Each pass reports what it found new; racing ones may both count a row the database kept
    # once, so the sum is at least the total.
    assert sum(made) >= EMAILS


def test_racing_listeners_make_each_event_suggestion_once(rep):
    contact = ContactFactory(company__owner=rep)
    activity = Activity.objects.create(
        company=contact.company,
        contact=contact,
        user=rep,
        activity_type=ActivityType.CALL,
        outcome=Outcome.VOICEMAIL_LEFT,
        occurred_at=NOW,
    )
    race(lambda: suggestions_on_activities([Activity.objects.get(pk=activity.pk)]))
    assert Suggestion.objects.filter(trigger_activity=activity).count() == 1
