"""``manage.py run_scheduler --once``: one scheduler pass from the command line, at the time of
``--now`` when given (an ISO 8601 instant; without an offset it is UTC)."""

import datetime
import io
import re

import pytest
from django.core.management import call_command

from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.notifications.models import Notification
from cadence.plans import services as plan_services
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
#: Step 1 of the due plans falls due at 09:00 UTC this day; its reminder is owed from 08:45.
DUE = datetime.datetime(2025, 11, 25, 9, 0, tzinfo=UTC)
SUMMARY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d+ plan\(s\) resumed, (\d+) plan\(s\) reminded, "
    r"\d+ automated email\(s\) queued, \d+ suggestion\(s\) made, (\d+) reminder\(s\) "
    r"delivered in \d+\.\d\d s$"
)


@pytest.fixture
def plans(settings):
    """Two plans whose step 1 is due at ``DUE`` and one due a month later."""
    settings.CADENCE_REMINDER_LEAD_MINUTES = 15
    rep = UserFactory(username="cli-rep", time_zone="UTC", country="DE")
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1, delay_days=1, activity_type="Call")

    def plan(start):
        contact = ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
        return plan_services.plan_create(
            user=rep, contact=contact, strategy=strategy, plan_start_date=start
        )

    start = DUE - datetime.timedelta(days=1)
    return [plan(start), plan(start)], plan(start + datetime.timedelta(days=30))


def run(*args: str) -> list[tuple[int, int]]:
    """Run the command; return (plans reminded, reminders delivered) of each summary line."""
    out = io.StringIO()
    call_command("run_scheduler", *args, stdout=out)
    lines = out.getvalue().splitlines()
    matches = [SUMMARY.match(line) for line in lines]
    assert all(matches), lines
    return [(int(m[1]), int(m[2])) for m in matches]


def test_once_reminds_the_due_plans_and_prints_the_summary(plans):
    """One pass at ``--now``: each due plan gets one reminder, delivered as a notification, the
    plan not yet due gets none, and one summary line reports the counts. A second pass at the
    same time finds nothing left to do."""
    due, later = plans
    assert run("--once", "--now", "2025-11-25T09:00:00+00:00") == [(2, 2)]
    assert sorted(Reminder.objects.values_list("plan_id", flat=True)) == sorted(p.pk for p in due)
    assert not Reminder.objects.filter(plan=later).exists()
    assert Notification.objects.count() == 2
    assert run("--once", "--now", "2025-11-25T09:00:00+00:00") == [(0, 0)]


def test_now_honours_its_offset_and_is_utc_without_one(plans):
    """``--now`` 10:40 at UTC+2 is 08:40 UTC, before the reminders are owed (08:45 UTC); a naive
    08:45 is read as UTC, when they are."""
    assert run("--once", "--now", "2025-11-25T10:40:00+02:00") == [(0, 0)]
    assert not Reminder.objects.exists()
    assert run("--once", "--now", "2025-11-25T08:45:00") == [(2, 2)]


@pytest.mark.parametrize(
    "value", ["tomorrow", "25/11/2025 09:00", "2025-02-30T10:00:00", "2025-11-25T25:00"]
)
def test_a_bad_now_exits_with_code_2_and_says_why(plans, value):
    """A ``--now`` that is not an ISO 8601 date-time, or names a day or hour that does not exist,
    stops the command with exit code 2 and a message, before any pass runs."""
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("run_scheduler", "--once", "--now", value, stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert f"--now: not an ISO 8601 date-time: {value}" in err.getvalue()
    assert not Reminder.objects.exists()
