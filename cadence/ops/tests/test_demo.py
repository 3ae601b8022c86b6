import datetime
import io
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Q

from cadence.accounts.models import Team, User
from cadence.activities.models import Activity, Reminder
from cadence.crm.models import Company, Contact
from cadence.ops.demo import add_days, render_template
from cadence.plans.choices import ACTIVE_STATUSES, FINISHED_STATUSES, PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy, StrategyStep

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
PASSWORD = "demo-pass-4711"


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Keep the login file out of the real var/ directory."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def load(*extra: str, seed: int = 42) -> str:
    out = io.StringIO()
    args = ("--seed", str(seed), "--now", NOW.isoformat(), "--password", PASSWORD, *extra)
    call_command("load_demo_data", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (Team, User, Company, Contact, ContactStrategy, StrategyStep, LeadContactPlan)
    return {model.__name__: model.objects.count() for model in (*models, Activity, Reminder)}


def delete_demo_data() -> None:
    # Users, companies and plans protect the rows that point at them, so go top down.
    for model in (Activity, Reminder, LeadContactPlan, Company, ContactStrategy, User, Team):
        model.objects.all().delete()


def test_loads_plans_in_every_status_for_two_teams(var_dir, client):
    """The data set has two teams, plans in every status and an admin who can log in."""
    output = load()

    assert set(LeadContactPlan.objects.values_list("status", flat=True)) == set(PlanStatus)
    assert sorted(Team.objects.values_list("name", flat=True)) == ["North", "South"]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.role == "admin"
    assert client.login(username="admin", password=PASSWORD)
    assert 190 <= Company.objects.count() <= 210
    assert 350 <= Contact.objects.count() <= 500
    assert ContactStrategy.objects.filter(is_template=True).count() >= 4
    assert ContactStrategy.objects.filter(uses_business_days=True).exclude(send_window_start=None)
    assert "admin" in output and PASSWORD in output

    login_file = var_dir / "demo-login.txt"
    assert PASSWORD in login_file.read_text()
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600


def test_history_is_consistent_with_the_plans():
    """Activities execute steps of their plan's strategy, in the past; plan fields agree with
    the status; no active plan targets a contact who opted out or bounced."""
    load()
    plans = LeadContactPlan.objects.all()

    linked = Activity.objects.filter(step__isnull=False)
    assert linked.exists()
    assert not linked.exclude(step__strategy=F("plan__strategy")).exists()
    assert not Activity.objects.filter(occurred_at__gt=NOW).exists()
    assert not Activity.objects.filter(occurred_at__lt=F("plan__plan_start_date")).exists()
    assert not plans.exclude(current_step__strategy=F("strategy")).exists()
    # Only a plan with nothing done yet may be scheduled to start later.
    assert not plans.filter(plan_start_date__gt=NOW).exclude(status=PlanStatus.NOT_STARTED)

    finished = plans.filter(status__in=FINISHED_STATUSES)
    assert not finished.filter(Q(ended_at=None) | Q(exit_reason="") | ~Q(next_step_due_date=None))
    assert not finished.filter(ended_at__gt=NOW).exists()
    active = plans.filter(status__in=ACTIVE_STATUSES)
    assert not active.filter(Q(next_step_due_date=None) | ~Q(ended_at=None)).exists()
    assert not active.filter(Q(contact__opted_out=True) | Q(contact__email_status="bounced"))
    paused = plans.filter(status=PlanStatus.PAUSED)
    assert not paused.filter(Q(paused_at=None) | Q(paused_at__gt=NOW)).exists()
    # Completed steps: one activity per step before the current one, on running plans.
    for plan in plans.filter(status=PlanStatus.IN_PROGRESS).select_related("current_step")[:20]:
        done = plan.activities.filter(step__isnull=False).count()
        assert done == plan.current_step.step_number - 1

    running = plans.filter(status__in=(PlanStatus.NOT_STARTED, PlanStatus.IN_PROGRESS))
    today = NOW.date()
    assert running.filter(next_step_due_date__date__lt=today).exists()
    assert running.filter(next_step_due_date__date=today).exists()
    assert running.filter(next_step_due_date__date__gt=today).exists()
    assert Reminder.objects.filter(status="pending", plan__isnull=False).exists()
    assert Contact.objects.filter(opted_out=True).exclude(opted_out_at=None).exists()
    assert Contact.objects.filter(email_status="bounced").exists()
    assert all(
        email.endswith(".example") for email in Contact.objects.values_list("email", flat=True)
    )


def test_rows_pass_model_validation():
    """bulk_create skips validation, so check that a sample of each kind would pass it."""
    load()
    for model in (Company, Contact, StrategyStep, LeadContactPlan, Activity, Reminder):
        for row in model.objects.all()[:40]:
            row.full_clean(validate_unique=False, validate_constraints=False)


def test_second_run_changes_nothing_and_prints_the_login():
    """A second run writes nothing, ignores its --password and prints the saved login."""
    load()
    before = counts()

    output = load("--password", "another-pass-2024")

    assert counts() == before
    assert "already loaded" in output
    assert PASSWORD in output


def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    """Seed and now determine the data, down to the primary keys."""
    load()
    first = sorted(Company.objects.values_list("name", "domain", "owner__username"))
    first_plans = sorted(LeadContactPlan.objects.values_list("plan_id", "status"))

    delete_demo_data()
    load()
    assert sorted(Company.objects.values_list("name", "domain", "owner__username")) == first
    assert sorted(LeadContactPlan.objects.values_list("plan_id", "status")) == first_plans

    delete_demo_data()
    load(seed=7)
    assert sorted(Company.objects.values_list("name", "domain", "owner__username")) != first


def test_a_weak_password_is_refused_and_nothing_is_written(var_dir):
    """The password validators apply; a refused password leaves no users and no login file."""
    with pytest.raises(CommandError, match="too short"):
        call_command("load_demo_data", "--password", "abc", stdout=io.StringIO())
    assert not User.objects.exists()
    assert not (var_dir / "demo-login.txt").exists()


def test_a_malformed_now_is_refused():
    """--now must be an ISO 8601 date and time."""
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("load_demo_data", "--now", "yesterday", stdout=io.StringIO())


def test_render_template_fills_placeholders_and_defaults():
    """Empty or missing values fall back to the default, or to nothing."""

    class Contact:
        first_name = ""

    text = 'Hi {{ contact.first_name | default("there") }}, {{ company.name }}'
    assert render_template(text, {"contact": Contact(), "company": None}) == "Hi there, "


def test_add_days_skips_weekends_in_business_days():
    """One business day after a Friday is the Monday; one calendar day is the Saturday."""
    friday = datetime.datetime(2026, 5, 29, 9, tzinfo=datetime.UTC)
    assert add_days(friday, 1, business=True).weekday() == 0
    assert add_days(friday, 1, business=False).weekday() == 5
