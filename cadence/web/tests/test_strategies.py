"""The strategies pages: the list, the visual editor (steps, settings, automation, preview),
duplicating and archiving, and assigning leads."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.choices import PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.web.localtime import local_today

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def strategy_with_steps(owner, *delays, **fields):
    strategy = ContactStrategyFactory(created_by=owner, **fields)
    for number, delay in enumerate(delays, start=1):
        StrategyStepFactory(
            strategy=strategy,
            step_number=number,
            delay_days=delay,
            activity_type="Email" if number % 2 else "Call",
        )
    return strategy


def order(strategy):
    return list(strategy.steps.order_by("step_number").values_list("pk", flat=True))


def step_post(prefix="new", **overrides):
    data = {
        "form_prefix": prefix,
        f"{prefix}-activity_type": "Email",
        f"{prefix}-delay_days": "2",
        f"{prefix}-subject_template": "Hi {{ contact.first_name }}",
        f"{prefix}-description_template": "About {{ company.name }}",
        f"{prefix}-placeholder": "{{ contact.first_name }}",
        f"{prefix}-preview_contact": "",
    }
    data.update({f"{prefix}-{key}": value for key, value in overrides.items()})
    return data


def my_contact(user, **fields):
    company = CompanyFactory(owner=user, name=fields.pop("company_name", "Navy Labs"))
    return ContactFactory(company=company, owner=user, **fields)


# -- List ----------------------------------------------------------------------------------------


def test_the_list_shows_templates_with_step_count_usage_and_archived_mark(rep, web_client):
    used = strategy_with_steps(rep, 0, 2, 3, name="Outbound SaaS")
    LeadContactPlanFactory(strategy=used, contact=my_contact(rep))
    LeadContactPlanFactory(strategy=used, contact=my_contact(rep))
    LeadContactPlanFactory(strategy=used, contact=my_contact(rep), status=PlanStatus.COMPLETED)
    ContactStrategyFactory(created_by=rep, name="Old playbook", archived_at=timezone.now())
    ContactStrategyFactory(created_by=rep, name="Private custom steps", is_template=False)

    page = web_client(rep).get("/strategies/")

    assert page.status_code == 200
    html = page.content.decode()
    row = re.search(r"<tr>\s*<td>\s*<a[^>]*>Outbound SaaS</a>.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>", row) == ["3", "2"]
    assert re.search(r'<tr class="archived">.*?Old playbook.*?Archived', html, re.S)
    assert "Private custom steps" not in html
    assert "New strategy" in html


def test_the_list_stays_within_a_query_budget(rep, web_client, django_assert_max_num_queries):
    for n in range(25):
        strategy = strategy_with_steps(rep, 0, 1, name=f"Strategy {n:02}")
        LeadContactPlanFactory(strategy=strategy, contact=my_contact(rep))
    client = web_client(rep)

    with django_assert_max_num_queries(8):
        page = client.get("/strategies/")

    assert page.content.decode().count('href="/strategies/') >= 25


def test_the_list_searches_by_name(rep, web_client):
    ContactStrategyFactory(created_by=rep, name="Enterprise outreach")
    ContactStrategyFactory(created_by=rep, name="Webinar follow-up")

    html = web_client(rep).get("/strategies/", {"q": "webinar"}).content.decode()

    assert "Webinar follow-up" in html
    assert "Enterprise outreach" not in html


def test_a_new_strategy_opens_in_the_editor(rep, web_client):
    response = web_client(rep).post(
        "/strategies/", {"name": "Cold outbound", "description": "Three touches"}
    )

    strategy = ContactStrategy.objects.get(name="Cold outbound")
    assert response.status_code == 302
    assert response["Location"] == f"/strategies/{strategy.pk}/"
    assert strategy.created_by == rep and strategy.is_template
    assert strategy.description == "Three touches"


def test_a_new_strategy_without_a_name_shows_the_error_next_to_the_field(rep, web_client):
    response = web_client(rep).post("/strategies/", {"name": "", "description": "x"})

    assert response.status_code == 400
    assert re.search(
        r'id="id_name".*?class="errorlist[^"]*".*?This field is required',
        response.content.decode(),
        re.S,
    )
    assert not ContactStrategy.objects.exists()


def test_strategy_pages_ask_anonymous_visitors_to_sign_in(rep):
    strategy = ContactStrategyFactory(created_by=rep)
    for url in ("/strategies/", f"/strategies/{strategy.pk}/", "/strategies/assign/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# -- Editor --------------------------------------------------------------------------------------


def test_the_editor_shows_the_steps_on_a_timeline_with_delays_and_days(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2, 3, name="Outbound SaaS")
    steps = order(strategy)

    html = web_client(rep).get(f"/strategies/{strategy.pk}/").content.decode()

    assert f'data-sortable="/strategies/{strategy.pk}/steps/reorder/"' in html
    for step_id in steps:
        assert f'data-id="{step_id}"' in html
    assert "Step 1: Email" in html and "Step 2: Call" in html
    assert re.findall(r'class="step-delay">([^<]+)<', html) == ["Same day", "+2 days", "+3 days"]
    assert re.findall(r'class="step-day">([^<]+)<', html) == ["Day 1", "Day 3", "Day 6"]
    assert 'aria-label="Drag to reorder step 2"' in html
    assert html.count('data-move="up"') == 3 and html.count('data-move="down"') == 3
    assert "Add step" in html and "Save settings" in html


def test_business_days_are_named_as_such(rep, web_client):
    strategy = strategy_with_steps(rep, 1, 2, uses_business_days=True)

    html = web_client(rep).get(f"/strategies/{strategy.pk}/").content.decode()

    assert re.findall(r'class="step-delay">([^<]+)<', html) == [
        "+1 business day",
        "+2 business days",
    ]


def test_the_editor_stays_within_a_query_budget(rep, web_client, django_assert_max_num_queries):
    strategy = strategy_with_steps(rep, *range(25))
    for _ in range(5):
        my_contact(rep)
    client = web_client(rep)

    with django_assert_max_num_queries(10):
        page = client.get(f"/strategies/{strategy.pk}/")

    assert page.content.decode().count("data-drag-handle") == 25


def test_someone_else_sees_a_template_read_only(rep, outsider, web_client):
    strategy = strategy_with_steps(rep, 0, 2)

    html = web_client(outsider).get(f"/strategies/{strategy.pk}/").content.decode()

    assert "data-sortable" not in html
    assert "data-drag-handle" not in html
    assert "Add step" not in html and "Save settings" not in html
    assert "Archive" not in html
    assert "You can see this strategy but not change it" in html
    assert "Duplicate" in html


def test_changes_from_someone_who_may_only_see_are_refused(rep, outsider, teammate, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    first, second = order(strategy)
    step = StrategyStep.objects.get(pk=first)
    base = f"/strategies/{strategy.pk}"
    for user in (outsider, teammate):
        client = web_client(user)
        posts = {
            f"{base}/steps/reorder/": {"ids": [second, first]},
            f"{base}/steps/add/": step_post(),
            f"{base}/steps/{first}/edit/": step_post(f"s{first.hex}", delay_days="9"),
            f"{base}/steps/{first}/delete/": {},
            f"{base}/settings/": {"name": "Taken over"},
            f"{base}/archive/": {"archived": "1"},
        }
        for url, data in posts.items():
            assert client.post(url, data).status_code == 403, url
        assert client.get(f"{base}/steps/{first}/edit/", **HTMX).status_code == 403

    strategy.refresh_from_db()
    step.refresh_from_db()
    assert order(strategy) == [first, second]
    assert strategy.name != "Taken over" and strategy.archived_at is None
    assert step.delay_days == 0 and strategy.steps.count() == 2


def test_the_manager_of_the_creator_may_edit(rep, manager, web_client):
    strategy = strategy_with_steps(rep, 0)

    html = web_client(manager).get(f"/strategies/{strategy.pk}/").content.decode()

    assert "data-sortable" in html and "Save settings" in html


def test_a_custom_strategy_of_another_team_is_not_found(rep, outsider, web_client):
    hidden = ContactStrategyFactory(created_by=outsider, is_template=False)
    client = web_client(rep)

    assert client.get(f"/strategies/{hidden.pk}/").status_code == 404
    assert client.post(f"/strategies/{hidden.pk}/duplicate/").status_code == 404
    assert client.post(f"/strategies/{hidden.pk}/steps/add/", step_post()).status_code == 404
    assert client.get("/strategies/00000000-0000-4000-8000-000000000000/").status_code == 404


# -- Reordering ----------------------------------------------------------------------------------


def test_reordering_persists_and_returns_the_renumbered_list(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2, 3)
    a, b, c = order(strategy)

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/steps/reorder/", {"ids": [c, a, b]}, **HTMX
    )

    assert response.status_code == 200
    assert order(strategy) == [c, a, b]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="steps-wrap">')
    assert (
        html.index(f'data-id="{c}"') < html.index(f'data-id="{a}"') < html.index(f'data-id="{b}"')
    )
    assert "Step 1: Email" in html  # the third step (an email) is now the first
    assert "The new order is saved." in html and 'hx-swap-oob="innerHTML"' in html


def test_a_wrong_order_is_refused_with_a_message_and_the_saved_order(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    a, b = order(strategy)
    client = web_client(rep)
    url = f"/strategies/{strategy.pk}/steps/reorder/"

    missing = client.post(url, {"ids": [b]}, **HTMX)
    garbage = client.post(url, {"ids": [b, "not-a-uuid"]}, **HTMX)

    assert missing.status_code == garbage.status_code == 200
    assert "The new order must list every step" in missing.content.decode()
    assert "names a step that does not exist" in garbage.content.decode()
    assert order(strategy) == [a, b]


def test_reordering_without_htmx_redirects_to_the_editor(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    a, b = order(strategy)

    response = web_client(rep).post(f"/strategies/{strategy.pk}/steps/reorder/", {"ids": [b, a]})

    assert response.status_code == 302
    assert order(strategy) == [b, a]


# -- Adding, editing, deleting steps -------------------------------------------------------------


def test_a_step_is_added_at_the_end_and_the_section_comes_back(rep, web_client):
    strategy = strategy_with_steps(rep, 0)

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/steps/add/", step_post(delay_days="4"), **HTMX
    )

    assert response.status_code == 200
    step = strategy.steps.get(step_number=2)
    assert (step.activity_type, step.delay_days) == ("Email", 4)
    assert step.subject_template == "Hi {{ contact.first_name }}"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="steps-section">')
    assert "Step 2: Email" in html and "Step 2 is added." in html
    # A fresh add form: the typed subject is not kept.
    assert 'value="Hi {{ contact.first_name }}"' not in html


def test_a_negative_delay_is_shown_next_to_the_field(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    client = web_client(rep)

    htmx = client.post(f"/strategies/{strategy.pk}/steps/add/", step_post(delay_days="-1"), **HTMX)
    plain = client.post(f"/strategies/{strategy.pk}/steps/add/", step_post(delay_days="-1"))

    assert htmx.status_code == 200 and plain.status_code == 400
    for response in (htmx, plain):
        assert re.search(
            r'id="id_new-delay_days".*?errorlist.*?greater than or equal to 0',
            response.content.decode(),
            re.S,
        )
    assert strategy.steps.count() == 1


def test_a_template_syntax_error_and_an_unknown_placeholder_are_shown_with_their_line(
    rep, web_client
):
    strategy = strategy_with_steps(rep, 0)

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/steps/add/",
        step_post(
            subject_template="Hi {{ contact.nickname }}",
            description_template="ok\n{% if %}",
        ),
        **HTMX,
    )

    html = response.content.decode()
    assert re.search(
        r'id="id_new-subject_template".*?errorlist.*?'
        r"Line 1: unknown placeholder &#x27;contact.nickname",
        html,
        re.S,
    )
    assert re.search(r'id="id_new-description_template".*?errorlist.*?Line 2', html, re.S)
    assert strategy.steps.count() == 1


def test_edit_swaps_the_card_for_a_form_and_cancel_puts_the_card_back(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    first, _ = order(strategy)
    client = web_client(rep)

    form = client.get(f"/strategies/{strategy.pk}/steps/{first}/edit/", **HTMX)
    card = client.get(f"/strategies/{strategy.pk}/steps/{first}/", **HTMX)

    html = form.content.decode()
    assert html.lstrip().startswith(f'<li data-id="{first}"')
    assert "Edit step 1" in html and f'name="s{first.hex}-delay_days"' in html
    assert "Preview for Sample lead" in html and "Hi Ada" in html
    assert card.content.decode().lstrip().startswith(f'<li data-id="{first}"')
    assert "Step 1: Email" in card.content.decode()


def test_without_htmx_edit_opens_the_editor_page_with_that_step_as_a_form(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    first, second = order(strategy)
    client = web_client(rep)

    page = client.get(f"/strategies/{strategy.pk}/steps/{second}/edit/")

    html = page.content.decode()
    assert page.status_code == 200 and "<h1>" in html
    assert "Edit step 2" in html and "Step 1: Email" in html
    assert client.get(f"/strategies/{strategy.pk}/steps/{first}/").status_code == 302


def test_saving_a_step_re_renders_the_list_with_the_new_days(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2)
    first, _ = order(strategy)
    prefix = f"s{first.hex}"

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/steps/{first}/edit/",
        step_post(prefix, delay_days="5", activity_type="Call"),
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#steps-wrap"
    step = StrategyStep.objects.get(pk=first)
    assert (step.delay_days, step.activity_type) == (5, "Call")
    html = response.content.decode()
    assert re.findall(r'class="step-day">([^<]+)<', html) == ["Day 6", "Day 8"]
    assert "Step 1 is saved." in html


def test_bad_input_when_editing_re_renders_the_form_with_the_error(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    (first,) = order(strategy)
    prefix = f"s{first.hex}"
    client = web_client(rep)
    url = f"/strategies/{strategy.pk}/steps/{first}/edit/"

    htmx = client.post(url, step_post(prefix, delay_days="-3"), **HTMX)
    plain = client.post(url, step_post(prefix, subject_template="{{ contact.first_name"))

    assert htmx.status_code == 200 and "HX-Retarget" not in htmx
    assert htmx.content.decode().lstrip().startswith(f'<li data-id="{first}"')
    assert "greater than or equal to 0" in htmx.content.decode()
    assert plain.status_code == 400
    assert re.search(
        rf'id="id_{prefix}-subject_template".*?errorlist.*?Line 1', plain.content.decode(), re.S
    )
    assert StrategyStep.objects.get(pk=first).delay_days == 0


def test_a_step_of_the_strategys_own_type_keeps_its_type_when_edited(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep)
    step = StrategyStepFactory(strategy=strategy, step_number=1, activity_type="Coffee chat")

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/steps/{step.pk}/edit/",
        step_post(f"s{step.pk.hex}", activity_type="Coffee chat", delay_days="1"),
    )

    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.activity_type, step.delay_days) == ("Coffee chat", 1)


def test_deleting_a_step_closes_the_gap(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2, 3)
    a, b, c = order(strategy)

    response = web_client(rep).post(f"/strategies/{strategy.pk}/steps/{b}/delete/", **HTMX)

    assert response.status_code == 200
    assert order(strategy) == [a, c]
    assert list(strategy.steps.order_by("step_number").values_list("step_number", flat=True)) == [
        1,
        2,
    ]
    html = response.content.decode()
    assert f'data-id="{b}"' not in html and "Step 2 is deleted." in html


def test_a_step_of_another_strategy_is_not_found(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    other = strategy_with_steps(rep, 0)
    (foreign,) = order(other)

    response = web_client(rep).post(f"/strategies/{strategy.pk}/steps/{foreign}/delete/")

    assert response.status_code == 404
    assert other.steps.count() == 1


# -- Preview and placeholders --------------------------------------------------------------------


def test_the_preview_renders_for_a_chosen_contact(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    contact = my_contact(rep, first_name="Grace", company_name="Navy Labs")

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/preview/",
        step_post(
            subject_template="Hi {{ contact.first_name }}",
            description_template="About {{ company.name }}",
            preview_contact=str(contact.pk),
        ),
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview for" in html and "Navy Labs" in html
    assert '<span class="preview-subject">Hi Grace</span>' in html
    assert "About Navy Labs" in html


def test_the_preview_uses_the_sample_lead_and_reports_an_unknown_placeholder(rep, web_client):
    strategy = strategy_with_steps(rep, 0)

    html = (
        web_client(rep)
        .post(
            f"/strategies/{strategy.pk}/preview/",
            step_post(subject_template="Hi {{ contact.first_name }} {{ contact.shoe_size }}"),
            **HTMX,
        )
        .content.decode()
    )

    # A field templates do not have is refused, not rendered blank: the subject is shown as
    # written, beside the reason.
    assert "Sample lead" in html and "Hi {{ contact.first_name }} {{ contact.shoe_size }}" in html
    assert "Subject: Line 1: unknown placeholder &#x27;contact.shoe_size&#x27;" in html


def test_the_preview_never_shows_someone_elses_contact(rep, outsider, web_client):
    strategy = strategy_with_steps(rep, 0)
    secret = my_contact(outsider, first_name="Secret")

    html = (
        web_client(rep)
        .post(
            f"/strategies/{strategy.pk}/preview/",
            step_post(preview_contact=str(secret.pk)),
        )
        .content.decode()
    )

    assert "Secret" not in html
    assert "That contact is not available" in html and "Hi Ada" in html


def test_the_preview_refuses_an_unknown_form(rep, web_client):
    strategy = strategy_with_steps(rep, 0)

    response = web_client(rep).post(f"/strategies/{strategy.pk}/preview/", {"form_prefix": "x"})

    assert response.status_code == 400


def test_a_placeholder_is_appended_to_the_chosen_field(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    data = step_post(subject_template="Hello", placeholder="{{ company.name }}")
    data["into"] = "subject_template"

    response = web_client(rep).post(f"/strategies/{strategy.pk}/placeholder/", data, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<input")
    assert 'id="id_new-subject_template"' in html
    assert 'value="Hello {{ company.name }}"' in html
    assert 'id="new-preview" hx-swap-oob="innerHTML"' in html and "Hello Acme Analytics" in html


def test_a_forged_placeholder_is_refused(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    data = step_post(placeholder="{{ ''.__class__ }}")
    data["into"] = "subject_template"

    response = web_client(rep).post(f"/strategies/{strategy.pk}/placeholder/", data, **HTMX)

    assert response.status_code == 400


def test_the_placeholder_picker_lists_the_known_fields(rep, web_client):
    strategy = strategy_with_steps(rep, 0)

    html = web_client(rep).get(f"/strategies/{strategy.pk}/").content.decode()

    for placeholder in ("{{ contact.first_name }}", "{{ company.name }}", "{{ user.signature }}"):
        assert f'<option value="{placeholder}"' in html
    assert "Insert into subject" in html and "Insert into body" in html


# -- Settings, automation, duplicate, archive ----------------------------------------------------


def test_settings_are_saved(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep, name="Before")

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/settings/",
        {
            "name": "After",
            "description": "New words",
            "uses_business_days": "on",
            "send_window_start": "08:30",
            "send_window_end": "17:00",
            "exit_on_reply": "on",
            "exclusive": "on",
            "cooldown_days": "14",
        },
    )

    assert response.status_code == 302
    strategy.refresh_from_db()
    assert (strategy.name, strategy.description) == ("After", "New words")
    assert strategy.uses_business_days and strategy.exclusive and strategy.exit_on_reply
    assert not strategy.exit_on_bounce and not strategy.exit_on_meeting_booked
    assert (strategy.send_window_start, strategy.send_window_end) == (
        datetime.time(8, 30),
        datetime.time(17),
    )
    assert strategy.cooldown_days == 14


def test_a_send_window_that_ends_before_it_starts_is_shown_next_to_the_field(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep, name="Before")

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/settings/",
        {"name": "After", "send_window_start": "17:00", "send_window_end": "09:00"},
    )

    assert response.status_code == 400
    assert re.search(
        r'id="id_send_window_end".*?errorlist.*?must end after it starts',
        response.content.decode(),
        re.S,
    )
    strategy.refresh_from_db()
    assert strategy.name == "Before" and strategy.send_window_start is None


def test_a_negative_cooldown_is_refused(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep)

    response = web_client(rep).post(
        f"/strategies/{strategy.pk}/settings/", {"name": "x", "cooldown_days": "-2"}
    )

    assert response.status_code == 400
    assert "greater than or equal to 0" in response.content.decode()


def test_a_manager_approves_and_stops_automation(rep, manager, web_client):
    strategy = ContactStrategyFactory(created_by=rep)
    client = web_client(manager)

    assert "Approve automation" in client.get(f"/strategies/{strategy.pk}/").content.decode()
    assert client.post(f"/strategies/{strategy.pk}/automation/approve/").status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager
    assert "Stop automation" in client.get(f"/strategies/{strategy.pk}/").content.decode()

    assert client.post(f"/strategies/{strategy.pk}/automation/stop/").status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None


def test_a_rep_neither_sees_nor_may_use_the_approval_buttons(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep)
    client = web_client(rep)

    html = client.get(f"/strategies/{strategy.pk}/").content.decode()
    response = client.post(f"/strategies/{strategy.pk}/automation/approve/")

    assert "Approve automation" not in html and "Not approved" in html
    assert response.status_code == 403
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None


def test_another_teams_manager_may_not_approve_or_stop_our_template(
    rep, manager, other_manager, admin_user, web_client
):
    """A template is everyone's to see and follow, but its automation is its own team's (and
    admins') to switch: another team's manager gets no buttons and a 403."""
    strategy = ContactStrategyFactory(created_by=rep)
    page = f"/strategies/{strategy.pk}/"
    client = web_client(other_manager)

    html = client.get(page).content.decode()
    assert "Not approved" in html and "Approve automation" not in html
    assert client.post(f"{page}automation/approve/").status_code == 403
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None

    assert web_client(manager).post(f"{page}automation/approve/").status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager

    assert "Stop automation" not in client.get(page).content.decode()
    assert client.post(f"{page}automation/stop/").status_code == 403
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager

    admin = web_client(admin_user)
    assert "Stop automation" in admin.get(page).content.decode()
    assert admin.post(f"{page}automation/stop/").status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None

    # Another team's custom strategy is not even visible: a 404.
    ContactStrategy.objects.filter(pk=strategy.pk).update(is_template=False)
    assert client.post(f"{page}automation/approve/").status_code == 404


def test_duplicate_copies_the_steps_into_a_template_of_ones_own(rep, outsider, web_client):
    strategy = strategy_with_steps(rep, 0, 2, 3, name="Outbound SaaS")

    response = web_client(outsider).post(f"/strategies/{strategy.pk}/duplicate/")

    copy = ContactStrategy.objects.get(name="Copy of Outbound SaaS")
    assert response.status_code == 302
    assert response["Location"] == f"/strategies/{copy.pk}/"
    assert copy.created_by == outsider and copy.automation_approved_at is None
    assert list(copy.steps.order_by("step_number").values_list("delay_days", flat=True)) == [
        0,
        2,
        3,
    ]
    html = web_client(outsider).get(response["Location"]).content.decode()
    assert "data-sortable" in html


def test_archive_and_unarchive(rep, web_client):
    strategy = ContactStrategyFactory(created_by=rep)
    client = web_client(rep)

    client.post(f"/strategies/{strategy.pk}/archive/", {"archived": "1"})
    strategy.refresh_from_db()
    assert strategy.is_archived
    html = client.get(f"/strategies/{strategy.pk}/").content.decode()
    assert "Unarchive" in html and "Assign leads</a>" not in html

    client.post(f"/strategies/{strategy.pk}/archive/", {"archived": "0"})
    strategy.refresh_from_db()
    assert not strategy.is_archived


# -- Assigning leads -----------------------------------------------------------------------------


def test_the_assign_page_preselects_leads_from_the_address(rep, outsider, web_client):
    contact = my_contact(rep, first_name="Grace", last_name="Hopper")
    company = CompanyFactory(owner=rep, name="Acme Rockets")
    hidden = my_contact(outsider)
    strategy = ContactStrategyFactory(created_by=rep, name="Outbound SaaS")

    html = (
        web_client(rep)
        .get(
            f"/strategies/{strategy.pk}/assign/",
            {"contact": [contact.pk, hidden.pk, "junk"], "company": company.pk},
        )
        .content.decode()
    )

    assert f'id="lead-contact-{contact.pk}" checked' in html
    assert f'id="lead-company-{company.pk}" checked' in html
    assert "Grace Hopper" in html and "Acme Rockets" in html
    assert str(hidden.pk) not in html
    assert "2 requested leads could not be found" in html
    assert f'<option value="{strategy.pk}" selected>' in html


def test_assigning_enrolls_and_reports_refusals(rep, web_client):
    strategy = strategy_with_steps(rep, 0, 2, name="Outbound SaaS")
    willing = my_contact(rep, first_name="Grace", last_name="Hopper")
    opted_out = my_contact(
        rep, first_name="Ada", last_name="Byron", opted_out=True, opted_out_at=timezone.now()
    )
    company = CompanyFactory(owner=rep, name="Acme Rockets")

    response = web_client(rep).post(
        "/strategies/assign/",
        {
            "strategy": strategy.pk,
            "start_date": local_today(rep).isoformat(),
            "contact": [willing.pk, opted_out.pk],
            "company": [company.pk],
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 enrolled" in html and "1 refused" in html
    assert re.search(r"<td>Ada Byron.*?</td><td>Contact</td><td>The contact has opted out", html)
    plans = LeadContactPlan.objects.filter(strategy=strategy)
    assert {(p.contact_id, p.company_id) for p in plans} == {
        (willing.pk, willing.company_id),
        (None, company.pk),
    }
    assert all(p.user == rep for p in plans)


def test_a_later_start_date_starts_at_the_beginning_of_the_working_day(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    contact = my_contact(rep)
    day = local_today(rep) + datetime.timedelta(days=7)

    web_client(rep).post(
        "/strategies/assign/",
        {"strategy": strategy.pk, "start_date": day.isoformat(), "contact": [contact.pk]},
    )

    plan = LeadContactPlan.objects.get(contact=contact)
    local = plan.plan_start_date.astimezone(ZoneInfo(rep.time_zone))
    assert (local.date(), local.time()) == (day, rep.work_day_start)


def test_assign_all_contacts_matching_a_search(rep, outsider, web_client):
    strategy = strategy_with_steps(rep, 0)
    for _ in range(3):
        my_contact(rep, company_name="Initech")
    my_contact(rep, company_name="Globex")
    my_contact(outsider, company_name="Initech")
    client = web_client(rep)

    found = client.get("/strategies/assign/", {"search": "initech"}).content.decode()
    assert "3 contacts match" in found and "Assign all 3 matching contacts" in found

    response = client.post(
        "/strategies/assign/",
        {
            "strategy": strategy.pk,
            "start_date": local_today(rep).isoformat(),
            "search": "initech",
            "all_matching": "on",
        },
    )

    assert "3 enrolled" in response.content.decode()
    assert LeadContactPlan.objects.filter(strategy=strategy).count() == 3
    assert not LeadContactPlan.objects.filter(contact__owner=outsider).exists()


def test_assigning_without_leads_a_strategy_or_a_good_date_shows_form_errors(rep, web_client):
    strategy = strategy_with_steps(rep, 0)
    contact = my_contact(rep)
    client = web_client(rep)

    no_lead = client.post(
        "/strategies/assign/",
        {"strategy": strategy.pk, "start_date": local_today(rep).isoformat()},
    )
    bad_date = client.post(
        "/strategies/assign/",
        {"strategy": strategy.pk, "start_date": "31/02/2025", "contact": [contact.pk]},
    )
    past = client.post(
        "/strategies/assign/",
        {"strategy": strategy.pk, "start_date": "2001-01-01", "contact": [contact.pk]},
    )
    no_strategy = client.post(
        "/strategies/assign/",
        {"start_date": local_today(rep).isoformat(), "contact": [contact.pk]},
    )

    assert no_lead.status_code == 400
    assert "Choose at least one contact or company" in no_lead.content.decode()
    assert bad_date.status_code == 400
    assert re.search(
        r'id="id_start_date".*?errorlist.*?Enter a valid date', bad_date.content.decode(), re.S
    )
    assert past.status_code == 400 and "Choose today or a later day" in past.content.decode()
    assert no_strategy.status_code == 400
    assert re.search(r'id="id_strategy".*?errorlist', no_strategy.content.decode(), re.S)
    assert not LeadContactPlan.objects.exists()


def test_an_archived_strategy_takes_no_leads(rep, web_client):
    strategy = strategy_with_steps(rep, 0, archived_at=timezone.now())
    contact = my_contact(rep)

    response = web_client(rep).post(
        "/strategies/assign/",
        {
            "strategy": strategy.pk,
            "start_date": local_today(rep).isoformat(),
            "contact": [contact.pk],
        },
    )

    assert response.status_code == 400
    assert re.search(
        r'id="id_strategy".*?errorlist.*?archived and takes no new plans',
        response.content.decode(),
        re.S,
    )
    assert not LeadContactPlan.objects.exists()


def test_a_custom_plans_strategy_cannot_be_assigned_to(rep, outsider, web_client):
    custom = ContactStrategyFactory(created_by=outsider, is_template=False)
    own_custom = ContactStrategyFactory(created_by=rep, is_template=False)
    client = web_client(rep)

    assert client.get(f"/strategies/{custom.pk}/assign/").status_code == 404
    assert client.get(f"/strategies/{own_custom.pk}/assign/").status_code == 404
