"""Building leads whose automated email step is due."""

from __future__ import annotations

import datetime
import secrets

from django.utils import timezone

from cadence.accounts.tests.factories import UserFactory
from cadence.core.secrets import secret_encrypt
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.mailboxes.models import Mailbox
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


def connected_mailbox(dovecot, smtp_auth_server, user, *, email_address: str):
    """``user``'s own mailbox, connected: IMAP on the test Dovecot, SMTP submission on the test
    aiosmtpd, the same new account on both. Its password is kept as ``.password`` for tests."""
    name, password = f"seller-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    dovecot.add_user(name, password)
    smtp_auth_server.add_user(name, password)
    mailbox = Mailbox.objects.create(
        user=user,
        provider="imap_smtp",
        email_address=email_address,
        username=name,
        secret_encrypted=secret_encrypt(password),
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security="none",
        smtp_host=smtp_auth_server.host,
        smtp_port=smtp_auth_server.port,
        smtp_security="none",
        sent_folder="Sent",
    )
    mailbox.password = password
    return mailbox
