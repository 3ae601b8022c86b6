"""The page benchmark behind ``manage.py bench_pages``: how long the web pages take on a
database full of plans.

Signs in as the scheduler benchmark's manager (who sees every plan) and one of its reps (via
Django's test client, no network) and times each main page, with its number of queries. Seed
the database first with ``bench_scheduler --plans N --keep`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cadence.accounts.models import User
from cadence.ops.bench.scheduler_data import USER_PREFIX
from cadence.plans.models import LeadContactPlan

PAGES = [
    "/",
    "/plans/",
    "/plans/?status=In+Progress",
    "/plans/?due=overdue",
    "/plans/?q=acme",
    "/contacts/",
    "/companies/",
    "/strategies/",
    "/outbox/",
]


def pages_bench(*, repeat: int, say: Callable[[str], None]) -> None:
    """Time each of ``PAGES`` ``repeat`` times for the manager and a rep; ``say`` the medians."""
    users = list(User.objects.filter(username__startswith=USER_PREFIX).order_by("username"))
    if len(users) < 2:
        raise CommandError("No benchmark data: run bench_scheduler --plans N --keep first.")
    plans = LeadContactPlan.objects.count()
    say(f"{connection.vendor}, {plans:,} plans; median of {repeat} requests.")
    for user in (users[0], users[1]):
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        visible = LeadContactPlan.objects.filter(user=user).count()
        say(f"{user.username} ({user.role}; owns {visible:,} plans):")
        for path in PAGES:
            client.get(path)  # warm caches, as a second visit would
            times, queries, status = [], 0, 0
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - started)
                queries, status = len(captured), response.status_code
            say(
                f"  {path:<28} {statistics.median(times) * 1000:7.1f} ms  "
                f"{queries:2d} queries  HTTP {status}"
            )
