"""Rate limits: per sender a day (with the ramp-up of a new mailbox) and an hour, per recipient
domain an hour, per company a week. Over a limit an email waits for the next window; it is
never dropped."""

import datetime

import pytest

from cadence.activities.tests.factories import ActivityFactory
from cadence.messaging import limits
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage, SendCounter, Sender
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user

pytestmark = pytest.mark.django_db

#: A Wednesday, mid-hour: the hour ends at 10:00 and the ISO week on Monday the 30th.
NOW = datetime.datetime(2026, 11, 25, 9, 30, tzinfo=datetime.UTC)


def _queue(user, count, *, domain="client.example", company=None):
    strategy = automated_strategy()
    contacts = contacts_of(user, count, domain=domain, company=company)
    enroll(strategy, user, contacts, start=NOW - datetime.timedelta(minutes=10))
    outbox_queue_due(now=NOW)
    return contacts


def _statuses():
    return sorted(OutboundMessage.objects.values_list("status", flat=True))


def test_the_ramp_grows_daily_up_to_the_cap(settings):
    settings.CADENCE_SEND_DAILY_LIMIT = 100
    user = sender_user()
    sender = Sender(user=user, ramp_started_on=datetime.date(2026, 11, 20), ramp_start=20)
    sender.ramp_step = 10

    days = [datetime.date(2026, 11, 20) + datetime.timedelta(days=n) for n in (0, 1, 5, 8, 30)]

    assert [limits.daily_limit(sender, today=day) for day in days] == [20, 30, 70, 100, 100]


def test_a_sender_over_the_hourly_limit_waits_for_the_next_hour(smtp_server):
    user = sender_user()
    Sender.objects.filter(user=user).update(hourly_limit=2)
    _queue(user, 3)

    report = outbox_send_due(now=NOW)

    assert (report.sent, report.waiting) == (2, 1)
    waiting = OutboundMessage.objects.get(status=OutboundStatus.QUEUED)
    assert waiting.send_after == datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    assert "hourly limit" in waiting.error
    assert outbox_send_due(now=NOW).sent == 0
    assert outbox_send_due(now=waiting.send_after).sent == 1
    assert len(smtp_server.messages) == 3


def test_a_new_mailbox_sends_its_ramp_for_the_day_and_the_rest_tomorrow(smtp_server, settings):
    settings.CADENCE_SEND_RAMP_START = 2
    settings.CADENCE_SEND_RAMP_STEP = 1
    user = sender_user(time_zone="Europe/Berlin")
    Sender.objects.filter(user=user).update(ramp_started_on=NOW.date(), ramp_start=None)
    _queue(user, 4)

    report = outbox_send_due(now=NOW)

    assert (report.sent, report.waiting) == (2, 2)
    # The sender's day ends at midnight in Berlin, 23:00 UTC; the next day allows 3.
    waiting = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
    midnight_berlin = datetime.datetime(2026, 11, 25, 23, 0, tzinfo=datetime.UTC)
    assert {row.send_after for row in waiting} == {midnight_berlin}
    assert outbox_send_due(now=midnight_berlin).sent == 2


def test_a_recipient_domain_over_its_hourly_limit_waits(smtp_server, settings):
    settings.CADENCE_DOMAIN_HOURLY_LIMIT = 2
    user = sender_user()
    _queue(user, 3, domain="bigcorp.example")
    _queue(user, 1, domain="other.example")

    report = outbox_send_due(now=NOW)

    assert (report.sent, report.waiting) == (3, 1)
    waiting = OutboundMessage.objects.get(status=OutboundStatus.QUEUED)
    assert waiting.to_email.endswith("@bigcorp.example")
    assert "bigcorp.example" in waiting.error


def test_a_company_gets_its_weekly_touches_including_those_by_hand(smtp_server, settings):
    settings.CADENCE_COMPANY_WEEKLY_TOUCHES = 3
    user = sender_user()
    contacts = _queue(user, 3)
    company = contacts[0].company
    # A call logged by hand on Monday counts as one of the week's touches.
    ActivityFactory(
        company=company,
        contact=contacts[0],
        user=user,
        activity_type="Call",
        occurred_at=datetime.datetime(2026, 11, 23, 10, tzinfo=datetime.UTC),
    )

    report = outbox_send_due(now=NOW)

    assert (report.sent, report.waiting) == (2, 1)
    waiting = OutboundMessage.objects.get(status=OutboundStatus.QUEUED)
    assert waiting.send_after == datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    assert "touches for this week" in waiting.error


def test_a_refused_reservation_counts_in_no_window():
    windows = [
        limits.Window("a", NOW, NOW + datetime.timedelta(hours=1), 5, "A"),
        limits.Window("b", NOW, NOW + datetime.timedelta(hours=1), 0, "B"),
    ]

    with pytest.raises(limits.OverLimit) as over:
        limits.reserve(windows)

    assert over.value.reason.startswith("B")
    assert not SendCounter.objects.filter(scope="a", count__gt=0).exists()


def test_old_counters_are_pruned():
    SendCounter.objects.create(scope="x", window_start=NOW - datetime.timedelta(days=9), count=3)
    SendCounter.objects.create(scope="y", window_start=NOW - datetime.timedelta(days=1), count=3)

    assert limits.counters_prune(now=NOW) == 1
    assert list(SendCounter.objects.values_list("scope", flat=True)) == ["y"]


def test_over_a_limit_nothing_is_dropped(smtp_server):
    user = sender_user()
    Sender.objects.filter(user=user).update(hourly_limit=1)
    _queue(user, 5)

    moment = NOW
    for _ in range(5):
        outbox_send_due(now=moment)
        moment += datetime.timedelta(hours=1)

    assert _statuses() == [OutboundStatus.SENT] * 5
    assert len(smtp_server.messages) == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overshoot_a_limit():
    """Threads on their own database connections reserve in one window at once: exactly the
    limit succeeds. PostgreSQL only (SQLite's in-memory test database is per connection)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent connections to one database")
    window = limits.Window("user:race:hour", NOW, NOW + datetime.timedelta(hours=1), 50, "Full")
    taken, barrier = [], threading.Barrier(8)

    def reserve_many():
        barrier.wait()
        for _ in range(20):
            try:
                limits.reserve([window])
                taken.append(1)
            except limits.OverLimit:
                pass
        connection.close()

    threads = [threading.Thread(target=reserve_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(taken) == 50
    assert SendCounter.objects.get(scope="user:race:hour").count == 50
