import factory

from cadence.accounts.tests.factories import UserFactory
from cadence.strategies.models import ContactStrategy, StrategyStep


class ContactStrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactStrategy

    name = factory.Sequence(lambda n: f"Strategy {n}")
    description = "A test cadence"
    created_by = factory.SubFactory(UserFactory)
    is_template = True


class StrategyStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyStep

    strategy = factory.SubFactory(ContactStrategyFactory)
    step_number = factory.Sequence(lambda n: n + 1)
    delay_days = 2
    activity_type = "Email"
    subject_template = "Hello {{ contact.first_name }}"
    description_template = "Hi {{ contact.first_name }}, about {{ company.name }}."
    is_automated = False
