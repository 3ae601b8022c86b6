import factory

from cadence.activities.tests.factories import ReminderFactory
from cadence.notifications.models import CalendarFeed, EmailDelivery, Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory("cadence.accounts.tests.factories.UserFactory")
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something came due."


class EmailDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDelivery

    reminder = factory.SubFactory(ReminderFactory)
    remind_at = factory.LazyAttribute(lambda d: d.reminder.remind_at)
    user = factory.LazyAttribute(lambda d: d.reminder.user)
    to_email = factory.LazyAttribute(lambda d: d.user.email or "someone@example.com")
    subject = "Call: Ada Lovelace (Acme)"
    body = "Step 1: Call Ada Lovelace at Acme."


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarFeed

    user = factory.SubFactory("cadence.accounts.tests.factories.UserFactory")
