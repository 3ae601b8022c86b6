import factory

from cadence.crm.tests.factories import ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.strategies.tests.factories import ContactStrategyFactory


class LeadContactPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadContactPlan

    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda p: p.contact.company)
    strategy = factory.SubFactory(ContactStrategyFactory)
    user = factory.LazyAttribute(lambda p: p.contact.owner)
