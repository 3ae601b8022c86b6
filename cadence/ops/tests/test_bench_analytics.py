"""The analytics reports benchmark (``manage.py bench_analytics``) runs end to end, keeps and
reuses its history when asked, and refuses a database holding other plans."""

import pytest
from django.core.management import CommandError, call_command

from cadence.ops.bench import synthetic
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory

pytestmark = pytest.mark.django_db


def test_the_benchmark_runs_end_to_end_and_cleans_up(capsys):
    call_command("bench_analytics", "--plans", "200", "--repeat", "2", "--explain")
    out = capsys.readouterr().out
    assert "| Report | median | max | queries |" in out
    for report in ("strategy_performance", "step_funnel", "adherence", "email_outcomes"):
        assert f"| `{report}` |" in out
        assert f"{report} run 2/2" in out
    assert not LeadContactPlan.objects.exists() and not synthetic.org_exists()


def test_the_benchmark_keeps_and_reuses_its_history(capsys):
    call_command("bench_analytics", "--plans", "50", "--repeat", "1", "--keep")
    assert LeadContactPlan.objects.count() == 50
    call_command("bench_analytics", "--reuse", "--repeat", "1")
    assert "| `adherence` |" in capsys.readouterr().out
    assert not LeadContactPlan.objects.exists()


def test_the_benchmark_refuses_a_database_with_other_plans():
    LeadContactPlanFactory()
    with pytest.raises(CommandError, match="database of its own"):
        call_command("bench_analytics", "--plans", "10")
    with pytest.raises(CommandError):
        call_command("bench_analytics", "--plans", "0")
