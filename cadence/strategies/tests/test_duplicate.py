"""strategy_duplicate copies a strategy's settings and steps into a new, unapproved template."""

import datetime

import pytest
from django.utils import timezone

from cadence.strategies.services import strategy_duplicate
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db


def test_the_copy_has_the_settings_and_steps_in_order(rep, manager):
    original = ContactStrategyFactory(
        name="Outbound SaaS",
        description="Five touches",
        created_by=manager,
        uses_business_days=True,
        send_window_start=datetime.time(9),
        send_window_end=datetime.time(17),
        exit_on_reply=False,
        pause_company_on_reply=True,
        exclusive=True,
        cooldown_days=30,
    )
    StrategyStepFactory(strategy=original, step_number=1, delay_days=0, activity_type="Email")
    StrategyStepFactory(
        strategy=original,
        step_number=2,
        delay_days=3,
        activity_type="Call",
        subject_template="Call {{ contact.first_name }}",
        description_template="",
        is_automated=False,
    )

    copy = strategy_duplicate(strategy=original, actor=rep)

    assert copy.pk != original.pk
    assert copy.name == "Copy of Outbound SaaS"
    assert copy.created_by == rep
    assert copy.is_template
    assert (copy.description, copy.uses_business_days, copy.exit_on_reply) == (
        "Five touches",
        True,
        False,
    )
    assert (copy.send_window_start, copy.send_window_end) == (
        datetime.time(9),
        datetime.time(17),
    )
    assert copy.pause_company_on_reply and copy.exclusive and copy.cooldown_days == 30
    steps = list(copy.steps.order_by("step_number"))
    assert [(s.step_number, s.activity_type, s.delay_days) for s in steps] == [
        (1, "Email", 0),
        (2, "Call", 3),
    ]
    assert steps[1].subject_template == "Call {{ contact.first_name }}"
    assert original.steps.count() == 2


def test_the_copy_is_neither_approved_nor_archived(rep, manager):
    original = ContactStrategyFactory(
        created_by=manager,
        automation_approved_at=timezone.now(),
        automation_approved_by=manager,
        automation_requires_approval=False,
        archived_at=timezone.now(),
    )

    copy = strategy_duplicate(strategy=original, actor=rep)

    assert copy.automation_approved_at is None
    assert copy.automation_approved_by is None
    assert copy.automation_requires_approval is True
    assert copy.archived_at is None


def test_a_custom_plans_strategy_is_copied_as_a_template_and_a_long_name_is_cut(rep):
    original = ContactStrategyFactory(created_by=rep, is_template=False, name="x" * 255)

    copy = strategy_duplicate(strategy=original, actor=rep)

    assert copy.is_template
    assert len(copy.name) == 255
    assert copy.name.startswith("Copy of x")
