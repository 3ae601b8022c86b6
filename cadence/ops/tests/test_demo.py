import datetime
import io
import stat
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from cadence.accounts.models import Team, User
from cadence.activities.models import Activity, Reminder
from cadence.activities.rules import outcome_check
from cadence.crm.models import Company, Contact
from cadence.ops.demo_base import render_template
from cadence.plans.choices import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
    StepResult,
)
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.progress import reminder_lead_time
from cadence.plans.scheduler import plans_create_due_reminders
from cadence.plans.selectors import task_counts
from cadence.scheduling.due import next_due_at
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
    more = (Activity, PlanStepResult, Reminder)
    return {model.__name__: model.objects.count() for model in (*models, *more)}


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


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        # Late evening in UTC is already tomorrow in Berlin, where the printed rep works; and a
        # Saturday, when a strategy counting business days has nothing due.
        datetime.datetime(2026, 6, 6, 23, 30, tzinfo=datetime.UTC),
    ],
)
@pytest.mark.parametrize("seed", [42, 7])
def test_the_printed_rep_has_tasks_overdue_and_due_today(client, seed, now):
    """The first login printed is a rep whose dashboard shows work: tasks overdue and due today
    on their own calendar, for any seed and "now". The admin's login is printed too."""
    out = io.StringIO()
    args = ("--seed", str(seed), "--now", now.isoformat(), "--password", PASSWORD)
    call_command("load_demo_data", *args, stdout=out)
    output = out.getvalue()

    login = output[output.index("Log in as:") :]
    username = login.split()[3]
    rep = User.objects.get(username=username)
    assert rep.role == "rep"
    assert f"Password:  {PASSWORD}" in login
    assert "Admin pages (/admin/): admin" in login
    assert client.login(username=username, password=PASSWORD)

    counts = task_counts(user=rep, now=now)
    assert counts["due"] >= 1 and counts["today"] >= 1, counts


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
    # Steps before the current one were done (by an activity) or skipped, on running plans.
    for plan in plans.filter(status=PlanStatus.IN_PROGRESS).select_related("current_step")[:20]:
        done = plan.activities.filter(step__isnull=False).count()
        skipped = plan.results.filter(result=StepResult.SKIPPED).count()
        assert done + skipped == plan.current_step.step_number - 1

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
    models = (Company, Contact, StrategyStep, LeadContactPlan, Activity, PlanStepResult, Reminder)
    for model in models:
        for row in model.objects.all()[:40]:
            row.full_clean(validate_unique=False, validate_constraints=False)
    # Nor does it check the services' rules: every activity's outcome suits its type.
    for activity_type, outcome in Activity.objects.values_list("activity_type", "outcome"):
        outcome_check(activity_type=activity_type, outcome=outcome)


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
    fields = ("plan_id", "status", "next_step_due_date", "reminder_due_at", "started_at")
    first_plans = sorted(LeadContactPlan.objects.values_list(*fields))
    first_results = sorted(PlanStepResult.objects.values_list("result_id", "completed_at"))

    delete_demo_data()
    load()
    assert sorted(Company.objects.values_list("name", "domain", "owner__username")) == first
    assert sorted(LeadContactPlan.objects.values_list(*fields)) == first_plans
    assert sorted(PlanStepResult.objects.values_list("result_id", "completed_at")) == first_results

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


def engine_due(plan: LeadContactPlan, step: StrategyStep, base: datetime.datetime):
    """When ``step`` falls due after ``base`` by the engine's rule, from the scheduling function
    itself (not from the demo's code or the plans app's)."""
    return next_due_at(
        base=base,
        delay_days=step.delay_days,
        business_days=plan.strategy.uses_business_days,
        time_zone=plan.user.time_zone,
        country=str(plan.user.country),
    )


def test_plans_are_due_by_the_engine_rules_and_record_their_steps():
    """Every active plan is due when the engine says, after its previous step (or start) and the
    time it spent paused; every step before its current one has a result, done ones linked to
    their activity; each result was due by the same rule; some steps were late, some on time."""
    load()
    results: dict = {}
    for result in PlanStepResult.objects.select_related("activity", "step"):
        results.setdefault(result.plan_id, []).append(result)
    plans = LeadContactPlan.objects.select_related("strategy", "user", "current_step")
    checked = Counter()
    for plan in plans:
        done = sorted(results.get(plan.pk, []), key=lambda r: r.step_number)
        base = plan.plan_start_date
        for result in done:
            assert result.step.strategy_id == plan.strategy_id
            assert result.due_at == engine_due(plan, result.step, base), (plan, result)
            assert result.completed_at >= base
            if result.result == StepResult.COMPLETED:
                activity = result.activity
                assert activity.occurred_at == result.completed_at
                assert (activity.plan_id, activity.step_id) == (plan.pk, result.step_id)
            else:
                assert result.result == StepResult.SKIPPED and result.activity is None
            base = result.completed_at
        assert plan.last_step_completed_at == (done[-1].completed_at if done else None)
        assert (plan.started_at is None) == (not done)
        if done:
            assert plan.plan_start_date <= plan.started_at <= done[0].completed_at
        if plan.status not in ACTIVE_STATUSES:
            assert plan.next_step_due_date is None and plan.reminder_due_at is None
            continue
        # The current step is the first not done, due after the previous one (or the start).
        assert [r.step_number for r in done] == list(range(1, plan.current_step.step_number))
        due = engine_due(plan, plan.current_step, base) + plan.paused_duration
        assert plan.next_step_due_date == due, plan
        assert (plan.paused_at is not None) == (plan.status == PlanStatus.PAUSED)
        checked[plan.status] += 1
        checked["resumed"] += bool(plan.paused_duration)
    assert all(checked[status] for status in ACTIVE_STATUSES) and checked["resumed"]
    assert PlanStepResult.objects.filter(completed_at__gt=F("due_at")).exists()
    assert PlanStepResult.objects.filter(completed_at__lte=F("due_at")).exists()
    assert PlanStepResult.objects.filter(result=StepResult.SKIPPED).exists()
    business = LeadContactPlan.objects.filter(strategy__uses_business_days=True)
    assert business.filter(status__in=RUNNING_STATUSES).exists()


def test_reminders_are_made_or_owed_and_a_scheduler_pass_duplicates_none():
    """A running plan whose reminder time has passed has its reminder for its current step and
    due date and owes none; the others owe theirs at due date minus the lead time. A scheduler
    pass at the same "now" then has nothing to do, and a later one adds no second reminder."""
    load()
    lead = reminder_lead_time()
    reminded = set(
        Reminder.objects.filter(plan__isnull=False).values_list("plan_id", "step_id", "due_at")
    )
    owed = made = 0
    for plan in LeadContactPlan.objects.filter(status__in=ACTIVE_STATUSES):
        remind_at = plan.next_step_due_date - lead
        has_reminder = (plan.pk, plan.current_step_id, plan.next_step_due_date) in reminded
        if plan.status == PlanStatus.PAUSED:
            assert plan.reminder_due_at is None
            assert has_reminder == (remind_at <= plan.paused_at)
        elif remind_at <= NOW:
            assert has_reminder and plan.reminder_due_at is None, plan
            made += 1
        else:
            assert not has_reminder and plan.reminder_due_at == remind_at, plan
            owed += 1
    assert made and owed
    finished = LeadContactPlan.objects.filter(status__in=FINISHED_STATUSES)
    assert not finished.exclude(reminder_due_at=None).exists()
    before = Reminder.objects.count()

    assert plans_create_due_reminders(now=NOW) == 0
    assert Reminder.objects.count() == before
    later = NOW + datetime.timedelta(days=3)
    assert plans_create_due_reminders(now=later) > 0

    per_key = (
        Reminder.objects.filter(plan__isnull=False)
        .values("plan", "step", "due_at")
        .annotate(rows=Count("pk"))
        .order_by()
    )
    assert max(row["rows"] for row in per_key) == 1
    running = LeadContactPlan.objects.filter(status__in=RUNNING_STATUSES)
    sent_by_cadence = Q(
        contact__isnull=False,
        current_step__is_automated=True,
        current_step__activity_type="Email",
        strategy__automation_approved_at__isnull=False,
    )
    due = running.filter(next_step_due_date__lte=later + lead)
    assert due.filter(sent_by_cadence).exists()
    # The outbox sends those steps itself (a reminder may remain from before the strategy's
    # automation was approved); the others are the rep's to do, and each has its reminder.
    for plan in due.exclude(sent_by_cadence):
        assert plan.reminder_due_at is None
        assert plan.reminders.filter(
            step=plan.current_step_id, due_at=plan.next_step_due_date
        ).exists()
    assert not due.filter(sent_by_cadence, reminder_due_at__isnull=False).exists()


def test_strategy_settings_and_exit_rules_hold_over_the_history():
    """Strategies use the enrollment settings and plans respect them: no exclusive plan began
    while its contact was active elsewhere, no plan within its cooldown of the contact's last
    one. A reply ended the replier's active plans and paused colleagues' plans in strategies
    that pause on a reply at their company (the demo has one such plan)."""
    load()
    templates = ContactStrategy.objects.filter(is_template=True)
    assert templates.filter(exclusive=True).exists()
    assert templates.filter(cooldown_days__gt=0).exists()
    assert templates.filter(pause_company_on_reply=True).exists()

    plans = list(LeadContactPlan.objects.select_related("strategy"))
    for plan in plans:
        earlier = [
            p
            for p in plans
            if p.contact_id and p.contact_id == plan.contact_id and p.created_at < plan.created_at
        ]
        for other in earlier:
            if plan.strategy.exclusive or other.strategy_id == plan.strategy_id:
                assert other.ended_at is not None and other.ended_at <= plan.created_at
            if plan.strategy.cooldown_days:
                cooldown = datetime.timedelta(days=plan.strategy.cooldown_days)
                assert other.plan_start_date <= plan.created_at - cooldown

    def running_at(plan: LeadContactPlan, moment: datetime.datetime) -> bool:
        return plan.created_at <= moment and (plan.ended_at is None or plan.ended_at > moment)

    paused_by_reply = 0
    for reply in Activity.objects.filter(outcome="Replied"):
        at = reply.occurred_at
        for plan in plans:
            if plan.company_id != reply.company_id or not running_at(plan, at):
                continue
            if reply.contact_id and plan.contact_id == reply.contact_id:
                # The reply ended the contact's plans.
                assert plan.ended_at is not None, plan
            elif plan.strategy.pause_company_on_reply:
                assert plan.status == PlanStatus.PAUSED and plan.paused_at == at, plan
                paused_by_reply += 1
    assert paused_by_reply == 1
    replied = LeadContactPlan.objects.filter(exit_reason=ExitReason.REPLIED)
    assert not replied.exclude(ended_at__in=Activity.objects.values("occurred_at")).exists()


def test_the_demos_automated_emails_go_out_with_a_footer():
    """Once loaded, the demo's approved automated steps are queued by the next pass and sent:
    every sender has a postal address and the demo templates pass the personalization check."""
    from django.core import mail

    from cadence.messaging.models import OutboundMessage
    from cadence.messaging.outbox import outbox_send_due
    from cadence.ops.scheduler import scheduler_pass

    load()
    queued = scheduler_pass(now=NOW).emails_queued
    report = outbox_send_due(now=NOW)

    assert queued > 0
    statuses = dict(OutboundMessage.objects.values_list("status").annotate(n=Count("pk")))
    assert report.sent == statuses.get("sent", 0) > 0, (report.lines, statuses)
    assert "failed" not in statuses, OutboundMessage.objects.filter(status="failed").first().error
    assert "Cadence Demo Co., 1 Market Street" in mail.outbox[0].body
