"""The strategies' services: the rules every way in (API, web editor, duplication, custom plans)
reaches through them."""

import pytest

from cadence.core.errors import CadenceError
from cadence.core.tests.api_helpers import API, assert_field_error
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.strategies import services
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.tests.factories import ContactStrategyFactory

pytestmark = pytest.mark.django_db

STEP = {"activity_type": "Call", "delay_days": 1}


def full_strategy(user) -> ContactStrategy:
    strategy = ContactStrategyFactory(created_by=user)
    StrategyStep.objects.bulk_create(
        StrategyStep(strategy=strategy, step_number=number, activity_type="Call")
        for number in range(1, services.MAX_STEPS + 1)
    )
    return strategy


def test_a_strategy_is_created_with_at_most_the_most_steps(rep):
    made = services.strategy_create(created_by=rep, name="Long", steps=[STEP] * services.MAX_STEPS)
    assert made.steps.count() == services.MAX_STEPS
    with pytest.raises(CadenceError, match=f"At most {services.MAX_STEPS} steps") as refused:
        services.strategy_create(
            created_by=rep, name="Too long", steps=[STEP] * (services.MAX_STEPS + 1)
        )
    assert refused.value.field == "steps"
    assert not ContactStrategy.objects.filter(name="Too long").exists()


@pytest.mark.parametrize("step_number", [None, 1, 50])
def test_a_step_is_not_added_past_the_most(rep, step_number):
    strategy = full_strategy(rep)
    with pytest.raises(CadenceError, match="the most it may have"):
        services.step_create(strategy=strategy, step_number=step_number, **STEP)
    assert strategy.steps.count() == services.MAX_STEPS
    assert list(strategy.steps.order_by("step_number").values_list("step_number", flat=True)) == (
        list(range(1, services.MAX_STEPS + 1))
    )
    services.step_delete(step=strategy.steps.get(step_number=1))
    services.step_create(strategy=strategy, step_number=step_number, **STEP)
    assert strategy.steps.count() == services.MAX_STEPS


def test_every_way_in_meets_the_cap(client_for, rep):
    """The API's strategy, step and custom plan endpoints answer the service's 400."""
    client = client_for(rep)
    too_many = [STEP] * (services.MAX_STEPS + 1)
    response = client.post(f"{API}/strategies/", {"name": "Too long", "steps": too_many})
    assert_field_error(response, "steps", f"At most {services.MAX_STEPS} steps")

    strategy = full_strategy(rep)
    response = client.post(f"{API}/strategies/{strategy.pk}/steps/", STEP)
    assert response.status_code == 400, response.content
    assert "the most it may have" in str(response.json())

    contact = ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
    response = client.post(
        f"{API}/plans/custom/", {"contact_id": str(contact.pk), "steps": too_many}
    )
    assert_field_error(response, "steps", f"At most {services.MAX_STEPS} steps")
    assert not LeadContactPlan.objects.exists()


def test_duplicating_a_full_strategy_copies_every_step(rep):
    copy = services.strategy_duplicate(strategy=full_strategy(rep), actor=rep)
    assert copy.steps.count() == services.MAX_STEPS


@pytest.mark.parametrize("name", ["subject_template", "description_template"])
def test_a_step_whose_template_cannot_render_is_refused(rep, name):
    """Whatever calls the service (API, pages, duplication, custom plans), a broken template or
    an unknown placeholder is refused on its field, naming the line."""
    strategy = ContactStrategyFactory(created_by=rep)
    with pytest.raises(CadenceError, match="Line 1") as refused:
        services.step_create(strategy=strategy, **STEP, **{name: "Hi {{ contact.first_name"})
    assert refused.value.field == name
    with pytest.raises(CadenceError):
        services.strategy_create(created_by=rep, name="Bad", steps=[{**STEP, name: "{{ nope }}"}])
    step = services.step_create(strategy=strategy, **STEP, **{name: "Hi {{ contact.first_name }}"})
    with pytest.raises(CadenceError) as refused:
        services.step_update(step=step, data={name: "{{ contact.no_such_field }}"})
    assert refused.value.field == name
    step.refresh_from_db()
    assert getattr(step, name) == "Hi {{ contact.first_name }}"
    assert not ContactStrategy.objects.filter(name="Bad").exists()
