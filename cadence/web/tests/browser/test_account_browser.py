"""Signing in and the settings page in a real browser, with an accessibility check."""

import pytest

from cadence.web.tests.browser.conftest import serious_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def test_sign_in_and_out(page, sign_in, rep):
    sign_in(rep)

    assert page.get_by_role("navigation", name="Main").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    assert page.get_by_role("heading", name="Sign in to Cadence").is_visible()
    assert page.console_errors == []


def test_a_wrong_password_says_so(page, rep):
    page.goto(f"{page.base}/accounts/login/")
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill("nope")
    page.get_by_role("button", name="Sign in").click()

    assert page.get_by_role("alert").inner_text().startswith("Your username and password")


def test_settings_rotate_the_calendar_address(page, sign_in, rep):
    sign_in(rep)
    page.goto(f"{page.base}/settings/")
    before = page.get_by_label("Your calendar address").input_value()

    page.get_by_role("button", name="Rotate address").click()
    page.wait_for_load_state()

    after = page.get_by_label("Your calendar address").input_value()
    assert after != before and after.endswith(".ics")
    assert page.console_errors == []


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/settings/",
        "/notifications/",
        "/settings/suggestions/",
        "/suggestions/",
        "/recommendations/",
        "/analytics/",
        "/analytics/funnel/",
        "/analytics/adherence/",
        "/analytics/email/",
    ],
)
def test_pages_have_no_serious_accessibility_violations(page, sign_in, rep, path):
    if path != "/accounts/login/":
        sign_in(rep)
    page.goto(f"{page.base}{path}")

    assert serious_violations(page) == []
    assert page.console_errors == []


def test_the_layout_fits_a_phone(page, sign_in, rep):
    sign_in(rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{page.base}/settings/")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
