"""The history analysis benchmark (``manage.py bench_analysis``) runs at several sizes, prints
its figures and cleans up; it refuses a database holding other activities."""

import pytest
from django.core.management import CommandError, call_command

from cadence.activities.models import Activity
from cadence.crm.tests.factories import ContactFactory
from cadence.suggestions.models import AnalysisRun

pytestmark = pytest.mark.django_db


def test_the_benchmark_runs_at_two_sizes_and_cleans_up(capsys):
    call_command("bench_analysis", "--sizes", "3000,1000")
    out = capsys.readouterr().out
    assert "| Database | Activities | Analysis time |" in out
    assert out.count("tracemalloc peak of Python allocations") == 2
    assert not Activity.objects.exists() and not AnalysisRun.objects.exists()


def test_the_benchmark_refuses_a_database_with_other_activities():
    other = ContactFactory()
    Activity.objects.create(company=other.company, contact=other, user=other.owner)
    with pytest.raises(CommandError, match="database of its own"):
        call_command("bench_analysis", "--sizes", "1000")
    with pytest.raises(CommandError):
        call_command("bench_analysis", "--sizes", "0")
