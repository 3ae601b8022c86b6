"""Building leads whose automated email step is due."""

from __future__ import annotations

import datetime

from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.messaging.models import Sender
from cadence.plans.assignment import strategy_assign
from cadence.plans.models import LeadContactPlan
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

SUBJECT = "Quick question, {{ contact.first_name }}"
BODY = (
    "Hi {{ contact.first_name }},\n\nhow does {{ company.name }} handle onboarding today?\n\n"
    "{{ user.signature }}"
)


def automated_strategy(*, approved: bool = True, steps: int = 2, **options):
    """A strategy whose step 1 is an automated email due at once; later steps are calls."""
    creator = options.pop("created_by", None) or UserFactory()
    strategy = ContactStrategyFactory(
        created_by=creator,
        automation_approved_at=timezone.now() if approved else None,
        **options,
    )
    StrategyStepFactory(
        strategy=strategy,
        step_number=1,
        delay_days=0,
        activity_type="Email",
        subject_template=SUBJECT,
        description_template=BODY,
        is_automated=True,
    )
    for number in range(2, steps + 1):
        StrategyStepFactory(
            strategy=strategy, step_number=number, delay_days=2, activity_type="Call"
        )
    return strategy


def sender_user(**fields):
    defaults = {
        "email": "sam@seller.example",
        "display_name": "Sam Seller",
        "signature": "Sam Seller, Acme Sales",
        "time_zone": "UTC",
    }
    defaults.update(fields)
    user = UserFactory(**defaults)
    Sender.objects.create(
        user=user,
        ramp_started_on=datetime.date(2020, 1, 1),
        postal_address="Acme Sales GmbH, Hauptstrasse 1, 10115 Berlin",
    )
    return user


def enroll(strategy, user, contacts, *, start=None) -> list[LeadContactPlan]:
    start = start or timezone.now() - datetime.timedelta(minutes=5)
    strategy_assign(strategy=strategy, contacts=contacts, user=user, plan_start_date=start)
    return list(
        LeadContactPlan.objects.filter(strategy=strategy, contact__in=contacts).order_by(
            "contact__email"
        )
    )


def contacts_of(user, count: int, *, domain: str = "client.example", company=None, **fields):
    company = company or CompanyFactory(owner=user, name="Initech", time_zone="UTC")
    return [
        ContactFactory(
            company=company,
            owner=user,
            email=f"person{n}@{domain}",
            time_zone="UTC",
            **{"first_name": f"Person{n}", **fields},
        )
        for n in range(count)
    ]
