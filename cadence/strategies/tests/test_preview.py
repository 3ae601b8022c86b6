"""POST /api/v1/templates/preview/ renders templates for a chosen or a sample contact."""

import pytest

from cadence.core.tests.api_helpers import API, assert_field_error
from cadence.crm.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = f"{API}/templates/preview/"


def test_preview_for_a_chosen_contact(client_for, rep):
    rep.signature = "-- Rita"
    rep.save()
    contact = ContactFactory(
        first_name="Grace", company=CompanyFactory(owner=rep, name="Navy Labs"), owner=rep
    )
    response = client_for(rep).post(
        URL,
        {
            "contact_id": str(contact.pk),
            "subject_template": "Hi {{ contact.first_name }}",
            "description_template": "About {{ company.name }}.\n{{ user.signature }}",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "subject": "Hi Grace",
        "body": "About Navy Labs.\n-- Rita",
        "contact_id": str(contact.pk),
        "sample": False,
    }


def test_preview_without_a_contact_uses_a_sample(client_for, rep):
    response = client_for(rep).post(
        URL, {"subject_template": 'Hi {{ contact.first_name | default("there") }}'}
    )
    assert response.json()["subject"] == "Hi Ada"
    assert response.json()["sample"] is True


def test_preview_of_someone_elses_contact_does_not_exist(client_for, rep, outsider):
    contact = ContactFactory(owner=outsider)
    response = client_for(rep).post(URL, {"contact_id": str(contact.pk), "subject_template": "Hi"})
    assert_field_error(response, "contact_id")


def test_preview_of_a_broken_template_is_400_with_the_line(client_for, rep):
    response = client_for(rep).post(URL, {"description_template": "ok\n{% if %}"})
    assert_field_error(response, "description_template", "Line 2")


def test_preview_needs_a_login(api_client):
    assert api_client.post(URL, {"subject_template": "Hi"}).status_code == 401
