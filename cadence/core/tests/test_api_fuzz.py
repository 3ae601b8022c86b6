"""The whole API fuzzed from its own OpenAPI schema: no request, however malformed, is a 500.

Schemathesis reads ``/api/schema/`` from the WSGI app in-process and generates requests for every
operation: valid ones (positive) and ones that break the schema (negative), as an admin and as a
rep, authenticated by API token. About half aim at objects that exist, so the requests get past
the 404 into the views' validation. No answer may be a server error, and an answer with a
documented status must have the schema's content type and body.

Hypothesis is derandomized (the same cases on every run, so a failure reproduces) with no
deadline, and a small number of examples per operation keeps the module to a few minutes on
SQLite. Each operation and role is a test of its own, in the test's transaction; each request
runs in a savepoint that a refused request rolls back, as DRF does under ATOMIC_REQUESTS, so a
request that failed at the database leaves the next one a usable connection.
"""

import os

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from cadence.accounts.choices import Role
from cadence.accounts.models import User
from cadence.accounts.tests.factories import UserFactory
from cadence.activities.tests.factories import ActivityFactory, ReminderFactory
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from config.wsgi import application

pytestmark = pytest.mark.django_db

#: Requests per operation and role: valid and invalid, to IDs that exist and to generated ones.
#: CADENCE_FUZZ_EXAMPLES=200 searches harder, for a run by hand.
EXAMPLES = int(os.environ.get("CADENCE_FUZZ_EXAMPLES", "10"))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    # A failure is reported as found: shrinking it through HTTP calls could take minutes.
    phases=[Phase.explicit, Phase.generate],
)

CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@pytest.fixture(autouse=True)
def _keep_the_test_connection(direct_wsgi):
    """Every test here calls the WSGI application directly (see ``direct_wsgi``)."""


@pytest.fixture
def world(rep, team):
    """One of each object the API reaches by ID, all visible to the rep (and to admins)."""
    teammate = UserFactory(username="fuzz-teammate", role=Role.REP, team=team)
    contact = ContactFactory(owner=rep, company=CompanyFactory(owner=rep))
    strategy = ContactStrategyFactory(created_by=rep)
    step = StrategyStepFactory(strategy=strategy, step_number=1)
    StrategyStepFactory(strategy=strategy, step_number=2)
    plan = LeadContactPlanFactory(
        user=rep, contact=contact, company=contact.company, strategy=strategy
    )
    activity = ActivityFactory(user=rep, contact=contact, company=contact.company, plan=plan)
    reminder = ReminderFactory(user=rep, plan=plan)
    return {
        "company_id": contact.company_id,
        "contact_id": contact.pk,
        "strategy_id": strategy.pk,
        "strategy_pk": strategy.pk,
        "plan_id": plan.pk,
        "activity_id": activity.pk,
        "reminder_id": reminder.pk,
        "team_id": team.pk,
        # Another user: a caller editing or deactivating itself would stop the run.
        "user_id": teammate.pk,
        "step_id": step.pk,
    }


def known_path_parameters(operation, world: dict) -> dict:
    """The operation's path parameters that name an object of ``world``."""
    known = {}
    for parameter in operation.path_parameters:
        name = parameter.name
        if name == "id" and "/steps/{id}" in operation.path:
            known[name] = str(world["step_id"])
        elif name == "id" and operation.path.startswith("/api/v1/strategies/{id}"):
            known[name] = str(world["strategy_id"])
        elif name in world:
            known[name] = str(world[name])
    return known


@pytest.mark.parametrize("role", ["admin_user", "rep"])
@pytest.mark.parametrize("label", list(OPERATIONS))
def test_the_api_answers_every_generated_request_without_a_server_error(
    request, world, role, label
):
    caller: User = request.getfixturevalue(role)
    operation = OPERATIONS[label]
    known = known_path_parameters(operation, world)
    cases = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        cases.append(operation.as_strategy(generation_mode=mode))
        if known:
            cases.append(operation.as_strategy(generation_mode=mode, path_parameters=known))

    @FUZZ_SETTINGS
    @given(case=st.one_of(cases))
    def run(case):
        # A case may have changed the caller's password (which revokes the token) or the
        # token itself; each case is sent as the caller with a valid token.
        token, _ = Token.objects.get_or_create(user=caller)
        with transaction.atomic():
            response = case.call(headers={"Authorization": f"Token {token.key}"})
            if response.status_code >= 400:
                # As DRF does under ATOMIC_REQUESTS: a refused request leaves nothing behind,
                # and on PostgreSQL a statement that failed has aborted the transaction back
                # to this savepoint.
                transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS)

    run()
