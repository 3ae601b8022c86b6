"""Bad input answers 400 (or 404 for a malformed ID in a URL) with field-level JSON, never a 500."""

import io
import json
import re

import pytest
from rest_framework.exceptions import ParseError

from cadence.core.api.parsers import MAX_JSON_DEPTH, DepthLimitedJSONParser, json_depth
from cadence.core.tests.api_helpers import UNKNOWN_ID
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

MALFORMED_UUID = "not-a-uuid"


@pytest.fixture
def api(client_for, rep):
    client = client_for(rep)
    client.raise_request_exception = False
    return client


@pytest.fixture
def strategy(rep):
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1)
    StrategyStepFactory(strategy=strategy, step_number=2)
    return strategy


@pytest.fixture
def contact(rep):
    return ContactFactory(company=CompanyFactory(owner=rep), owner=rep)


def assert_field_error(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert all(isinstance(message, str) and message for message in body[field]), body


def test_strategy_with_duplicate_step_numbers_is_400(api):
    response = api.post(
        "/api/v1/strategies/",
        {
            "name": "Twice the same",
            "steps": [
                {"step_number": 1, "activity_type": "Email"},
                {"step_number": 1, "activity_type": "Call"},
            ],
        },
    )
    assert_field_error(response, "steps")


@pytest.mark.parametrize("delay", [-1, -100])
def test_negative_delay_is_400(api, strategy, delay):
    response = api.post(
        f"/api/v1/strategies/{strategy.pk}/steps/", {"activity_type": "Call", "delay_days": delay}
    )
    assert_field_error(response, "delay_days")


@pytest.mark.parametrize("number", [0, -3, 10**30, "three", None])
def test_bad_step_number_is_400(api, strategy, number):
    response = api.post(
        f"/api/v1/strategies/{strategy.pk}/steps/",
        {"activity_type": "Call", "step_number": number},
    )
    assert_field_error(response, "step_number")


def test_unknown_activity_type_is_400(api, strategy):
    response = api.post(f"/api/v1/strategies/{strategy.pk}/steps/", {"activity_type": "Pigeon"})
    assert_field_error(response, "activity_type")


@pytest.mark.parametrize("status", ["Sleeping", "not started", "", 7])
def test_unknown_plan_status_is_400(api, rep, contact, strategy, status):
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    response = api.patch(f"/api/v1/plans/{plan.pk}/", {"status": status})
    assert_field_error(response, "status")


def test_finished_plan_status_is_final(api, rep, contact, strategy):
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep, status="Aborted")
    response = api.patch(f"/api/v1/plans/{plan.pk}/", {"status": "In Progress"})
    assert_field_error(response, "status")


def test_second_active_plan_for_contact_and_strategy_is_400(api, contact, strategy):
    first = api.post(
        "/api/v1/plans/", {"contact_id": str(contact.pk), "strategy_id": str(strategy.pk)}
    )
    assert first.status_code == 201, first.content
    second = api.post(
        "/api/v1/plans/", {"contact_id": str(contact.pk), "strategy_id": str(strategy.pk)}
    )
    assert_field_error(second, "contact_id")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/plans/{bad}/",
        "/api/v1/companies/{bad}/",
        "/api/v1/contacts/{bad}/",
        "/api/v1/strategies/{bad}/",
        "/api/v1/strategies/{bad}/steps/",
        "/api/v1/activities/{bad}/",
        "/api/v1/reminders/{bad}/",
        "/api/v1/users/{bad}/",
        "/api/v1/teams/{bad}/",
    ],
)
def test_malformed_uuid_in_url_is_404(api, path):
    response = api.get(path.format(bad=MALFORMED_UUID))
    assert response.status_code == 404


@pytest.mark.parametrize("field", ["contact_id", "company_id", "strategy_id", "user_id"])
def test_malformed_uuid_in_body_is_400(api, contact, strategy, field):
    data = {"contact_id": str(contact.pk), "strategy_id": str(strategy.pk)}
    data[field] = MALFORMED_UUID
    response = api.post("/api/v1/plans/", data)
    assert_field_error(response, field)


@pytest.mark.parametrize(
    "query",
    [
        "strategy_id=nope",
        "status=Sleeping",
        "due_before=yesterday",
        "user_id=123",
    ],
)
def test_malformed_filter_is_400(api, query):
    response = api.get(f"/api/v1/plans/?{query}")
    assert response.status_code == 400
    assert response.json()


def test_unknown_ordering_field_is_ignored_not_500(api):
    response = api.get("/api/v1/plans/?ordering=password")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "field", "size"),
    [
        ("/api/v1/strategies/", "name", 256),
        ("/api/v1/strategies/", "description", 10_001),
        ("/api/v1/companies/", "name", 256),
    ],
)
def test_oversized_text_is_400(api, path, field, size):
    data = {"name": "ok", field: "x" * size}
    response = api.post(path, data)
    assert_field_error(response, field)


def test_oversized_template_is_400(api, strategy):
    response = api.post(
        f"/api/v1/strategies/{strategy.pk}/steps/",
        {"activity_type": "Email", "description_template": "x" * 100_001},
    )
    assert_field_error(response, "description_template")


def test_subject_template_over_255_is_400(api, strategy):
    response = api.post(
        f"/api/v1/strategies/{strategy.pk}/steps/",
        {"activity_type": "Email", "subject_template": "x" * 256},
    )
    assert_field_error(response, "subject_template")


def test_null_character_is_400(api):
    response = api.post("/api/v1/companies/", {"name": "Evil\x00Corp"})
    assert_field_error(response, "name")


def test_malformed_json_is_400(api):
    response = api.generic(
        "POST", "/api/v1/companies/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body",
    ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
@pytest.mark.parametrize("path", ["/api/v1/strategies/", "/api/v1/inbound/raw/"])
def test_json_nested_too_deep_is_400(client_for, admin_user, path, body):
    """A body nested past the limit is refused before parsing: a 400, not a RecursionError."""
    client = client_for(admin_user)
    client.raise_request_exception = False
    response = client.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert f"nested more than {MAX_JSON_DEPTH} levels" in response.json()["detail"]


def test_json_at_the_depth_limit_parses_and_one_deeper_does_not():
    """The limit is exact, and brackets inside strings (escaped quotes too) do not count."""
    parser = DepthLimitedJSONParser()
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth(at_limit) == MAX_JSON_DEPTH
    assert parser.parse(io.BytesIO(at_limit.encode())) == json.loads(at_limit)
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(f"[{at_limit}]".encode()))
    text = json.dumps({"name": '[{\\"' * 100, "tags": [["x"]]})
    assert json_depth(text) == 3
    assert parser.parse(io.BytesIO(text.encode())) == json.loads(text)


def test_options_on_every_api_path_is_never_a_500(client_for, admin_user, rep):
    """DRF answers OPTIONS by describing each method's form; on /users/me/ (no ID in the URL)
    that looked for an object by ID and failed. Every path of the schema, as an admin and a
    rep, with an ID that names nothing."""
    schema = client_for(admin_user).get("/api/schema/", {"format": "json"}).json()
    paths = [re.sub(r"\{[^}]+\}", UNKNOWN_ID, path) for path in schema["paths"]]
    assert "/api/v1/users/me/" in paths
    for user in (admin_user, rep):
        client = client_for(user)
        client.raise_request_exception = False
        for path in paths:
            response = client.options(path)
            assert response.status_code < 500, (user.username, path, response.status_code)


def test_options_on_me_describes_the_profile_form(client_for, rep):
    response = client_for(rep).options("/api/v1/users/me/")
    assert response.status_code == 200
    assert "display_name" in response.json()["actions"]["PUT"]


def test_request_body_over_the_limit_is_rejected_cleanly(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000})
    response = api.generic("POST", "/api/v1/companies/", body, content_type="application/json")
    assert response.status_code in (400, 413)


def test_unsupported_media_type_is_415(api):
    response = api.generic("POST", "/api/v1/companies/", "name=x", content_type="text/csv")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Mars/Olympus"), ("country", "XX"), ("size", "huge")],
)
def test_bad_company_attributes_are_400(api, field, value):
    response = api.post("/api/v1/companies/", {"name": "Acme", field: value})
    assert_field_error(response, field)


def test_bad_profile_values_are_400(api):
    response = api.patch(
        "/api/v1/users/me/", {"time_zone": "Nowhere/Land", "work_day_start": "25:00"}
    )
    assert response.status_code == 400
    body = response.json()
    assert "time_zone" in body
    assert "work_day_start" in body


def test_work_day_that_ends_before_it_starts_is_400(api):
    response = api.patch("/api/v1/users/me/", {"work_day_start": "18:00", "work_day_end": "09:00"})
    assert_field_error(response, "work_day_end")


def test_send_window_that_ends_before_it_starts_is_400(api, strategy):
    response = api.patch(
        f"/api/v1/strategies/{strategy.pk}/",
        {"send_window_start": "17:00", "send_window_end": "08:00"},
    )
    assert_field_error(response, "send_window_end")


def test_contact_of_another_company_is_400(api, rep, contact, strategy):
    other_company = CompanyFactory(owner=rep)
    response = api.post(
        "/api/v1/plans/",
        {
            "contact_id": str(contact.pk),
            "company_id": str(other_company.pk),
            "strategy_id": str(strategy.pk),
        },
    )
    assert_field_error(response, "contact_id")


def test_activity_on_a_step_outside_the_plan_is_400(api, rep, contact, strategy):
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy, user=rep)
    foreign_step = StrategyStepFactory(strategy=ContactStrategyFactory(created_by=rep))
    response = api.post(
        "/api/v1/activities/",
        {
            "plan_id": str(plan.pk),
            "step_id": str(foreign_step.pk),
            "activity_type": "Call",
        },
    )
    assert_field_error(response, "step_id")


def test_contact_without_name_or_email_is_400(api, contact):
    response = api.post("/api/v1/contacts/", {"company_id": str(contact.company_id)})
    assert_field_error(response, "first_name")


def test_bad_email_is_400(api, contact):
    response = api.post(
        "/api/v1/contacts/",
        {"company_id": str(contact.company_id), "first_name": "Ann", "email": "ann@"},
    )
    assert_field_error(response, "email")


def test_weak_password_for_new_user_is_400(client_for, admin_user):
    api = client_for(admin_user)
    response = api.post("/api/v1/users/", {"username": "newbie", "password": "123"})
    assert_field_error(response, "password")


def test_reorder_with_garbage_is_400(api, strategy):
    response = api.post(f"/api/v1/strategies/{strategy.pk}/steps/reorder/", {"step_ids": ["x", 3]})
    assert_field_error(response, "step_ids")


def test_page_out_of_range_is_404_not_500(api):
    response = api.get("/api/v1/plans/?page=999999")
    assert response.status_code == 404


@pytest.mark.parametrize("value", [10**12, -1, "x"])
def test_out_of_range_strategy_setting_is_400(api, strategy, value):
    response = api.patch(f"/api/v1/strategies/{strategy.pk}/", {"cooldown_days": value})
    assert_field_error(response, "cooldown_days")


@pytest.mark.parametrize("body", [{"minutes": 10**12}, {"until": "garbage"}, {}, {"minutes": -5}])
def test_bad_snooze_is_400(api, rep, body):
    from cadence.activities.tests.factories import ReminderFactory

    reminder = ReminderFactory(user=rep)
    response = api.post(f"/api/v1/reminders/{reminder.pk}/snooze/", body)
    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "body",
    [
        {"contact_ids": "x"},
        {"contact_ids": ["nope"]},
        {"plan_start_date": "x", "contact_ids": []},
        {"contact_ids": ["00000000-0000-4000-8000-000000000000"] * 20_001},
    ],
)
def test_bad_assignment_is_400(api, strategy, body):
    response = api.post(f"/api/v1/strategies/{strategy.pk}/assign/", body, format="json")
    assert response.status_code == 400, response.content[:300]


@pytest.mark.parametrize(
    ("field", "source", "fragment"),
    [
        ("subject_template", "Hi {{ contact.first_name", "Line 1"),
        ("description_template", "Hello\n{{ contact.shoe_size }}", "Line 2: unknown placeholder"),
        ("description_template", "{{ secret_key }}", "unknown placeholder 'secret_key'"),
    ],
)
def test_step_template_errors_are_400_with_line_and_name(api, strategy, field, source, fragment):
    """A step is not saved with a template that does not parse or names an unknown field."""
    response = api.post(
        f"/api/v1/strategies/{strategy.pk}/steps/", {"activity_type": "Email", field: source}
    )
    assert_field_error(response, field)
    assert fragment in response.json()[field][0]
