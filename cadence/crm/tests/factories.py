import factory

from cadence.accounts.tests.factories import UserFactory
from cadence.crm.models import Company, Contact


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"company{n}.example.com")
    industry = "Technology"
    size = "51-200"
    country = "DE"
    time_zone = "Europe/Berlin"
    owner = factory.SubFactory(UserFactory)
    team = None


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    title = "Head of Sales"
    owner = factory.LazyAttribute(lambda c: c.company.owner)
    team = None
