"""A smoke test of ``manage.py bench_scheduler`` with a tiny N: it seeds, measures, reports the
figures and leaves nothing behind; it refuses a database holding other data."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from cadence.accounts.models import Team, User
from cadence.accounts.tests.factories import UserFactory
from cadence.activities.models import Reminder
from cadence.crm.models import Company, Contact
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy, StrategyStep

pytestmark = pytest.mark.django_db

MODELS = (Team, User, Company, Contact, ContactStrategy, StrategyStep, LeadContactPlan, Reminder)


def bench(*args: str) -> str:
    out = io.StringIO()
    call_command("bench_scheduler", "--plans", "200", "--assign", "30", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_reports_the_figures_and_leaves_the_database_clean():
    output = bench()

    # Default sizes N/10, N/2 and N, each with the pass, the raw SQL and the ratio.
    for plans, due in ((20, 2), (100, 10), (200, 20)):
        assert f"Pass over {plans:,} plans, {due:,} owed a reminder:" in output
    assert output.count("scheduler pass (plans_create_due_reminders): ") == 3
    assert re.search(r"raw SQL \(INSERT \.\.\. SELECT \+ UPDATE\): 20 reminders created", output)
    ratios = re.findall(r"ratio ORM / raw SQL: ([\d.]+|inf)x \(same reminders: (yes|NO)\)", output)
    assert len(ratios) == 3
    assert {same for _, same in ratios} == {"yes"}
    assert output.count("tracemalloc peak") >= 3
    assert re.search(r"Bulk assignment \(strategy_assign\) of 30 contacts: 30 enrolled", output)
    assert re.search(r"^\| 200 \| 20 \| [\d.]+ s \| [\d.]+ s \| [\d.]+x \|", output, re.M)
    assert "Benchmark data removed" in output
    assert set(counts().values()) == {0}


def test_keep_leaves_the_data_and_the_next_run_replaces_it():
    bench("--keep", "--no-assign", "--sizes", "200")
    assert LeadContactPlan.objects.count() == 200
    assert Reminder.objects.count() == 20
    assert User.objects.count() == 20

    output = bench("--no-assign", "--sizes", "200")
    assert "Removing the data of an earlier benchmark run" in output
    assert set(counts().values()) == {0}


def test_refuses_a_database_with_other_data_unless_forced():
    UserFactory(username="someone")
    with pytest.raises(CommandError, match="not the benchmark's"):
        bench()
    assert LeadContactPlan.objects.count() == 0

    output = bench("--force", "--no-assign", "--sizes", "200")
    assert "ratio ORM / raw SQL" in output
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]
    assert LeadContactPlan.objects.count() == 0
