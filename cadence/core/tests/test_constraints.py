"""The rules the database itself enforces, whatever code writes the rows."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.models import StrategyStep
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db


def _refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyStep.objects.create(**fields)


def test_step_number_is_unique_per_strategy():
    """Two steps of one strategy cannot share a number; another strategy may reuse it."""
    step = StrategyStepFactory(step_number=1)
    _refused(strategy=step.strategy, step_number=1, activity_type="Call")
    StrategyStepFactory(step_number=1)


def test_step_delay_cannot_be_negative():
    strategy = ContactStrategyFactory()
    _refused(strategy=strategy, step_number=1, delay_days=-1, activity_type="Call")


def test_step_number_starts_at_one():
    strategy = ContactStrategyFactory()
    _refused(strategy=strategy, step_number=0, activity_type="Call")


def test_plan_status_is_from_the_fixed_set():
    plan = LeadContactPlanFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadContactPlan.objects.filter(pk=plan.pk).update(status="Sleeping")


@pytest.mark.parametrize("status", ["Not Started", "In Progress", "Paused"])
def test_one_active_plan_per_contact_and_strategy(status):
    """A second active plan for the same contact and strategy is refused by the database."""
    plan = LeadContactPlanFactory(status=status)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadContactPlan.objects.create(
            company=plan.company, contact=plan.contact, strategy=plan.strategy, user=plan.user
        )


@pytest.mark.parametrize("status", ["Completed", "Aborted"])
def test_finished_plans_do_not_block_a_new_one(status):
    """After a plan ends, the contact may go through the same strategy again."""
    plan = LeadContactPlanFactory(status=status)
    again = LeadContactPlan.objects.create(
        company=plan.company, contact=plan.contact, strategy=plan.strategy, user=plan.user
    )
    assert again.status == "Not Started"


def test_database_defaults_match_the_specification():
    """Rows inserted without the ORM get the specification's database defaults."""
    strategy = ContactStrategyFactory()
    step_id = uuid.uuid4()
    pk = StrategyStep._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO strategy_steps (step_id, strategy_id, step_number, activity_type) "
            "VALUES (%s, %s, 1, 'Email')",
            [
                pk.get_db_prep_value(step_id, connection),
                pk.get_db_prep_value(strategy.pk, connection),
            ],
        )
    step = StrategyStep.objects.get(pk=step_id)
    assert step.delay_days == 0
    assert step.is_automated is False
    assert step.created_at is not None
    assert step.updated_at is not None


def test_delete_rules_follow_the_specification():
    """Company and contact deletes cascade to plans; a deleted strategy or step leaves the
    plan in place with the reference cleared (ON DELETE SET NULL)."""
    from cadence.activities.tests.factories import ActivityFactory

    plan = LeadContactPlanFactory(status="Completed")
    step = StrategyStepFactory(strategy=plan.strategy, step_number=1)
    LeadContactPlan.objects.filter(pk=plan.pk).update(current_step=step)
    activity = ActivityFactory(contact=plan.contact, plan=plan, step=step)

    step.delete()
    plan.refresh_from_db()
    activity.refresh_from_db()
    assert plan.current_step is None
    assert activity.step is None

    plan.strategy.delete()
    plan.refresh_from_db()
    assert plan.strategy is None

    plan.contact.delete()
    assert not LeadContactPlan.objects.filter(pk=plan.pk).exists()


def test_deleting_a_company_deletes_its_contacts_plans_and_activities():
    from cadence.activities.models import Activity
    from cadence.activities.tests.factories import ActivityFactory
    from cadence.crm.models import Contact

    plan = LeadContactPlanFactory()
    ActivityFactory(contact=plan.contact, plan=plan)
    plan.company.delete()
    assert not Contact.objects.exists()
    assert not LeadContactPlan.objects.exists()
    assert not Activity.objects.exists()
