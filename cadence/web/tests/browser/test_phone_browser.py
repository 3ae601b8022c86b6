"""Every main page fits a 390 px phone screen: nothing makes the page scroll sideways (wide
tables scroll inside their own box)."""

import pytest

from cadence.web.tests.browser.test_day_browser import _due_plan
from cadence.web.tests.browser.test_suggestions_browser import _run_with_a_finding
from cadence.web.tests.test_suggestions import voicemail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def test_the_main_pages_fit_a_phone(page, sign_in, rep):
    plan = _due_plan(rep)
    voicemail(rep, first_name="Ann", last_name="Lee")
    _run_with_a_finding()
    sign_in(rep)
    page.set_viewport_size({"width": 390, "height": 844})
    paths = [
        "/",
        "/plans/",
        f"/plans/{plan.pk}/",
        "/plans/new/",
        "/strategies/",
        f"/strategies/{plan.strategy_id}/",
        "/strategies/assign/",
        "/contacts/",
        f"/contacts/{plan.contact_id}/",
        "/companies/",
        f"/companies/{plan.company_id}/",
        "/contacts/import/",
        "/outbox/",
        "/suppressions/",
        "/settings/",
        "/notifications/",
        "/suggestions/",
        "/suggestions/?status=all",
        "/settings/suggestions/",
        "/recommendations/",
        "/analytics/",
        f"/analytics/strategies/{plan.strategy_id}/",
        "/analytics/adherence/",
        "/analytics/email/",
    ]

    too_wide = {}
    for path in paths:
        page.goto(f"{page.base}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width

    assert too_wide == {}
    assert page.console_errors == []
