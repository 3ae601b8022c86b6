"""The Analytics section in a real browser: a manager reads strategy performance, opens a
strategy's funnel and the adherence trend. Chart.js must draw under the strict CSP (no console
errors) and the pages must pass axe's serious checks."""

import pytest

from cadence.web.tests.browser.conftest import serious_violations
from cadence.web.tests.test_analytics import run_plan, strategy_with_steps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def _history(manager, rep, teammate):
    north = strategy_with_steps(manager, "North outreach")
    calls = strategy_with_steps(manager, "Call first", kinds=("Call", "Email"))
    for user in (rep, teammate):
        run_plan(user, north, days_ago=40, steps_done=1, replied=True)
        run_plan(user, north, days_ago=25, steps_done=2)
        run_plan(user, calls, days_ago=20, steps_done=1)
        run_plan(user, calls, days_ago=3)
    return north


def _chart_drawn(page, selector: str) -> dict:
    """What Chart.js made of the canvas: its chart's type and the canvas's drawn size."""
    return page.evaluate(
        """selector => {
            const canvas = document.querySelector(selector);
            const chart = window.Chart && Chart.getChart(canvas);
            return {type: chart ? chart.config.type : null,
                    width: canvas.width, height: canvas.height};
        }""",
        selector,
    )


def test_a_manager_reads_the_charts_and_tables(page, sign_in, manager, rep, teammate):
    north = _history(manager, rep, teammate)
    sign_in(manager)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.wait_for_url("**/analytics/")
    page.wait_for_function("() => window.Chart && Chart.getChart('conversion-chart')")
    drawn = _chart_drawn(page, "#conversion-chart")
    assert drawn["type"] == "bar" and drawn["width"] > 0 and drawn["height"] > 0
    assert "North outreach" in page.get_by_role("img").first.get_attribute("aria-label")
    assert (
        page.get_by_role("link", name="Download CSV").get_attribute("href").endswith("format=csv")
    )
    assert serious_violations(page) == []

    page.get_by_role("table").get_by_role("link", name="North outreach").click()
    page.wait_for_url(f"**/analytics/strategies/{north.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart('funnel-chart')")
    assert _chart_drawn(page, "#funnel-chart")["height"] > 0
    assert page.get_by_role("heading", name="Step funnel: North outreach").is_visible()
    assert page.locator(".findings li").count() == 2
    assert serious_violations(page) == []

    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Adherence").click()
    page.wait_for_url("**/analytics/adherence/")
    page.wait_for_function("() => window.Chart && Chart.getChart('adherence-chart')")
    assert _chart_drawn(page, "#adherence-chart")["type"] == "line"
    page.get_by_label("Grace period (hours)").fill("0")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/analytics/adherence/?*grace_hours=0*")
    page.wait_for_function("() => window.Chart && Chart.getChart('adherence-chart')")
    assert serious_violations(page) == []

    page.get_by_role("navigation", name="Reports").get_by_role(
        "link", name="Email outcomes"
    ).click()
    page.wait_for_url("**/analytics/email/?*grace_hours=0*")
    assert serious_violations(page) == []
    assert page.console_errors == []


def test_a_bad_filter_is_shown_at_its_field(page, sign_in, rep):
    sign_in(rep)
    page.goto(f"{page.base}/analytics/adherence/?grace_hours=9999&start=2025-05-01&end=2025-01-01")

    assert page.get_by_text("Enter whole hours from 0 to 720.").is_visible()
    assert page.get_by_text("The end date is before the start date.").is_visible()
    assert page.get_by_role("alert").is_visible()
    assert serious_violations(page) == []
    # The page answers 400; Chromium logs that, and nothing else may be logged.
    assert [e for e in page.console_errors if "400" not in e] == []
