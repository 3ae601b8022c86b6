"""The admin lists of notifications and emails, which grow with every reminder, stay cheap."""

import pytest
from django.urls import reverse

from cadence.accounts.models import User
from cadence.activities.tests.factories import ReminderFactory
from cadence.core.tests.test_admin import CHANGELIST_QUERY_BUDGET
from cadence.notifications.tests.factories import EmailDeliveryFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x" * 20))
    return client


def _notifications():
    for reminder in ReminderFactory.create_batch(20):
        NotificationFactory(user=reminder.user, reminder=reminder, remind_at=reminder.remind_at)


def _emails():
    EmailDeliveryFactory.create_batch(20)


@pytest.mark.parametrize(
    ("name", "make_rows"),
    [("notification", _notifications), ("emaildelivery", _emails)],
)
def test_changelist_runs_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries, name, make_rows
):
    """Twenty rows, each of its own user, cost no query per row."""
    make_rows()

    with django_assert_max_num_queries(CHANGELIST_QUERY_BUDGET):
        response = staff_client.get(reverse(f"admin:notifications_{name}_changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 20
