"""``manage.py load_demo_data``: fill an empty installation with a realistic demo data set."""

import argparse
import datetime
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cadence.core.errors import CadenceError
from cadence.ops.demo import (
    ADMIN_USERNAME,
    MANAGER_USERNAMES,
    REP_USERNAME,
    build_demo_data,
    demo_data_loaded,
)

LOGIN_FILE_NAME = "demo-login.txt"


def _aware_datetime(value: str) -> datetime.datetime:
    """Parse ``--now``; a time without an offset is taken as UTC."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date and time.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


class Command(BaseCommand):
    help = (
        "Load a deterministic demo data set (teams, users, companies, contacts, strategies, "
        "plans in every status placed by the plan engine's rules, activity history, step "
        "results, reminders). Does nothing if it is loaded."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=42, help="Seed of the data set (default: 42)."
        )
        parser.add_argument(
            "--now",
            type=_aware_datetime,
            default=None,
            help="Reference time, ISO 8601 (default: the current time). Due dates and history "
            "are placed around it.",
        )
        parser.add_argument(
            "--password",
            default=None,
            help="Password of every demo user (default: a new random one).",
        )

    def handle(
        self, *args, seed: int, now: datetime.datetime | None, password: str | None, **options
    ) -> None:
        login_file = Path(settings.VAR_DIR) / LOGIN_FILE_NAME
        if demo_data_loaded():
            self.stdout.write(f"Demo data is already loaded (user {ADMIN_USERNAME!r} exists).")
            if login_file.exists():
                self.stdout.write(login_file.read_text().rstrip())
            else:
                self.stdout.write(
                    "Its password was not recorded; `manage.py changepassword "
                    f"{REP_USERNAME}` (or {ADMIN_USERNAME}) sets a new one."
                )
            return

        password = password or secrets.token_urlsafe(12)
        try:
            summary = build_demo_data(
                seed=seed, now=now or timezone.now(), password=password, log=self.stdout.write
            )
        except CadenceError as exc:
            raise CommandError(f"Nothing was loaded: {exc.message}") from exc

        login = _login_text(password, summary.usernames)
        _write_private(login_file, login + "\n")
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (seed {seed})."))
        self.stdout.write(login)
        self.stdout.write(f"(Saved in {login_file}.)")


def _login_text(password: str, usernames: tuple[str, ...]) -> str:
    """Who to sign in as. The rep first: the admin runs no plans, so their dashboard is empty,
    while the rep's has tasks overdue and due today."""
    return (
        f"Log in as: {REP_USERNAME}  (a rep: the dashboard shows their overdue and due-today "
        "tasks)\n"
        f"Password:  {password}\n"
        f"Admin pages (/admin/): {ADMIN_USERNAME}, same password.\n"
        f"Every demo user ({', '.join(usernames)}) has this password; the managers "
        f"({', '.join(MANAGER_USERNAMES)}) can switch the dashboard to their team's tasks."
    )


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only: it holds a password."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    # os.open's mode applies only when it creates the file; an older file keeps its own.
    path.chmod(0o600)
