"""``manage.py screenshots`` (``make screenshots``): pictures of the main pages, for the README.

Builds the demo data set in a throwaway SQLite database, serves it with ``runserver``, signs in
with Chromium (Playwright) as a rep and as a manager, and saves each page at 1280 px and at a
390 px phone width under ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

PASSWORD = "screenshots-demo-password"
#: What follows a list's path in the address of one of its objects.
DETAIL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/")
#: (file name, path, who looks) of each page pictured: a rep's day, then a manager's outbox.
#: A path ending in "first:" opens the first link to such a page on the page before.
PAGES = [
    ("dashboard", "/", "lukas"),
    ("plans", "/plans/", "lukas"),
    ("plan", "first:/plans/", "lukas"),
    ("strategies", "/strategies/", "lukas"),
    ("strategy-editor", "first:/strategies/", "lukas"),
    ("contacts", "/contacts/", "lukas"),
    ("contact", "first:/contacts/", "lukas"),
    ("settings", "/settings/", "lukas"),
    ("suggestions", "/suggestions/", "lukas"),
    ("analytics", "/analytics/", "olivia"),
    ("funnel", "first:/analytics/strategies/", "olivia"),
    ("outbox", "/outbox/", "olivia"),
    ("suppressions", "/suppressions/", "olivia"),
]
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Command(BaseCommand):
    help = "Save screenshots of the main pages with demo data to docs/screenshots/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots")
        )
        parser.add_argument(
            "--chromium", default=os.environ.get("CADENCE_CHROMIUM", "/usr/bin/chromium")
        )

    def handle(self, *args, output: str, chromium: str, **options) -> None:
        if not Path(chromium).exists():
            raise CommandError(f"No Chromium at {chromium}: apt install chromium.")
        from playwright.sync_api import sync_playwright

        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings.base",
                "DATABASE_URL": f"sqlite:///{scratch}/screens.sqlite3",
                "CADENCE_VAR_DIR": scratch,
                "LOG_LEVEL": "WARNING",
            }
            self._manage(env, "migrate", "--noinput", "-v", "0")
            self.stdout.write("Loading the demo data...")
            self._manage(env, "load_demo_data", "--password", PASSWORD)
            port = _free_port()
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for(port)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
                    try:
                        self._shoot(browser, f"http://127.0.0.1:{port}", out)
                    finally:
                        browser.close()
            finally:
                server.terminate()
                server.wait()

    def _shoot(self, browser, base: str, out: Path) -> None:
        for width, suffix in ((1280, ""), (390, "-phone")):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            signed_in = None
            for name, path, username in PAGES:
                if username != signed_in:
                    context.clear_cookies()
                    self._sign_in(page, base, username)
                    signed_in = username
                if path.startswith("first:"):
                    prefix = path.removeprefix("first:")
                    links = page.locator(f"main a[href^='{prefix}']").evaluate_all(
                        "links => links.map(a => a.getAttribute('href'))"
                    )
                    detail = [h for h in links if DETAIL.fullmatch(h.removeprefix(prefix))]
                    if not detail:
                        continue
                    page.goto(f"{base}{detail[0]}")
                else:
                    page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                target = out / f"{name}{suffix}.png"
                page.screenshot(path=str(target))
                self.stdout.write(f"  {target.relative_to(Path(settings.BASE_DIR))}")
            context.close()

    def _sign_in(self, page, base: str, username: str) -> None:
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")

    def _manage(self, env: dict, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise CommandError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise CommandError("The server did not start.")
