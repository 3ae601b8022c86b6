"""A sending workload for the outbox benchmark and the fault test: one sender, an approved
strategy whose first step is an automated email, and N contacts whose email is due now."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.crm.models import Company, Contact
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due
from cadence.plans.assignment import strategy_assign
from cadence.strategies.models import ContactStrategy, StrategyStep

USERNAME = "outbox-load"
CONTACTS_PER_COMPANY = 10


@dataclass(frozen=True)
class Workload:
    user_id: object
    queued: int
    seconds: float


def seed_outbox(*, messages: int, label: str = "", log=print) -> Workload:
    """Queue ``messages`` automated emails, due now, from a new sender (named by ``label``) to
    new contacts spread over many recipient domains, so no per-domain limit is in the way."""
    started = timezone.now()
    username = f"{USERNAME}-{label}" if label else USERNAME
    if User.objects.filter(username=username).exists():
        raise ValueError(f"This database holds the workload {username!r} already.")
    tag = f"{label}-" if label else ""
    with transaction.atomic():
        user = User.objects.create_user(
            username,
            email="load@sender.example",
            password=None,
            display_name="Load Sender",
            signature="-- Load Sender",
            time_zone="UTC",
        )
        Sender.objects.create(
            user=user,
            ramp_started_on=datetime.date(2000, 1, 1),
            daily_limit=10_000_000,
            hourly_limit=10_000_000,
            postal_address="Cadence Load Test, 1 Bench Street, Testville",
        )
        strategy = ContactStrategy.objects.create(
            name=f"Outbox load {label}".strip(), created_by=user, automation_approved_at=started
        )
        StrategyStep.objects.create(
            strategy=strategy,
            step_number=1,
            delay_days=0,
            activity_type="Email",
            is_automated=True,
            subject_template="A question for {{ company.name }}, {{ contact.first_name }}",
            description_template=(
                "Hi {{ contact.first_name }},\n\nI noticed {{ company.name }} is growing its "
                "{{ contact.title | default('sales') }} team. Would a short call next week "
                "help?\n\n{{ user.signature }}"
            ),
        )
        StrategyStep.objects.create(
            strategy=strategy, step_number=2, delay_days=3, activity_type="Call"
        )
        companies = Company.objects.bulk_create(
            Company(
                name=f"Load Co {tag}{n}",
                domain=f"{tag}load{n}.example",
                owner=user,
                time_zone="UTC",
            )
            for n in range(-(-messages // CONTACTS_PER_COMPANY))
        )
        contacts = Contact.objects.bulk_create(
            Contact(
                company=companies[n // CONTACTS_PER_COMPANY],
                first_name=f"Lead{n}",
                last_name="Load",
                email=f"lead{n}@{tag}load{n // CONTACTS_PER_COMPANY}.example",
                title="Head of Sales",
                owner=user,
                time_zone="UTC",
            )
            for n in range(messages)
        )
    log(f"Seeded {messages} contacts; enrolling them...")
    strategy_assign(
        strategy=strategy,
        user=user,
        contacts=contacts,
        plan_start_date=started - datetime.timedelta(minutes=1),
    )
    queued = outbox_queue_due(now=timezone.now())
    seconds = (timezone.now() - started).total_seconds()
    log(f"Queued {queued} automated emails in {seconds:.1f} s.")
    return Workload(
        user_id=user.pk,
        queued=OutboundMessage.objects.filter(status="queued", user=user).count(),
        seconds=seconds,
    )
