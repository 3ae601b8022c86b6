"""The rule "which steps Cadence sends itself" reads the same in Python, the ORM and SQL."""

import itertools

import pytest
from django.db import connection
from django.utils import timezone

from cadence.activities.choices import ActivityType
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.automation import (
    automated_email_q,
    is_automated_email,
    is_sent_by_cadence,
    not_sent_by_cadence_sql,
    sent_by_cadence_q,
)
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db


def _every_kind_of_plan(rep) -> dict:
    """One plan for each combination the rule looks at, named by what it is."""
    plans = {}
    combos = itertools.product(
        (True, False),  # for a contact (else the whole company)
        (True, False),  # automated step
        (ActivityType.EMAIL, ActivityType.CALL, ActivityType.LINKEDIN_MESSAGE),
        (True, False),  # automation approved
    )
    for contact_plan, automated, kind, approved in combos:
        strategy = ContactStrategyFactory(
            created_by=rep, automation_approved_at=timezone.now() if approved else None
        )
        StrategyStepFactory(
            strategy=strategy, step_number=1, activity_type=kind, is_automated=automated
        )
        if contact_plan:
            contact = ContactFactory(owner=rep)
            plan = LeadContactPlanFactory(
                strategy=strategy, user=rep, contact=contact, company=contact.company
            )
        else:
            plan = LeadContactPlanFactory(
                strategy=strategy, user=rep, contact=None, company=CompanyFactory(owner=rep)
            )
        plans[(contact_plan, automated, kind, approved)] = plan
    return plans


def test_python_orm_and_sql_agree_on_every_kind_of_plan(rep):
    plans = _every_kind_of_plan(rep)
    ids = [plan.pk for plan in plans.values()]
    loaded = LeadContactPlan.objects.select_related("strategy", "current_step").filter(pk__in=ids)
    by_python = {plan.pk for plan in loaded if is_sent_by_cadence(plan)}
    queued_by_python = {plan.pk for plan in loaded if is_automated_email(plan)}
    by_orm = set(loaded.filter(sent_by_cadence_q()).values_list("pk", flat=True))
    queued_by_orm = set(loaded.filter(automated_email_q()).values_list("pk", flat=True))
    table = LeadContactPlan._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT plan_id FROM {table} WHERE plan_id IN ({marks}) "
            f"AND NOT {not_sent_by_cadence_sql(table)}",
            [LeadContactPlan._meta.pk.get_db_prep_value(pk, connection) for pk in ids],
        )
        by_sql = {LeadContactPlan._meta.pk.to_python(row[0]) for row in cursor.fetchall()}

    expected = {
        plan.pk
        for (contact_plan, automated, kind, approved), plan in plans.items()
        if contact_plan and automated and kind == ActivityType.EMAIL and approved
    }
    assert by_python == by_orm == by_sql == expected
    assert len(expected) == 1
    assert queued_by_python == queued_by_orm
    assert len(queued_by_orm) == 2  # approved or waiting for the approval


def test_a_plan_without_a_current_step_is_not_sent_by_cadence(rep):
    strategy = ContactStrategyFactory(created_by=rep, automation_approved_at=timezone.now())
    plan = LeadContactPlanFactory(strategy=strategy, user=rep)
    assert plan.current_step is None
    assert not is_sent_by_cadence(plan)
    assert not LeadContactPlan.objects.filter(sent_by_cadence_q(), pk=plan.pk).exists()
