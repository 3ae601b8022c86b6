"""Project-wide guarantees: migrations match the models, the API documents itself and answers
as its schema says."""

import io

import pytest
import schemathesis
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import response_schema_conformance

from cadence.crm.tests.factories import ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from config.wsgi import application

pytestmark = pytest.mark.django_db


def test_models_and_migrations_agree():
    """Every model change has its migration (``makemigrations --check`` finds nothing)."""
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


def test_openapi_schema_generates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for name in ("strategy_id", "step_number", "delay_days", "next_step_due_date", "plan_id"):
        assert name in schema


def test_schema_and_docs_are_served_to_anyone(client):
    """The schema and the interactive docs need no login and load no asset from a CDN."""
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html


def test_swagger_assets_are_served_locally(client):
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    # The request's end closes stale connections, which counts as database access.
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.mark.parametrize(
    ("path", "what"),
    [
        # Work-day times are local times, "09:00:00": not RFC 3339 times, which need an offset.
        ("/api/v1/users/me/", None),
        # A running plan's exit reason is blank.
        ("/api/v1/plans/{plan_id}/", "plan"),
        # The organisation-wide rules (an admin has no team) have no team_id.
        ("/api/v1/suggestion-rules/", None),
    ],
)
@pytest.mark.usefixtures("direct_wsgi")
def test_answers_validate_against_the_schema(api_schema, admin_user, rep, path, what):
    """Answers the API fuzzing found at odds with the schema (a client validating them would
    refuse them), each checked as an admin (no team) and a rep."""
    contact = ContactFactory(owner=rep, company__owner=rep)
    plan = LeadContactPlanFactory(user=rep, contact=contact, status="In Progress")
    parameters = {"plan_id": str(plan.pk)} if what == "plan" else {}
    for user in (admin_user, rep):
        case = api_schema[path]["GET"].Case(path_parameters=parameters)
        token, _ = Token.objects.get_or_create(user=user)
        response = case.call(headers={"Authorization": f"Token {token.key}"})
        assert response.status_code == 200, response.text
        case.validate_response(response, checks=[response_schema_conformance])
