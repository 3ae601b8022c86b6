"""Follow-up suggestions in a real browser: a rep accepts one from the dashboard, sees its task
among the follow-up tasks and marks it done, and dismisses another; a manager reads the
recommendations and changes a rule of their team."""

import datetime

import pytest
from django.utils import timezone

from cadence.activities.choices import ReminderStatus
from cadence.strategies.models import ContactStrategy
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion, SuggestionRule
from cadence.web.tests.browser.conftest import htmx_ready, serious_violations
from cadence.web.tests.test_suggestions import voicemail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def _run_with_a_finding() -> None:
    run = AnalysisRun.objects.create(
        status="done",
        started_at=timezone.now() - datetime.timedelta(hours=1),
        finished_at=timezone.now(),
        activities=5000,
        touches=1200,
        comparisons=30,
        findings_count=1,
        summary="Read 5,000 activities: 1,200 follow-up touches, 30 comparisons with enough "
        "data; 1 finding.",
    )
    Finding.objects.create(
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
        p_value=0.0001,
        q_value=0.002,
        sentence="After an email, a call 1-2 days later got a reply 20% of the time (usually 10%).",
    )


def test_a_rep_accepts_a_suggestion_marks_its_task_done_and_dismisses_another(page, sign_in, rep):
    accept = voicemail(rep, first_name="Ann", last_name="Lee")
    dismiss = voicemail(rep, first_name="Bob", last_name="Stone")
    sign_in(rep)

    assert serious_violations(page) == []
    row = page.locator(f"#suggestion-{accept.pk}")
    assert "Call Ann Lee again" in row.inner_text()
    htmx_ready(row.locator("form.suggestion-accept"))
    row.get_by_role("button", name="Accept").click()
    page.locator(f"#suggestion-{accept.pk} [role=status]").wait_for()
    assert "Accepted: a task is due" in page.locator(f"#suggestion-{accept.pk}").inner_text()

    task = page.locator(f"#task-suggestion-{accept.pk}")
    task.wait_for()
    assert "Call Ann Lee again" in page.locator("#followup-tasks").inner_text()
    htmx_ready(task.locator("form"))
    task.get_by_role("button", name="Done").click()
    page.locator(f"#task-suggestion-{accept.pk} [role=status]").wait_for()
    accept.refresh_from_db()
    assert accept.status == "accepted"
    assert accept.reminder.status == ReminderStatus.DISMISSED

    other = page.locator(f"#suggestion-{dismiss.pk}")
    other.get_by_role("button", name="Dismiss").click()
    page.locator(f"#suggestion-{dismiss.pk} [role=status]").wait_for()
    assert Suggestion.objects.get(pk=dismiss.pk).status == "dismissed"

    page.reload()
    assert "No suggestions right now." in page.inner_text("#dashboard-suggestions")
    assert "No open follow-up tasks." in page.inner_text("#followup-tasks")
    assert page.console_errors == []


def test_a_manager_reads_the_recommendations_and_changes_a_rule(page, sign_in, manager, team):
    _run_with_a_finding()
    sign_in(manager)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Suggestions").click()
    page.wait_for_url("**/suggestions/")
    page.get_by_role("main").get_by_role("link", name="Recommendations").click()
    page.wait_for_url("**/recommendations/")
    assert "a call 1-2 days later got a reply 20% of the time" in page.inner_text("main")
    assert "5,000" in page.inner_text("main")
    assert serious_violations(page) == []

    page.goto(f"{page.base}/settings/")
    page.get_by_role("link", name="Suggestion rules").click()
    page.wait_for_url("**/settings/suggestions/")
    card = page.locator("#rule-voicemail_retry")
    htmx_ready(card.locator("form.rule-form"))
    card.get_by_label("Days until the next call").fill("5")
    card.get_by_role("button", name="Save").click()
    page.locator("#rule-voicemail_retry [role=status]").wait_for()

    assert "is saved" in page.locator("#rule-voicemail_retry").inner_text()
    assert SuggestionRule.objects.get(team=team, kind="voicemail_retry").params == {"days": 5}
    page.reload()
    assert (
        page.locator("#rule-voicemail_retry").get_by_label("Days until the next call").input_value()
        == "5"
    )
    assert serious_violations(page) == []
    assert page.console_errors == []


def test_the_suggestion_pages_have_no_serious_accessibility_violations(page, sign_in, rep):
    voicemail(rep)
    _run_with_a_finding()
    sign_in(rep)

    for path in ("/suggestions/", "/suggestions/?status=all", "/recommendations/"):
        page.goto(f"{page.base}{path}")
        assert serious_violations(page) == [], path
    suggestion = Suggestion.objects.get()
    page.goto(f"{page.base}/contacts/{suggestion.contact_id}/")
    assert serious_violations(page) == []
    strategy = ContactStrategy.objects.create(name="Email then call", created_by=rep)
    strategy.steps.create(step_number=1, delay_days=0, activity_type="Email")
    strategy.steps.create(step_number=2, delay_days=2, activity_type="Call")
    page.goto(f"{page.base}/strategies/{strategy.pk}/")
    assert "Supported by history:" in page.inner_text("main")
    assert serious_violations(page) == []
    assert page.console_errors == []
