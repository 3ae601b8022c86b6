"""The Analytics pages: strategy performance, a strategy's funnel, adherence and email outcomes,
for reps, managers and admins; what each may see, the filters, refused filters and the number of
queries a page takes. The numbers themselves are the reports' (``cadence.analytics``) and are
tested there; these tests check that the pages ask for the right ones and show them."""

import csv
import datetime
import io
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import TeamFactory, UserFactory
from cadence.activities.choices import Outcome
from cadence.crm.tests.factories import ContactFactory
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll
from cadence.plans import services as plan_services
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
PAGES = ["/analytics/", "/analytics/adherence/", "/analytics/email/"]


def strategy_with_steps(creator, name, kinds=("Email", "Call", "Email"), **fields):
    strategy = ContactStrategyFactory(name=name, created_by=creator, **fields)
    for number, kind in enumerate(kinds, 1):
        StrategyStepFactory(strategy=strategy, step_number=number, delay_days=1, activity_type=kind)
    return strategy


def run_plan(user, strategy, *, days_ago=30, steps_done=0, replied=False):
    """A plan of ``user`` that started ``days_ago`` days ago, with its first ``steps_done`` steps
    done a day apart, and a reply after them if ``replied`` (which ends it, converted)."""
    contact = ContactFactory(company__owner=user, owner=user)
    at = timezone.now() - days_ago * DAY
    plan = plan_services.plan_create(
        user=user, contact=contact, strategy=strategy, plan_start_date=at
    )
    for number in range(1, steps_done + 1):
        at += DAY
        step = strategy.steps.get(step_number=number)
        plan_services.activity_log(
            actor=user,
            plan=plan,
            step=step,
            activity_type=step.activity_type,
            outcome=Outcome.SENT if step.activity_type == "Email" else Outcome.COMPLETED,
            occurred_at=at,
        )
    if replied:
        plan_services.activity_log(
            actor=user,
            plan=plan,
            activity_type="Email",
            outcome=Outcome.REPLIED,
            occurred_at=at + datetime.timedelta(hours=3),
        )
    return plan


@pytest.fixture
def history(manager, rep, teammate, outsider, other_manager):
    """Team North's template, worked by the rep (3 plans) and the teammate (2); Team South's
    template and a custom plan of the outsider's, which Team North must not see."""
    north = strategy_with_steps(manager, "North outreach")
    south = strategy_with_steps(other_manager, "South outreach")
    run_plan(rep, north, steps_done=1, replied=True)
    run_plan(rep, north, steps_done=2)
    run_plan(rep, north)
    run_plan(teammate, north, steps_done=3)
    run_plan(teammate, north, steps_done=1, replied=True)
    run_plan(outsider, south, steps_done=1)
    custom = plan_services.plan_create_custom(
        actor=outsider,
        user=outsider,
        steps=[{"step_number": 1, "delay_days": 0, "activity_type": "Call"}],
        name="Outsider's own",
        contact=ContactFactory(company__owner=outsider, owner=outsider),
        plan_start_date=timezone.now() - 10 * DAY,
    )
    return {"north": north, "south": south, "custom": custom.strategy}


def rows_by_name(response) -> dict:
    return {item["row"].strategy_name: item["row"] for item in response.context["rows"]}


def field_error(html: str, field: str) -> str:
    """The error text shown under one filter field."""
    match = re.search(
        rf'<div class="field has-error">\s*<label for="id_{field}">.*?<ul class="errorlist"[^>]*>'
        r"(.*?)</ul>",
        html,
        re.S,
    )
    assert match, f"no error shown for {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# -- Navigation and the pages for each role -------------------------------------------------------


def test_the_navigation_has_analytics(rep, web_client):
    html = web_client(rep).get("/analytics/").content.decode()

    assert '<a href="/analytics/" aria-current="page">Analytics</a>' in html


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_every_page_renders_for_every_role(role, history, web_client, request):
    client = web_client(request.getfixturevalue(role))
    north = history["north"]

    for path in [*PAGES, f"/analytics/strategies/{north.pk}/", "/analytics/funnel/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "<h1>Analytics</h1>" in html
        assert 'aria-label="Reports"' in html


def test_strategy_performance_shows_the_chart_and_the_table(manager, history, web_client):
    response = web_client(manager).get("/analytics/")
    html = response.content.decode()
    north = history["north"]

    row = rows_by_name(response)["North outreach"]
    assert (row.started, row.converted) == (5, 2)
    assert f'href="/analytics/strategies/{north.pk}/"' in html
    assert '<script id="conversion-data" type="application/json">' in html
    assert re.search(
        r'<canvas id="conversion-chart"[^>]*role="img"[^>]*aria-label="Bar chart', html
    )
    assert "North outreach 40.0% (95% interval" in html
    assert "Median days to conversion" in html
    # Formatted for people: the rate with its interval, in the table.
    assert "40.0%" in html and " to " in html


def test_the_pages_keep_to_the_csp(manager, history, web_client):
    """No inline script or style: chart data travels as JSON blocks, read by a static file."""
    client = web_client(manager)

    for path in [*PAGES, f"/analytics/strategies/{history['north'].pk}/"]:
        html = client.get(path).content.decode()
        scripts = re.findall(r"<script\b([^>]*)>", html)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
        assert not re.search(r"<[^>]+\sstyle=", html), path
        assert "web/vendor/chart-4.6.1.umd.min.js" in html


def test_the_tables_are_the_charts_text_alternative(manager, history, web_client):
    html = web_client(manager).get("/analytics/").content.decode()

    label = re.search(r'<canvas id="conversion-chart"[^>]*aria-label="([^"]*)"', html).group(1)
    assert "North outreach" in label
    assert "table below" in label


# -- Scoping --------------------------------------------------------------------------------------


def test_a_rep_sees_only_their_own_numbers(rep, history, web_client):
    response = web_client(rep).get("/analytics/")

    rows = rows_by_name(response)
    assert rows["North outreach"].started == 3
    assert rows["North outreach"].converted == 1
    assert "South outreach" not in rows
    # Reps choose neither team nor person: there is nobody else to choose.
    html = response.content.decode()
    assert 'name="team_id"' not in html and 'name="user_id"' not in html


def test_a_manager_sees_their_team_but_not_another(manager, history, web_client):
    rows = rows_by_name(web_client(manager).get("/analytics/"))

    assert rows["North outreach"].started == 5
    assert "South outreach" not in rows
    assert "Custom plans" not in rows


def test_an_admin_sees_everyone(admin_user, history, web_client):
    rows = rows_by_name(web_client(admin_user).get("/analytics/"))

    assert rows["North outreach"].started == 5
    assert rows["South outreach"].started == 1
    assert rows["Custom plans"].started == 1


def test_a_manager_gets_no_funnel_of_another_teams_strategy(manager, history, web_client):
    client = web_client(manager)

    assert client.get(f"/analytics/strategies/{history['custom'].pk}/").status_code == 404
    assert client.get(f"/analytics/strategies/{uuid.uuid4()}/").status_code == 404


def test_the_owner_sees_their_custom_strategys_funnel(outsider, other_manager, history, web_client):
    path = f"/analytics/strategies/{history['custom'].pk}/"

    assert web_client(outsider).get(path).status_code == 200
    assert web_client(other_manager).get(path).status_code == 200


def test_a_teams_template_funnel_counts_only_the_viewers_plans(rep, manager, history, web_client):
    path = f"/analytics/strategies/{history['north'].pk}/"

    mine = web_client(rep).get(path).context["funnel"]
    team = web_client(manager).get(path).context["funnel"]

    assert mine.steps[0].reached == 3
    assert team.steps[0].reached == 5


def test_adherence_lists_people_for_a_manager_and_only_the_rep_for_a_rep(
    rep, teammate, manager, history, web_client
):
    team_page = web_client(manager).get("/analytics/adherence/")
    rep_page = web_client(rep).get("/analytics/adherence/")

    team_names = {item["row"].name for item in team_page.context["users"]}
    rep_names = {item["row"].name for item in rep_page.context["users"]}
    assert {str(rep), str(teammate)} <= (team_names)
    assert rep_names == {str(rep)}
    assert "By team" in team_page.content.decode()
    assert "By team" not in rep_page.content.decode()


# -- The funnel page ------------------------------------------------------------------------------


def test_the_funnel_names_its_biggest_drop_and_slowest_step(manager, history, web_client):
    response = web_client(manager).get(f"/analytics/strategies/{history['north'].pk}/")
    html = response.content.decode()
    funnel = response.context["funnel"]

    assert funnel.biggest_drop and funnel.biggest_drop in html
    assert funnel.slowest and funnel.slowest in html
    assert '<script id="funnel-data" type="application/json">' in html
    assert re.search(r'<canvas id="funnel-chart"[^>]*role="img"[^>]*aria-label="Bar chart', html)
    assert "1. Email" in html and "2. Call" in html
    assert f"/api/v1/analytics/strategies/{history['north'].pk}/funnel/?" in html


def test_the_funnel_chooser_goes_on_to_the_chosen_strategy_with_the_filters(
    manager, history, web_client
):
    north = history["north"]
    client = web_client(manager)

    # A start computed from today: a written one falls out of the longest period allowed (10
    # years) as the calendar moves on.
    start = (timezone.now().date() - datetime.timedelta(days=800)).isoformat()

    page = client.get("/analytics/funnel/")
    response = client.get(f"/analytics/funnel/?strategy_id={north.pk}&start={start}")

    assert "Choose a strategy" in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"/analytics/strategies/{north.pk}/?start={start}"


def test_long_durations_read_in_days():
    from cadence.web.views.analytics import duration

    assert duration(None) == "\N{EM DASH}"
    assert duration(5) == "5.0 h"
    assert duration(47.5) == "47.5 h"
    assert duration(48) == "2.0 days"
    assert duration(90) == "3.8 days"


# -- Filters --------------------------------------------------------------------------------------


def test_the_default_period_is_the_last_year(rep, web_client):
    response = web_client(rep).get("/analytics/")
    form = response.context["form"]
    today = timezone.localdate()

    assert form.cleaned_data["end"] == today
    assert form.cleaned_data["start"] == today - 364 * DAY


def test_the_period_narrows_the_plans(rep, history, web_client):
    old = history["north"]
    run_plan(rep, old, days_ago=500)
    client = web_client(rep)

    default = rows_by_name(client.get("/analytics/"))["North outreach"].started
    start = (timezone.localdate() - 600 * DAY).isoformat()
    longer = rows_by_name(client.get(f"/analytics/?start={start}"))["North outreach"].started
    recent = (timezone.localdate() - 5 * DAY).isoformat()
    empty = client.get(f"/analytics/?start={recent}")

    assert (default, longer) == (3, 4)
    assert empty.context["rows"] == []
    assert "No plans started in the period." in empty.content.decode()


def test_a_manager_narrows_to_one_person(manager, teammate, history, web_client):
    response = web_client(manager).get(f"/analytics/?user_id={teammate.pk}")

    assert rows_by_name(response)["North outreach"].started == 2
    assert f'<option value="{teammate.pk}" selected>' in response.content.decode()


def test_an_admin_narrows_to_one_team(admin_user, team, history, web_client):
    response = web_client(admin_user).get(f"/analytics/?team_id={team.pk}")

    rows = rows_by_name(response)
    assert rows["North outreach"].started == 5
    assert "South outreach" not in rows


def test_narrowing_to_a_strategy(admin_user, history, web_client):
    south = history["south"]
    response = web_client(admin_user).get(f"/analytics/?strategy_id={south.pk}")

    assert list(rows_by_name(response)) == ["South outreach"]


def test_the_tabs_and_links_carry_the_filters(manager, teammate, history, web_client):
    north = history["north"]
    start = (timezone.now().date() - datetime.timedelta(days=800)).isoformat()
    query = f"start={start}&user_id={teammate.pk}"
    html = web_client(manager).get(f"/analytics/?{query}").content.decode().replace("&amp;", "&")

    assert f'href="/analytics/adherence/?{query}"' in html
    assert f'href="/analytics/email/?{query}"' in html
    assert f'href="/analytics/strategies/{north.pk}/?{query}"' in html
    assert f'href="/analytics/?{query}" aria-current="page"' in html


def test_the_csv_link_asks_the_api_for_the_same_rows(manager, teammate, web_client):
    manager.time_zone = "Europe/Berlin"
    manager.save()
    query = f"start=2026-01-10&end=2026-01-20&user_id={teammate.pk}&grace_hours=12"
    html = web_client(manager).get(f"/analytics/adherence/?{query}").content.decode()

    href = re.search(r'href="(/api/v1/analytics/adherence/\?[^"]*)"', html).group(1)
    params = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    # Berlin's days, both included: from its midnight of the 10th to that of the 21st.
    assert params == {
        "start": ["2026-01-09T23:00:00+00:00"],
        "end": ["2026-01-20T23:00:00+00:00"],
        "user_id": [str(teammate.pk)],
        "grace_hours": ["12"],
        "format": ["csv"],
    }
    assert "Download CSV" in html


def test_the_csv_download_shows_a_formula_like_name_as_text(rep, web_client):
    """The page's CSV link (the API's CSV, signed in by the session) writes a strategy named
    like a spreadsheet formula with a leading quote, so opening the file runs nothing."""
    formula = '=HYPERLINK("https://evil.example/","Open")'
    strategy = strategy_with_steps(rep, formula)
    contact = ContactFactory(company__owner=rep, owner=rep)
    start = datetime.datetime(2025, 1, 6, 9, tzinfo=datetime.UTC)
    plan_services.plan_create(user=rep, contact=contact, strategy=strategy, plan_start_date=start)
    client = web_client(rep)
    html = client.get("/analytics/?start=2025-01-01&end=2025-01-31").content.decode()
    href = re.search(r'href="(/api/v1/analytics/strategies/\?[^"]*)"', html).group(1)

    download = client.get(href.replace("&amp;", "&"))

    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert [row[1] for row in rows[1:]] == ["'" + formula]


def test_the_grace_period_changes_adherence(rep, history, web_client):
    client = web_client(rep)

    generous = client.get("/analytics/adherence/?grace_hours=720")
    strict = client.get("/analytics/adherence/?grace_hours=0")

    assert generous.status_code == strict.status_code == 200
    on_time = [page.context["users"][0]["row"].on_time for page in (generous, strict)]
    assert on_time[0] >= on_time[1]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=yesterday", "start", "Enter a date as YYYY-MM-DD."),
        ("end=2024-02-31", "end", "Enter a date as YYYY-MM-DD."),
        ("start=2024-05-01&end=2024-04-01", "end", "The end date is before the start date."),
        ("start=0001-01-01&end=0001-01-02", "start", "Enter a date from 1900 to 2999."),
        ("end=9999-12-31", "end", "Enter a date from 1900 to 2999."),
        ("start=2001-01-01", "start", "Choose a period of at most 10 years."),
        (f"team_id={uuid.uuid4()}", "team_id", "Choose one of the teams in the list."),
        ("team_id=not-a-uuid", "team_id", "Choose one of the teams in the list."),
        (f"user_id={uuid.uuid4()}", "user_id", "Choose one of the people in the list."),
        (f"strategy_id={uuid.uuid4()}", "strategy_id", "Choose one of the strategies in the list."),
    ],
)
def test_bad_filters_are_explained_next_to_the_field(manager, query, field, message, web_client):
    for path in PAGES:
        response = web_client(manager).get(f"{path}?{query}")
        html = response.content.decode()

        assert response.status_code == 400, path
        assert field_error(html, field) == message
        assert "The report needs valid filters" in html
        assert "Download CSV" not in html


@pytest.mark.parametrize("grace", ["-1", "721", "two", "1.5"])
def test_a_grace_period_out_of_range_is_refused(rep, grace, web_client):
    response = web_client(rep).get(f"/analytics/adherence/?grace_hours={grace}")

    assert response.status_code == 400
    assert field_error(response.content.decode(), "grace_hours") == (
        "Enter whole hours from 0 to 720."
    )


def test_a_manager_cannot_choose_someone_from_another_team(
    manager, outsider, other_team, web_client
):
    client = web_client(manager)

    person = client.get(f"/analytics/?user_id={outsider.pk}")
    team = client.get(f"/analytics/?team_id={other_team.pk}")

    assert (
        field_error(person.content.decode(), "user_id") == "Choose one of the people in the list."
    )
    assert field_error(team.content.decode(), "team_id") == "Choose one of the teams in the list."


def test_a_rep_cannot_see_another_teams_custom_strategy_by_filter(rep, history, web_client):
    response = web_client(rep).get(f"/analytics/?strategy_id={history['custom'].pk}")

    assert response.status_code == 400


def test_a_reps_team_and_person_parameters_are_ignored(rep, outsider, history, web_client):
    response = web_client(rep).get(f"/analytics/?user_id={outsider.pk}&team_id=x")

    assert response.status_code == 200
    assert rows_by_name(response)["North outreach"].started == 3
    html = response.content.decode()
    assert "user_id" not in html.split('aria-label="Reports"')[1].split("</nav>")[0]


# -- Email outcomes -------------------------------------------------------------------------------


def test_email_outcomes_count_the_automated_emails(rep, manager, outsider, web_client):
    Sender.objects.create(
        user=rep, ramp_started_on=datetime.date(2020, 1, 1), postal_address="1 Main St"
    )
    rep.email = "rep@seller.example"
    rep.save()
    strategy = automated_strategy(created_by=manager, name="Auto intro")
    enroll(strategy, rep, contacts_of(rep, 3))
    outbox_queue_due(now=timezone.now())
    sent, uncertain, _queued = OutboundMessage.objects.order_by("to_email")
    now = timezone.now()
    OutboundMessage.objects.filter(pk=sent.pk).update(status=OutboundStatus.SENT, sent_at=now)
    OutboundMessage.objects.filter(pk=uncertain.pk).update(
        status=OutboundStatus.UNCERTAIN, handoff_at=now
    )

    mine = web_client(rep).get("/analytics/email/")
    theirs = web_client(outsider).get("/analytics/email/")

    [row] = [item["row"] for item in mine.context["rows"]]
    assert (row.strategy_name, row.step_number, row.sent, row.uncertain) == (
        "Auto intro",
        1,
        1,
        1,
    )
    html = mine.content.decode()
    assert ">Auto intro</th>" in html and "Step 1" in html
    assert theirs.context["rows"] == []
    assert "No automated emails in the period." in theirs.content.decode()


def test_email_outcomes_render_rows_with_their_reply_rate(manager, web_client, monkeypatch):
    from cadence.analytics import reports
    from cadence.analytics.types import EmailOutcome

    north_id, step_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    rows = [
        EmailOutcome(north_id, "North outreach", step_ids[0], 1, 40, 10, 2, 1, 0),
        EmailOutcome(north_id, "North outreach", step_ids[1], 3, 0, 0, 0, 0, 1),
    ]
    monkeypatch.setattr(reports, "email_outcomes", lambda **kwargs: rows)

    html = web_client(manager).get("/analytics/email/").content.decode()

    assert html.count(">North outreach</th>") == 1
    assert "Step 1" in html and "Step 3" in html
    assert "25.0%" in html
    assert "\N{EM DASH}" in html


# -- Query budget ---------------------------------------------------------------------------------


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def test_the_pages_take_as_many_queries_for_many_plans_as_for_few(web_client):
    team = TeamFactory(name="Budget")
    boss = UserFactory(username="boss", role=Role.MANAGER, team=team)
    reps = [UserFactory(username=f"budget-{n}", role=Role.REP, team=team) for n in range(3)]
    strategies = [strategy_with_steps(boss, f"Budget {n}") for n in range(2)]
    client = web_client(boss)
    paths = [
        *PAGES,
        f"/analytics/strategies/{strategies[0].pk}/",
        f"/analytics/?user_id={reps[0].pk}",
        "/analytics/adherence/?grace_hours=2",
    ]

    def grow(times):
        for n in range(times):
            for user in reps:
                run_plan(user, strategies[n % 2], steps_done=n % 3, replied=n % 4 == 0)

    grow(2)
    few = {path: _queries(client, path) for path in paths}
    grow(6)
    many = {path: _queries(client, path) for path in paths}

    assert many == few
    assert max(many.values()) <= 20
