"""The Django admin: every Cadence model opens, and the big tables' lists stay cheap."""

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from cadence.accounts.models import Team, User
from cadence.accounts.tests.factories import TeamFactory
from cadence.activities.models import Activity, Reminder
from cadence.activities.tests.factories import ActivityFactory, ReminderFactory
from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.core.secrets import secret_encrypt
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.mailboxes.models import Mailbox, MailboxFolder
from cadence.messaging.models import (
    InboundMessage,
    OutboundMessage,
    SendCounter,
    Sender,
    Suppression,
)
from cadence.notifications.models import CalendarFeed, EmailDelivery, Notification
from cadence.notifications.tests.factories import (
    CalendarFeedFactory,
    EmailDeliveryFactory,
    NotificationFactory,
)
from cadence.plans import services as plan_services
from cadence.plans.models import LeadContactPlan, PlanStepResult
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.tests.factories import StrategyStepFactory
from cadence.suggestions.models import (
    AnalysisRun,
    Finding,
    RuleWatermark,
    Suggestion,
    SuggestionRule,
)

pytestmark = pytest.mark.django_db

CADENCE_MODELS = [
    Team,
    User,
    Company,
    Contact,
    Activity,
    Reminder,
    ContactStrategy,
    LeadContactPlan,
    Notification,
    EmailDelivery,
    CalendarFeed,
    Suppression,
    Sender,
    SuggestionRule,
]
#: Made by a service with rules of its own (a plan is an enrollment), changed in the admin.
ENROLLED_NOT_ADDED = [LeadContactPlan]
#: Histories the engine writes: listed and viewed in the admin, never added or changed there.
READ_ONLY_MODELS = [
    Mailbox,
    MailboxFolder,
    StrategyStep,
    PlanStepResult,
    OutboundMessage,
    InboundMessage,
    SendCounter,
    Suggestion,
    AnalysisRun,
    Finding,
    AdherenceDay,
    EmailDay,
    RollupState,
    RuleWatermark,
]

#: Queries a changelist of 20 rows may run: session, user, counts, the page, the filters'
#: choices and the date hierarchy. Well under 20, so one query per row cannot hide in it.
CHANGELIST_QUERY_BUDGET = 10


def _url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", "root@example.com", "correct horse battery")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def one_of_each():
    """One object of every model, linked as in real use so that every foreign key is filled."""
    step = StrategyStepFactory(step_number=1)
    plan = LeadContactPlanFactory(strategy=step.strategy, current_step=step)
    activity = ActivityFactory(contact=plan.contact, plan=plan, step=step)
    reminder = ReminderFactory(
        user=plan.user, plan=plan, step=step, activity=activity, due_at=timezone.now()
    )
    run = AnalysisRun.objects.create(status="done", started_at=timezone.now())
    finding = _finding(run)
    mailbox = Mailbox.objects.create(
        user=plan.user,
        provider="imap_smtp",
        email_address="rep@example.com",
        username="rep@example.com",
        secret_encrypted=secret_encrypt("app password"),
        imap_host="imap.example.com",
        imap_port=993,
        imap_security="ssl",
        smtp_host="smtp.example.com",
        smtp_port=587,
        smtp_security="starttls",
    )
    return {
        SuggestionRule: SuggestionRule.objects.create(kind="email_no_reply", params={"days": 3}),
        Suggestion: _suggestion(activity, finding),
        AnalysisRun: run,
        Finding: finding,
        AdherenceDay: AdherenceDay.objects.create(
            day=timezone.now().date(), user=plan.user, strategy_id=step.strategy_id, on_time=1
        ),
        EmailDay: EmailDay.objects.create(
            day=timezone.now().date(), user=plan.user, strategy_id=step.strategy_id, sent=1
        ),
        RollupState: RollupState.objects.create(name="adherence", refreshed_at=timezone.now()),
        RuleWatermark: RuleWatermark.objects.create(
            kind="email_no_reply", covered_until=timezone.now()
        ),
        Team: plan.user.team,
        User: plan.user,
        Company: plan.company,
        Contact: plan.contact,
        Activity: activity,
        Reminder: reminder,
        ContactStrategy: step.strategy,
        StrategyStep: step,
        LeadContactPlan: plan,
        Notification: NotificationFactory(
            user=plan.user, reminder=reminder, remind_at=reminder.remind_at
        ),
        EmailDelivery: EmailDeliveryFactory(reminder=reminder),
        CalendarFeed: CalendarFeedFactory(user=plan.user),
        Mailbox: mailbox,
        MailboxFolder: MailboxFolder.objects.create(
            mailbox=mailbox, name="INBOX", uid_validity=1, last_uid=3
        ),
        Suppression: Suppression.objects.create(email="gone@example.com", reason="manual"),
        Sender: Sender.objects.create(user=plan.user, ramp_started_on=timezone.now().date()),
        OutboundMessage: OutboundMessage.objects.create(
            plan=plan,
            step=step,
            contact=plan.contact,
            company=plan.company,
            user=plan.user,
            send_after=timezone.now(),
        ),
        InboundMessage: InboundMessage.objects.create(
            source="raw", kind="reply", status="unmatched", subject="Re: hello"
        ),
        SendCounter: SendCounter.objects.create(scope="user:x:day", window_start=timezone.now()),
        PlanStepResult: PlanStepResult.objects.create(
            plan=plan,
            step=step,
            step_number=1,
            result="completed",
            completed_at=timezone.now(),
            activity=activity,
            user=plan.user,
        ),
    }


def _finding(run):
    return Finding.objects.create(
        run=run,
        prev_channel="Email",
        prev_outcome="Sent",
        channel="Call",
        delay_bucket="1-2",
        n=200,
        responses=40,
        rate=0.2,
        ci_low=0.15,
        ci_high=0.26,
        baseline_n=800,
        baseline_responses=80,
        baseline_rate=0.1,
        ratio=2.0,
        p_value=0.001,
        q_value=0.01,
        sentence="Leads reply 2.0x more often to a call 1-2 days after an email.",
    )


def _suggestion(activity, finding=None):
    return Suggestion.objects.create(
        kind="voicemail_retry",
        dedupe_key=f"voicemail_retry:{activity.pk}",
        user=activity.user,
        company=activity.company,
        contact=activity.contact,
        plan=activity.plan,
        trigger_activity=activity,
        finding=finding,
        activity_type="Call",
        due_at=timezone.now(),
        title="Call again",
        reason="You left a voicemail.",
    )


def test_every_cadence_model_is_registered():
    """Each concrete model of a cadence app has an admin, and this module tests each of them."""
    cadence_models = {m for m in apps.get_models() if m.__module__.startswith("cadence.")}
    assert cadence_models == set(CADENCE_MODELS) | set(READ_ONLY_MODELS)
    assert all(admin.site.is_registered(model) for model in cadence_models)


@pytest.mark.parametrize("model", CADENCE_MODELS, ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_open(staff_client, one_of_each, model):
    """A superuser can list, add and change every model; the list shows the object."""
    obj = one_of_each[model]

    changelist = staff_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert obj in changelist.context["cl"].result_list

    add = staff_client.get(_url(model, "add")).status_code
    assert add == (403 if model in ENROLLED_NOT_ADDED else 200)

    change = staff_client.get(_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj


def _companies():
    CompanyFactory.create_batch(20, team=TeamFactory())


def _contacts():
    ContactFactory.create_batch(20, team=TeamFactory())


def _activities():
    ActivityFactory.create_batch(20)


def _suggestions():
    for activity in ActivityFactory.create_batch(20):
        _suggestion(activity)


def _plans():
    for n in range(20):
        step = StrategyStepFactory(step_number=1)
        if n % 2:
            LeadContactPlanFactory(strategy=step.strategy, current_step=step)
        else:
            # A plan on a company, without a contact: its lead is the company.
            company = CompanyFactory()
            LeadContactPlanFactory(
                contact=None,
                company=company,
                user=company.owner,
                strategy=step.strategy,
                current_step=step,
                next_step_due_date=timezone.now() + datetime.timedelta(days=n),
            )


@pytest.mark.parametrize(
    ("model", "make_rows"),
    [
        (Company, _companies),
        (Contact, _contacts),
        (Activity, _activities),
        (LeadContactPlan, _plans),
        (Suggestion, _suggestions),
    ],
    ids=["company", "contact", "activity", "plan", "suggestion"],
)
def test_changelist_runs_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries, model, make_rows
):
    """Twenty rows, each with its own related objects, cost no query per row."""
    make_rows()
    url = _url(model, "changelist")

    with django_assert_max_num_queries(CHANGELIST_QUERY_BUDGET):
        response = staff_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 20


def test_plan_autocomplete_runs_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    """The plan picker of an activity labels each plan by its lead without a query per plan."""
    _plans()
    url = reverse("admin:autocomplete")
    params = {"app_label": "activities", "model_name": "activity", "field_name": "plan"}

    with django_assert_max_num_queries(CHANGELIST_QUERY_BUDGET):
        response = staff_client.get(url, params)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 20


def test_company_changelist_search_finds_by_name(staff_client):
    """Searching the company list by part of a name, in any case, finds that company only."""
    CompanyFactory(name="Acme Widgets")
    CompanyFactory(name="Globex")

    response = staff_client.get(_url(Company, "changelist"), {"q": "acme"})

    assert response.status_code == 200
    assert [c.name for c in response.context["cl"].result_list] == ["Acme Widgets"]


def test_contact_autocomplete_searches_by_company_name(staff_client):
    """The contact picker (used by activities and plans) finds contacts by their company."""
    wanted = ContactFactory(company=CompanyFactory(name="Initech"))
    ContactFactory(company=CompanyFactory(name="Hooli"))
    params = {
        "app_label": "activities",
        "model_name": "activity",
        "field_name": "contact",
        "term": "initech",
    }

    response = staff_client.get(reverse("admin:autocomplete"), params)

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(wanted.pk)]


def test_strategy_is_added_with_its_steps_from_the_inline(staff_client, superuser):
    """The strategy add page saves the strategy and the steps typed into its inline table."""
    data = {
        "name": "Outbound Q3",
        "is_template": "on",
        "exit_on_reply": "on",
        "automation_requires_approval": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-step_number": "1",
        "steps-0-delay_days": "0",
        "steps-0-activity_type": "Email",
        "steps-1-step_number": "2",
        "steps-1-delay_days": "3",
        "steps-1-activity_type": "Call",
    }

    response = staff_client.post(_url(ContactStrategy, "add"), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    strategy = ContactStrategy.objects.get(name="Outbound Q3")
    assert [(s.step_number, s.activity_type) for s in strategy.steps.order_by("step_number")] == [
        (1, "Email"),
        (2, "Call"),
    ]


@pytest.mark.parametrize("model", READ_ONLY_MODELS, ids=lambda m: m._meta.label)
def test_read_only_histories_are_viewed_not_edited(staff_client, one_of_each, model):
    obj = one_of_each[model]
    assert obj in staff_client.get(_url(model, "changelist")).context["cl"].result_list
    assert staff_client.get(_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(_url(model, "add")).status_code == 403
    response = staff_client.post(_url(model, "change", obj.pk), {"result": "skipped"})
    assert response.status_code == 403


def test_an_activity_is_refused_an_outcome_its_type_cannot_have(staff_client, superuser):
    """The admin applies the activities' outcome rule, as the API and the pages do."""
    activity = ActivityFactory(activity_type="Call", outcome="Connected")
    data = {
        "activity_type": "Call",
        "direction": "outbound",
        "outcome": "Bounced",
        "occurred_at_0": "2030-01-02",
        "occurred_at_1": "10:00:00",
        "company": str(activity.company_id),
        "contact": str(activity.contact_id),
        "user": str(activity.user_id),
        "subject": "Intro call",
    }
    response = staff_client.post(_url(Activity, "change", activity.pk), data)
    assert response.status_code == 200
    assert "cannot have the outcome" in str(response.context["errors"])
    activity.refresh_from_db()
    assert activity.outcome == "Connected"
    response = staff_client.post(_url(Activity, "change", activity.pk), {**data, "outcome": ""})
    assert response.status_code == 302, response.context and response.context["errors"]


def test_a_step_changed_in_the_admin_moves_its_plans(staff_client, superuser):
    """Saving the strategy page publishes the steps' change: a plan's due date follows."""
    step = StrategyStepFactory(step_number=1, delay_days=1, activity_type="Call")
    strategy = step.strategy
    plan = plan_services.plan_create(
        user=superuser,
        contact=ContactFactory(owner=superuser),
        strategy=strategy,
        plan_start_date=timezone.now(),
    )
    due = plan.next_step_due_date
    data = {
        "name": strategy.name,
        "created_by": str(strategy.created_by_id),
        "exit_on_reply": "on",
        "cooldown_days": "0",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "1",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "100",
        "steps-0-step_id": str(step.pk),
        "steps-0-strategy": str(strategy.pk),
        "steps-0-step_number": "1",
        "steps-0-delay_days": "4",
        "steps-0-activity_type": "Call",
    }
    response = staff_client.post(_url(ContactStrategy, "change", strategy.pk), data)
    assert response.status_code == 302, response.context and (
        response.context["adminform"].form.errors,
        [f.formset.errors for f in response.context["inline_admin_formsets"]],
    )
    plan.refresh_from_db()
    assert plan.next_step_due_date - due == datetime.timedelta(days=3)
    # Approval is the approve action's, not a field a form can set.
    page = staff_client.get(_url(ContactStrategy, "change", strategy.pk))
    assert "automation_approved_at" not in page.context["adminform"].form.fields


def test_a_step_with_a_broken_template_is_refused_in_the_admin(staff_client, superuser):
    step = StrategyStepFactory(step_number=1, activity_type="Email", subject_template="Hi")
    strategy = step.strategy
    data = {
        "name": strategy.name,
        "created_by": str(strategy.created_by_id),
        "cooldown_days": "0",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "1",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "100",
        "steps-0-step_id": str(step.pk),
        "steps-0-strategy": str(strategy.pk),
        "steps-0-step_number": "1",
        "steps-0-delay_days": "0",
        "steps-0-activity_type": "Email",
        "steps-0-subject_template": "Hi {{ contact.first_name",
    }
    response = staff_client.post(_url(ContactStrategy, "change", strategy.pk), data)
    assert response.status_code == 200
    errors = [f.formset.errors for f in response.context["inline_admin_formsets"]]
    assert "Line 1" in str(errors)
    step.refresh_from_db()
    assert step.subject_template == "Hi"


def test_a_plan_is_reassigned_in_the_admin_through_its_service(staff_client, superuser, rep):
    """Only the plan's user changes here (its lead, strategy and start are fixed): the service
    marks its results changed so the reports recount them for the new owner."""
    plan = LeadContactPlanFactory(user=superuser, contact=ContactFactory(owner=superuser))
    page = staff_client.get(_url(LeadContactPlan, "change", plan.pk))
    assert set(page.context["adminform"].form.fields) == {"user"}
    response = staff_client.post(_url(LeadContactPlan, "change", plan.pk), {"user": str(rep.pk)})
    assert response.status_code == 302, response.context and response.context["errors"]
    plan.refresh_from_db()
    assert (plan.user, plan.contact.owner) == (rep, superuser)


def test_a_suppression_added_in_the_admin_settles_the_waiting_emails(staff_client, superuser):
    """Through ``suppression_add``: the queued email to the address is suppressed at once."""
    plan = LeadContactPlanFactory(user=superuser, contact=ContactFactory(owner=superuser))
    waiting = OutboundMessage.objects.create(
        plan=plan,
        company=plan.company,
        contact=plan.contact,
        user=superuser,
        to_email="Lead@Example.com",
        subject="Hi",
        body="Hello",
        status="queued",
        send_after=timezone.now(),
    )
    response = staff_client.post(
        _url(Suppression, "add"), {"email": "lead@example.com", "reason": "manual", "note": ""}
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    entry = Suppression.objects.get()
    assert (entry.email, entry.created_by) == ("lead@example.com", superuser)
    waiting.refresh_from_db()
    assert waiting.status == "suppressed"


def test_an_opt_out_is_not_a_tick_box_in_the_admin(staff_client, one_of_each):
    contact = one_of_each[Contact]
    page = staff_client.get(_url(Contact, "change", contact.pk))
    assert "opted_out" not in page.context["adminform"].form.fields


def test_a_plans_reminder_goes_to_the_plans_user_in_the_admin_too(staff_client, superuser, rep):
    plan = LeadContactPlanFactory(user=superuser, contact=ContactFactory(owner=superuser))
    data = {
        "user": str(rep.pk),
        "plan": str(plan.pk),
        "remind_at_0": "2030-01-02",
        "remind_at_1": "10:00:00",
        "message": "Call back",
        "status": "pending",
        "channels": '["in_app"]',
    }
    response = staff_client.post(_url(Reminder, "add"), data)
    assert response.status_code == 200
    assert "go to the plan&#x27;s user" in str(response.context["errors"])
    assert not Reminder.objects.exists()
    response = staff_client.post(_url(Reminder, "add"), {**data, "user": str(superuser.pk)})
    assert response.status_code == 302, response.context and response.context["errors"]


def test_a_mailboxs_secret_is_never_shown_in_the_admin(staff_client, one_of_each):
    mailbox = one_of_each[Mailbox]
    page = staff_client.get(_url(Mailbox, "change", mailbox.pk)).content.decode()
    assert mailbox.email_address in page
    assert mailbox.secret_encrypted not in page and "app password" not in page
