"""A rep's day in a real browser: log a due step from the dashboard and see the plan advance;
a manager approves a strategy's automation, sends the email and finds it in the outbox."""

import datetime

import pytest
from django.utils import timezone

from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due
from cadence.messaging.tests.support import automated_strategy
from cadence.plans.assignment import strategy_assign
from cadence.plans.models import LeadContactPlan
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.web.tests.browser.conftest import htmx_ready, serious_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def _due_plan(rep):
    strategy = ContactStrategyFactory(created_by=rep, name="Three touches")
    for number, kind in enumerate(["Call", "Email", "LinkedIn Message"], start=1):
        StrategyStepFactory(
            strategy=strategy,
            step_number=number,
            delay_days=0 if number == 1 else 2,
            activity_type=kind,
        )
    contact = ContactFactory(
        owner=rep,
        first_name="Ada",
        last_name="Lovelace",
        company=CompanyFactory(owner=rep, name="Analytical Engines"),
    )
    strategy_assign(
        strategy=strategy,
        user=rep,
        contacts=[contact],
        plan_start_date=timezone.now() - datetime.timedelta(days=1),
    )
    return LeadContactPlan.objects.get(contact=contact)


def test_a_due_step_is_logged_from_the_dashboard_and_the_plan_advances(page, sign_in, rep):
    plan = _due_plan(rep)
    sign_in(rep)

    task = page.locator(f"#task-{plan.pk}")
    assert "Step 1" in task.inner_text()
    assert page.get_by_role("heading", name="Overdue (1)").is_visible()
    task.get_by_role("link", name="Log done").click()
    htmx_ready(task.locator("form.task-form"))
    task.get_by_label("Outcome").select_option("Connected")
    task.get_by_label("Notes").fill("Talked about the pilot.")
    task.get_by_role("button", name="Save").click()
    page.locator(f"#task-{plan.pk} [role=status]").wait_for()

    plan.refresh_from_db()
    assert plan.current_step.step_number == 2
    page.locator(f"#task-{plan.pk}").get_by_role("link", name="Open plan").click()
    page.wait_for_url(f"**/plans/{plan.pk}/")
    assert "Talked about the pilot." in page.inner_text("main")
    assert serious_violations(page) == []
    assert page.console_errors == []


def test_the_dashboard_has_no_serious_accessibility_violations(page, sign_in, rep):
    _due_plan(rep)
    sign_in(rep)

    assert serious_violations(page) == []
    page.goto(f"{page.base}/plans/")
    assert serious_violations(page) == []


def test_a_manager_approves_automation_sends_now_and_sees_it_sent(page, sign_in, manager):
    manager.email, manager.signature = "manager@seller.example", "Mia Manager"
    manager.save()
    Sender.objects.create(
        user=manager, ramp_started_on=datetime.date(2020, 1, 1), postal_address="1 Main St"
    )
    strategy = automated_strategy(approved=False, created_by=manager, name="Automated intro")
    contact = ContactFactory(
        owner=manager,
        first_name="Grace",
        email="grace@navy.example",
        company=CompanyFactory(owner=manager, name="Navy"),
    )
    strategy_assign(
        strategy=strategy,
        user=manager,
        contacts=[contact],
        plan_start_date=timezone.now() - datetime.timedelta(minutes=5),
    )
    outbox_queue_due(now=timezone.now())
    sign_in(manager)

    page.goto(f"{page.base}/outbox/")
    page.get_by_role("button", name="Approve automation of Automated intro").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Queued (1)").click()
    page.wait_for_url("**/outbox/?status=queued")
    message = OutboundMessage.objects.get()
    page.goto(f"{page.base}/outbox/{message.pk}/")
    page.get_by_role("button", name="Send now").click()
    page.wait_for_load_state()
    page.goto(f"{page.base}/outbox/?status=sent")

    row = page.locator("main table")
    assert "grace@navy.example" in row.inner_text()
    assert "Quick question, Grace" in row.inner_text()
    assert serious_violations(page) == []
    assert page.console_errors == []


def test_the_outbox_pages_have_no_serious_accessibility_violations(page, sign_in, manager):
    sign_in(manager)
    for path in ("/outbox/", "/outbox/mail/", "/outbox/inbound/", "/suppressions/"):
        page.goto(f"{page.base}{path}")
        assert serious_violations(page) == [], path
        assert page.console_errors == [], path
