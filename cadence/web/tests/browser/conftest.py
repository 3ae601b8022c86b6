"""Real-browser tests: Playwright's Python package driving Debian's Chromium against Django's
live test server.

Chromium is ``CADENCE_CHROMIUM`` (default ``/usr/bin/chromium``; ``.ci/run`` installs it). Without
it these tests skip, unless ``CADENCE_REQUIRE_SERVICES=1``, which makes a missing browser a
failure so that CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CADENCE_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("CADENCE_REQUIRE_SERVICES") == "1"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"

# Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from a
# thread with a running loop unless told that this one is safe (the test is synchronous).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if REQUIRED:
            pytest.fail(f"{CHROMIUM} is missing and CADENCE_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab at 1280 x 800, recording console errors (a CSP violation shows up
    there), with the live server's address as ``page.base``."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.console_errors = []
    tab.on(
        "console",
        lambda message: (
            tab.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    tab.base = live_server.url
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def sign_in(page):
    """``sign_in(user)``: sign in through the login form, as a person would."""

    def run(user):
        user.set_password(PASSWORD)
        user.save()
        page.goto(f"{page.base}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{page.base}/")
        return page

    return run


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page, described."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def htmx_ready(locator) -> None:
    """Wait until htmx has wired the element (content it swapped in is processed a moment after
    it appears): acting before would send a plain request instead of the htmx one."""
    locator.evaluate(
        "el => new Promise(ok => (function wait() {"
        " el['htmx-internal-data'] ? ok() : setTimeout(wait, 20); })())"
    )
