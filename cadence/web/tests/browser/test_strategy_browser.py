"""The strategy editor in a real browser: build a three-step strategy, reorder it by dragging,
watch the live preview, and assign the strategy to two contacts."""

import pytest

from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy
from cadence.web.tests.browser.conftest import htmx_ready, serious_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def _add_step(page, kind: str, delay: str, subject: str = ""):
    form = page.get_by_role("form", name="New step")
    form.get_by_label("Activity type").select_option(kind)
    form.get_by_label("Delay (days)").fill(delay)
    if subject:
        form.get_by_label("Subject template").fill(subject)
    form.get_by_role("button", name="Add step").click()


def _order(strategy) -> list[str]:
    return [s.activity_type for s in strategy.steps.order_by("step_number")]


def test_build_reorder_preview_and_assign_a_strategy(page, sign_in, rep):
    company = CompanyFactory(owner=rep, name="Analytical Engines")
    ada = ContactFactory(owner=rep, company=company, first_name="Ada", last_name="Lovelace")
    grace = ContactFactory(owner=rep, company=company, first_name="Grace", last_name="Hopper")
    sign_in(rep)

    page.goto(f"{page.base}/strategies/")
    page.get_by_label("Name").fill("Three touches")
    page.get_by_role("button", name="Create strategy").click()
    page.wait_for_url("**/strategies/*/")
    strategy = ContactStrategy.objects.get(name="Three touches")

    _add_step(page, "Email", "0", "Hello {{ contact.first_name }}")
    page.get_by_role("button", name="Edit step 1").wait_for()
    _add_step(page, "Call", "2")
    page.get_by_role("button", name="Edit step 2").wait_for()
    _add_step(page, "LinkedIn Message", "3")
    page.get_by_role("button", name="Edit step 3").wait_for()
    assert _order(strategy) == ["Email", "Call", "LinkedIn Message"]
    assert "+2 days" in page.get_by_role("list", name="Steps").inner_text()

    # Drag the last step above the first.
    page.get_by_role("button", name="Drag to reorder step 3").drag_to(
        page.get_by_role("button", name="Drag to reorder step 1")
    )
    page.get_by_text("The new order is saved.").wait_for()
    assert _order(strategy) == ["LinkedIn Message", "Email", "Call"]

    # The live preview renders the email step for a chosen contact.
    page.get_by_role("button", name="Edit step 2").click()
    edit = page.get_by_role("form", name="Edit step 2")
    chooser = edit.get_by_label("Preview for")
    htmx_ready(chooser)
    edit.get_by_label("Subject template").fill("Hi {{ contact.first_name }} at {{ company.name }}")
    # Choosing the contact asks for the preview at once (typing waits for a pause).
    with page.expect_response("**/preview/") as answered:
        chooser.select_option(value=str(ada.pk))
    assert answered.value.ok
    edit.get_by_text("Hi Ada at Analytical Engines").wait_for()
    assert serious_violations(page) == []

    page.goto(f"{page.base}/strategies/{strategy.pk}/assign/?contact={ada.pk}&contact={grace.pk}")
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("2 enrolled").wait_for()
    assert LeadContactPlan.objects.filter(strategy=strategy).count() == 2
    assert page.console_errors == []


def test_the_strategy_pages_have_no_serious_accessibility_violations(page, sign_in, rep):
    strategy = ContactStrategy.objects.create(name="Empty", created_by=rep)
    sign_in(rep)

    for path in ("/strategies/", f"/strategies/{strategy.pk}/", "/strategies/assign/"):
        page.goto(f"{page.base}{path}")
        assert serious_violations(page) == [], path


def test_steps_reorder_from_the_keyboard(page, sign_in, rep):
    strategy = ContactStrategy.objects.create(name="Keyboard", created_by=rep)
    for number, kind in enumerate(["Email", "Call"], start=1):
        strategy.steps.create(step_number=number, delay_days=0, activity_type=kind)
    sign_in(rep)
    page.goto(f"{page.base}/strategies/{strategy.pk}/")

    page.get_by_role("button", name="Move up step 2").focus()
    with page.expect_response("**/steps/reorder/"):
        page.keyboard.press("Enter")

    page.get_by_text("The new order is saved.").wait_for()
    assert _order(strategy) == ["Call", "Email"]
