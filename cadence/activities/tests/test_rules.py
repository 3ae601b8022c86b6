"""The activities' named rules: which outcomes each type may have (refused the same way by the
service and the API; the plan page's form is tested in ``web/tests/test_plans.py``), and what
counts as a response (Python and the ORM agree)."""

import itertools

import pytest

from cadence.activities import rules
from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.activities.services import activity_create, activity_update
from cadence.activities.tests.factories import ActivityFactory
from cadence.core.errors import CadenceError
from cadence.core.tests.api_helpers import API, assert_field_error
from cadence.crm.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

ACTIVITIES = f"{API}/activities/"
COMBINATIONS = list(itertools.product(ActivityType.values, Outcome.values))


def test_every_type_has_its_outcomes_and_every_outcome_a_type():
    listed = set(itertools.chain.from_iterable(rules.OUTCOMES_BY_TYPE.values()))
    assert listed == set(Outcome)
    for activity_type in (ActivityType.TASK, ActivityType.OTHER, "A type of our own"):
        assert rules.outcomes_allowed(activity_type) == tuple(Outcome)


@pytest.mark.parametrize(("activity_type", "outcome"), COMBINATIONS)
def test_outcome_check_follows_the_table(activity_type, outcome):
    allowed = outcome in rules.outcomes_allowed(activity_type)
    if allowed:
        rules.outcome_check(activity_type=activity_type, outcome=outcome)
        return
    with pytest.raises(CadenceError) as refused:
        rules.outcome_check(activity_type=activity_type, outcome=outcome)
    assert refused.value.field == "outcome"
    for each in rules.outcomes_allowed(activity_type):
        assert f'"{each}"' in str(refused.value)


@pytest.mark.parametrize("activity_type", ActivityType.values)
def test_no_outcome_is_always_allowed(activity_type):
    rules.outcome_check(activity_type=activity_type, outcome="")


def test_the_service_refuses_an_outcome_the_type_cannot_have(rep):
    company = CompanyFactory(owner=rep)
    with pytest.raises(CadenceError, match='"Call" cannot have the outcome "Bounced"'):
        activity_create(actor=rep, company=company, activity_type="Call", outcome="Bounced")
    assert not Activity.objects.exists()
    activity = activity_create(actor=rep, company=company, activity_type="Call", outcome="")
    with pytest.raises(CadenceError, match="cannot have the outcome"):
        activity_update(activity=activity, data={"outcome": Outcome.SENT})
    activity_update(activity=activity, data={"outcome": Outcome.CONNECTED})
    # Changing the type checks the outcome it already has.
    with pytest.raises(CadenceError, match='"Email" cannot have the outcome "Connected"'):
        activity_update(activity=activity, data={"activity_type": ActivityType.EMAIL})
    activity.refresh_from_db()
    assert (activity.activity_type, activity.outcome) == ("Call", "Connected")


def test_the_api_answers_400_naming_the_allowed_outcomes(client_for, rep):
    company = CompanyFactory(owner=rep)
    response = client_for(rep).post(
        ACTIVITIES,
        {"company_id": str(company.pk), "activity_type": "Meeting", "outcome": "Replied"},
    )
    assert_field_error(response, "outcome", '"Completed", "No Show", "Meeting Booked"')
    assert not Activity.objects.exists()

    created = client_for(rep).post(
        ACTIVITIES,
        {"company_id": str(company.pk), "activity_type": "Meeting", "outcome": "No Show"},
    )
    assert created.status_code == 201, created.content
    url = f"{ACTIVITIES}{created.json()['activity_id']}/"
    response = client_for(rep).patch(url, {"activity_type": "Email"}, format="json")
    assert_field_error(response, "outcome", "cannot have the outcome")
    assert Activity.objects.get().activity_type == "Meeting"


def test_what_counts_as_a_response_is_the_same_in_python_and_in_the_database(rep):
    """``is_response`` and ``response_q`` agree on every type, direction and outcome."""
    company = CompanyFactory(owner=rep)
    made = [
        ActivityFactory(
            user=rep,
            company=company,
            contact=None,
            activity_type=activity_type,
            direction=direction,
            outcome=outcome,
        )
        for activity_type, direction, outcome in itertools.product(
            ActivityType.values, Direction.values, ["", *Outcome.values]
        )
    ]
    in_python = {activity.pk for activity in made if rules.is_response(activity)}
    in_sql = set(Activity.objects.filter(rules.response_q()).values_list("pk", flat=True))
    assert in_python == in_sql
    assert len(in_python) == len(ActivityType) * (len(Outcome) + 1 + len(rules.RESPONSE_OUTCOMES))
