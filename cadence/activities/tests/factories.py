import datetime

import factory
from django.utils import timezone

from cadence.activities.models import Activity, Reminder
from cadence.crm.tests.factories import ContactFactory


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda a: a.contact.company)
    user = factory.LazyAttribute(lambda a: a.contact.owner)
    activity_type = "Call"
    outcome = "No Answer"
    subject = "Intro call"


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    user = factory.SubFactory("cadence.accounts.tests.factories.UserFactory")
    remind_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))
    message = "Call back"
