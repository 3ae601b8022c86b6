"""The contacts and companies pages, their forms, and the CSV import's steps."""

import csv
import datetime
import io
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from cadence.activities.tests.factories import ActivityFactory
from cadence.crm import import_jobs, imports
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def field_errors(response, name: str) -> str:
    """The error list rendered right after the ``name`` input, inside its field block."""
    html = response.content.decode()
    match = re.search(
        rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, flags=re.S
    )
    assert match, f"no field {name}"
    return match.group(0)


def assert_no_inline_code(response):
    """The CSP forbids inline script and style: the pages must not need them."""
    html = response.content.decode()
    assert "<script>" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
    assert "hx-on" not in html


# -- Lists --------------------------------------------------------------------------------------


def test_every_page_asks_anonymous_visitors_to_sign_in(rep):
    contact = ContactFactory(owner=rep, company__owner=rep)
    paths = [
        "/contacts/",
        "/companies/",
        f"/contacts/{contact.pk}/",
        f"/companies/{contact.company_id}/",
        "/contacts/new/",
        "/companies/new/",
        f"/contacts/{contact.pk}/edit/",
        "/contacts/import/",
    ]
    for path in paths:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


def test_the_contact_list_shows_visible_contacts_each_linking_to_its_page(
    rep, teammate, outsider, web_client
):
    mine = ContactFactory(owner=rep, company__owner=rep, first_name="Ada", last_name="Lovelace")
    shared = ContactFactory(
        owner=teammate, team=teammate.team, company__owner=teammate, first_name="Grace"
    )
    private = ContactFactory(owner=teammate, company__owner=teammate, first_name="Hidden")
    theirs = ContactFactory(owner=outsider, company__owner=outsider, first_name="Other")

    response = web_client(rep).get("/contacts/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/contacts/{mine.pk}/"' in html
    assert f'href="/contacts/{shared.pk}/"' in html
    assert f'href="/companies/{mine.company_id}/"' in html
    assert str(private.pk) not in html
    assert str(theirs.pk) not in html
    assert "2 contacts" in html
    assert_no_inline_code(response)


def test_contacts_are_searched_by_name_email_company_and_domain(rep, web_client):
    ada = ContactFactory(
        owner=rep,
        company__owner=rep,
        company__name="Acme",
        company__domain="acme.io",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.io",
    )
    bob = ContactFactory(
        owner=rep, company__owner=rep, company__name="Beta", first_name="Bob", email="b@beta.com"
    )
    client = web_client(rep)

    def found(q):
        html = client.get("/contacts/", {"q": q}).content.decode()
        return {c for c in (ada, bob) if f"/contacts/{c.pk}/" in html}

    assert found("lovelace") == {ada}
    assert found("ADA@acme") == {ada}
    assert found("beta") == {bob}
    assert found("acme.io") == {ada}
    assert found("ada acme") == {ada}
    assert found("ada beta") == set()


def test_contacts_are_filtered_by_industry_owner_email_status_and_opt_out(
    manager, rep, teammate, web_client
):
    tech = ContactFactory(owner=rep, company__owner=rep, company__industry="Technology")
    retail = ContactFactory(
        owner=teammate, company__owner=teammate, company__industry="Retail", email_status="bounced"
    )
    gone = ContactFactory(
        owner=rep,
        company__owner=rep,
        company__industry="Retail",
        opted_out=True,
        opted_out_at=timezone.now(),
    )
    client = web_client(manager)

    def found(**params):
        html = client.get("/contacts/", params).content.decode()
        return {c for c in (tech, retail, gone) if f"/contacts/{c.pk}/" in html}

    assert found() == {tech, retail, gone}
    assert found(industry="Retail") == {retail, gone}
    assert found(owner=str(teammate.pk)) == {retail}
    assert found(email_status="bounced") == {retail}
    assert found(opted_out="yes") == {gone}
    assert found(opted_out="no") == {tech, retail}


def test_an_invalid_filter_is_reported_and_the_others_still_apply(rep, web_client):
    ContactFactory(owner=rep, company__owner=rep, first_name="Ada")
    response = web_client(rep).get("/contacts/", {"owner": "nobody", "q": "zzz"})
    assert response.status_code == 200
    assert "Owner: Select a valid choice" in response.content.decode()
    assert "0 contacts" in response.content.decode()


def test_htmx_gets_only_the_results_and_history_restores_get_the_page(rep, web_client):
    ContactFactory(owner=rep, company__owner=rep, first_name="Ada")
    client = web_client(rep)

    partial = client.get("/contacts/", {"q": "ada"}, **HTMX)
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b"1 contact" in partial.content
    assert "HX-Request" in partial["Vary"]

    restored = client.get("/contacts/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert b"<html" in restored.content


def test_selected_contacts_and_all_matching_ones_go_to_the_assign_page(rep, web_client):
    contact = ContactFactory(owner=rep, company__owner=rep, first_name="Ada")
    html = web_client(rep).get("/contacts/", {"q": "ada lovelace"}).content.decode()
    assert html.count("Assign all matching") == 0  # nothing matches "lovelace"

    html = web_client(rep).get("/contacts/", {"q": "ada"}).content.decode()
    assert 'action="/strategies/assign/"' in html
    assert f'name="contact" value="{contact.pk}" id="select-{contact.pk}"' in html
    assert f'<label for="select-{contact.pk}"' in html
    assert ">Assign selected</button>" in html
    assert 'href="/strategies/assign/?search=ada"' in html


def test_the_contact_list_pages_by_25_within_a_query_budget(
    rep, web_client, django_assert_max_num_queries
):
    company = CompanyFactory(owner=rep)
    for index in range(30):
        ContactFactory(owner=rep, company=company, last_name=f"Person{index:02d}")
    client = web_client(rep)

    with django_assert_max_num_queries(10):
        first = client.get("/contacts/")
    with django_assert_max_num_queries(10):
        second = client.get("/contacts/", {"page": 2})

    assert first.content.decode().count('name="contact"') == 25
    assert second.content.decode().count('name="contact"') == 5
    assert "Page 2 of 2" in second.content.decode()


def test_the_company_list_shows_visible_companies_with_their_contact_counts(
    rep, outsider, web_client
):
    acme = CompanyFactory(owner=rep, name="Acme", domain="acme.io", size="11-50")
    ContactFactory.create_batch(3, owner=rep, company=acme)
    # Another team's contact at the company is not counted: the company page does not list it.
    ContactFactory(owner=outsider, company=acme)
    beta = CompanyFactory(owner=rep, name="Beta", domain="beta.com", industry="Retail")
    theirs = CompanyFactory(owner=outsider, name="Theirs")
    client = web_client(rep)

    html = client.get("/companies/").content.decode()
    assert f'href="/companies/{acme.pk}/">Acme</a>' in html
    assert f'href="/companies/{beta.pk}/">Beta</a>' in html
    assert str(theirs.pk) not in html
    assert re.search(r"Acme</a></td>.*?<td>3</td>", html, flags=re.S)

    def found(**params):
        html = client.get("/companies/", params).content.decode()
        return {c for c in (acme, beta) if f"/companies/{c.pk}/" in html}

    assert found(q="acme.io") == {acme}
    assert found(industry="Retail") == {beta}
    assert found(size="11-50") == {acme}
    partial = client.get("/companies/", {"q": "beta"}, **HTMX)
    assert b"<html" not in partial.content
    assert b"1 company" in partial.content


def test_the_company_list_stays_within_a_query_budget(
    manager, rep, web_client, django_assert_max_num_queries
):
    for index in range(30):
        company = CompanyFactory(owner=rep, name=f"Company {index:02d}")
        ContactFactory(owner=rep, company=company)

    client = web_client(manager)

    with django_assert_max_num_queries(10):
        response = client.get("/companies/")

    assert len(re.findall(r'<a href="/companies/[0-9a-f-]{36}/">', response.content.decode())) == 25


# -- Detail pages -------------------------------------------------------------------------------


def test_the_contact_page_shows_its_fields_plans_and_history_newest_first(rep, web_client):
    contact = ContactFactory(
        owner=rep,
        company__owner=rep,
        company__name="Acme",
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.io",
        phone="+44 20 7946 0000",
        time_zone="Europe/London",
    )
    strategy = ContactStrategyFactory(name="Outbound Q3")
    StrategyStepFactory(strategy=strategy, step_number=1, activity_type="Call")
    plan = LeadContactPlanFactory(contact=contact, strategy=strategy)
    now = timezone.now()
    ActivityFactory(contact=contact, subject="Older call", occurred_at=now - datetime.timedelta(2))
    ActivityFactory(contact=contact, subject="Newest email", occurred_at=now)

    response = web_client(rep).get(f"/contacts/{contact.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Ada Lovelace</h1>" in html
    assert "ada@acme.io" in html and "+44 20 7946 0000" in html and "Europe/London" in html
    assert f'href="/plans/{plan.pk}/">Outbound Q3</a>' in html
    assert "Step 1: Call" in html
    assert plan.get_status_display() in html
    assert html.index("Newest email") < html.index("Older call")
    assert f'href="/strategies/assign/?contact={contact.pk}"' in html
    assert f'href="/plans/new/?contact={contact.pk}"' in html
    assert f'href="/contacts/{contact.pk}/edit/"' in html
    assert f'hx-post="/contacts/{contact.pk}/delete/"' in html
    assert "hx-confirm=" in html
    assert_no_inline_code(response)


def test_a_lead_page_stays_within_a_query_budget(rep, web_client, django_assert_max_num_queries):
    contact = ContactFactory(owner=rep, company__owner=rep)
    strategy = ContactStrategyFactory()
    StrategyStepFactory(strategy=strategy, step_number=1)
    for _ in range(5):
        LeadContactPlanFactory(contact=contact, strategy=ContactStrategyFactory())
    ActivityFactory.create_batch(30, contact=contact)
    ContactFactory.create_batch(25, owner=rep, company=contact.company)
    client = web_client(rep)

    with django_assert_max_num_queries(10):
        client.get(f"/contacts/{contact.pk}/")
    with django_assert_max_num_queries(12):
        response = client.get(f"/companies/{contact.company_id}/")
    assert "Page 1 of 2" in response.content.decode()


def test_a_teammate_sees_a_shared_contact_but_no_delete_button(rep, teammate, web_client):
    contact = ContactFactory(owner=rep, team=rep.team, company__owner=rep)
    html = web_client(teammate).get(f"/contacts/{contact.pk}/").content.decode()
    assert "Edit</a>" in html
    assert "/delete/" not in html


def test_another_teams_contact_and_company_are_not_found(rep, outsider, web_client):
    contact = ContactFactory(owner=outsider, company__owner=outsider)
    client = web_client(rep)
    for path in (
        f"/contacts/{contact.pk}/",
        f"/contacts/{contact.pk}/edit/",
        f"/companies/{contact.company_id}/",
        f"/companies/{contact.company_id}/edit/",
        f"/contacts/{uuid.uuid4()}/",
    ):
        assert client.get(path).status_code == 404, path
    for path in (f"/contacts/{contact.pk}/delete/", f"/companies/{contact.company_id}/delete/"):
        assert client.post(path).status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_the_company_page_lists_its_contacts_plans_and_history(rep, web_client):
    company = CompanyFactory(owner=rep, name="Acme", domain="acme.io")
    ada = ContactFactory(owner=rep, company=company, first_name="Ada", last_name="Lovelace")
    plan = LeadContactPlanFactory(contact=ada, strategy=ContactStrategyFactory(name="Nurture"))
    ActivityFactory(contact=ada, subject="Intro call")

    html = web_client(rep).get(f"/companies/{company.pk}/").content.decode()

    assert "<h1>Acme</h1>" in html
    assert f'href="/contacts/{ada.pk}/">Ada Lovelace</a>' in html
    assert f'href="/plans/{plan.pk}/">Nurture</a>' in html
    assert "Intro call" in html
    assert f'href="/strategies/assign/?company={company.pk}"' in html
    assert f'href="/contacts/new/?company={company.pk}"' in html


# -- Delete -------------------------------------------------------------------------------------


def test_the_owner_deletes_a_contact_and_htmx_is_sent_to_the_list(rep, web_client):
    contact = ContactFactory(owner=rep, company__owner=rep)
    client = web_client(rep)

    assert client.get(f"/contacts/{contact.pk}/delete/").status_code == 405
    response = client.post(f"/contacts/{contact.pk}/delete/", **HTMX)

    assert response["HX-Redirect"] == "/contacts/"
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert "Deleted" in client.get("/contacts/").content.decode()


def test_a_teammate_may_not_delete_a_shared_lead(rep, teammate, web_client):
    contact = ContactFactory(owner=rep, team=rep.team, company__owner=rep, company__team=rep.team)
    client = web_client(teammate)

    response = client.post(f"/contacts/{contact.pk}/delete/", follow=True)
    assert "Only the owner, their manager or an admin may delete this." in (
        response.content.decode()
    )
    client.post(f"/companies/{contact.company_id}/delete/")
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert Company.objects.filter(pk=contact.company_id).exists()


def test_a_manager_deletes_a_company_with_its_contacts(manager, rep, web_client):
    contact = ContactFactory(owner=rep, company__owner=rep)
    response = web_client(manager).post(f"/companies/{contact.company_id}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/companies/"
    assert not Contact.objects.exists()


# -- Forms --------------------------------------------------------------------------------------


def contact_data(company, /, **overrides):
    data = {
        "company": str(company.pk),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@acme.io",
        "phone": "",
        "title": "CTO",
        "linkedin_url": "linkedin.com/in/ada",
        "time_zone": "Europe/London",
        "email_status": "unknown",
        "owner": str(company.owner_id),
        "team": "",
    }
    return {**data, **overrides}


def test_a_contact_is_created_and_the_user_sent_to_its_page(rep, web_client):
    company = CompanyFactory(owner=rep)
    client = web_client(rep)
    form = client.get("/contacts/new/", {"company": str(company.pk)}).content.decode()
    assert f'<option value="{company.pk}" selected>' in form
    assert '<label for="id_email">Email</label>' in form
    assert 'name="csrfmiddlewaretoken"' in form

    response = client.post("/contacts/new/", contact_data(company))

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert (contact.owner, contact.company, contact.title) == (rep, company, "CTO")
    assert contact.linkedin_url == "https://linkedin.com/in/ada"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus is not a known time zone"),
        ({"first_name": "", "last_name": "", "email": ""}, "first_name", "needs a name or an"),
        ({"company": str(uuid.uuid4())}, "company", "Choose one of the companies you can see."),
    ],
)
def test_bad_contact_input_is_shown_next_to_its_field(rep, web_client, overrides, field, message):
    company = CompanyFactory(owner=rep)
    response = web_client(rep).post("/contacts/new/", contact_data(company, **overrides))
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert not Contact.objects.exists()


def test_a_contact_cannot_be_put_at_a_company_the_user_may_not_see(rep, outsider, web_client):
    theirs = CompanyFactory(owner=outsider)
    data = contact_data(theirs, owner=str(rep.pk))
    response = web_client(rep).post("/contacts/new/", data)
    assert response.status_code == 400
    assert "Choose one of the companies you can see." in field_errors(response, "company")
    assert str(theirs.pk) not in web_client(rep).get("/contacts/new/").content.decode()


def test_a_contact_is_edited_and_a_teammate_may_not_take_it_over(rep, teammate, web_client):
    contact = ContactFactory(owner=rep, team=rep.team, company__owner=rep, title="Old")
    data = contact_data(
        contact.company,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        owner=str(rep.pk),
        team=str(rep.team_id),
        title="CTO",
    )
    client = web_client(teammate)
    page = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert f'value="{contact.email}"' in page

    saved = client.post(f"/contacts/{contact.pk}/edit/", data)
    assert saved.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "CTO"

    refused = client.post(f"/contacts/{contact.pk}/edit/", {**data, "team": ""})
    assert refused.status_code == 400
    assert "Only the owner, their manager or an admin" in field_errors(refused, "team")
    contact.refresh_from_db()
    assert contact.team == rep.team


def company_data(owner, /, **overrides):
    data = {
        "name": "Acme",
        "domain": "acme.io",
        "industry": "Technology",
        "size": "11-50",
        "country": "DE",
        "time_zone": "Europe/Berlin",
        "owner": str(owner.pk),
        "team": "",
    }
    return {**data, **overrides}


def test_a_company_is_created_and_edited(rep, web_client):
    client = web_client(rep)
    page = client.get("/companies/new/").content.decode()
    assert '<datalist id="time-zones">' in page
    assert '<label for="id_country">Country</label>' in page

    created = client.post("/companies/new/", company_data(rep))
    company = Company.objects.get()
    assert created["Location"] == f"/companies/{company.pk}/"
    assert (company.owner, company.country.code) == (rep, "DE")

    edited = client.post(f"/companies/{company.pk}/edit/", company_data(rep, name="Acme Ltd"))
    assert edited.status_code == 302
    company.refresh_from_db()
    assert company.name == "Acme Ltd"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"time_zone": "Nowhere"}, "time_zone", "Nowhere is not a known time zone"),
        ({"size": "huge"}, "size", "Select a valid choice."),
        ({"owner": "someone"}, "owner", "is not a valid UUID."),
    ],
)
def test_bad_company_input_is_shown_next_to_its_field(rep, web_client, overrides, field, message):
    response = web_client(rep).post("/companies/new/", company_data(rep, **overrides))
    assert response.status_code == 400
    assert message in field_errors(response, field)
    assert not Company.objects.exists()


def test_a_rep_may_not_give_a_company_to_someone_else(rep, teammate, web_client):
    response = web_client(rep).post("/companies/new/", company_data(rep, owner=str(teammate.pk)))
    assert response.status_code == 400
    assert "Select a valid choice." in field_errors(response, "owner")


# -- CSV import ---------------------------------------------------------------------------------

GOOD_CSV = (
    "\ufeffFirst name;Last name;E-mail;Company;Website\n"
    "Ada;Lovelace;ada@acme.io;Acme;acme.io\n"
    "Bad;Row;not-an-email;Acme;acme.io\n"
    "Grace;Hopper;grace@navy.mil;Navy;navy.mil\n"
).encode()


def upload(client, data=GOOD_CSV, name="contacts.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/contacts/import/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def guessed_mapping(client, mapping_url) -> dict:
    """What the mapping form offers as chosen: the guesses from the header."""
    form = client.get(mapping_url).context["form"]
    return {name: field.initial for name, field in form.fields.items()}


def start_import(client, data=GOOD_CSV):
    response = upload(client, data)
    job_url = response["Location"].removesuffix("mapping/")
    client.post(job_url + "mapping/", guessed_mapping(client, job_url + "mapping/"))
    client.post(job_url + "preview/")
    return job_url


def test_the_upload_page_explains_and_offers_a_labelled_file_input(rep, web_client):
    response = web_client(rep).get("/contacts/import/")
    html = response.content.decode()
    assert "<h1>Import contacts</h1>" in html
    assert '<label for="id_file">CSV file</label>' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert_no_inline_code(response)


def test_the_upload_checks_the_csrf_token(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert upload(client).status_code == 403


def test_an_uploaded_file_goes_to_the_column_mapping_with_guesses(rep, web_client):
    client = web_client(rep)
    response = upload(client)
    assert response.status_code == 302
    assert re.fullmatch(r"/contacts/import/[0-9a-f-]{36}/mapping/", response["Location"])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "contacts.csv: 3 rows" in html
    assert '<label for="id_email">Email</label>' in html
    # The E-mail column (index 2) is guessed for the email field, with a sample value.
    assert re.search(
        r'id="id_email".*?<option value="2" selected>E-mail \(e\.g\. ada@acme\.io\)',
        html,
        flags=re.S,
    )
    assert re.search(r'id="id_phone".*?<option value="" selected>Not in the file', html, flags=re.S)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "contacts.csv", "binary data"),
        ("Name\nJos\xe9\n".encode("latin-1"), "contacts.csv", "not UTF-8"),
        (b"Email,Name\n", "contacts.csv", "no contacts"),
        (b"Email\na@b.com\n", "contacts.xlsx", "Choose a .csv file"),
        (b"", "contacts.csv", "The submitted file is empty."),
    ],
)
def test_a_bad_file_is_refused_next_to_the_file_input(rep, web_client, data, name, message):
    response = upload(web_client(rep), data, name)
    assert response.status_code == 400
    assert message in field_errors(response, "file")


def test_a_file_over_the_limit_is_refused_unread(rep, web_client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    response = upload(web_client(rep), b"Email\n" + b"a@example.com\n" * 20)
    assert response.status_code == 400
    assert "larger than" in field_errors(response, "file")
    assert not (import_jobs.imports_dir()).exists() or not any(import_jobs.imports_dir().iterdir())


def test_a_mapping_without_a_company_column_is_refused_next_to_the_field(rep, web_client):
    client = web_client(rep)
    mapping_url = upload(client)["Location"]

    response = client.post(mapping_url, {"first_name": "0", "email": "2", "last_name": "0"})

    assert response.status_code == 400
    assert "already mapped to First name" in field_errors(response, "last_name")
    assert "Map a company name or company domain column" in field_errors(response, "company_name")


def test_the_preview_shows_the_first_rows_with_their_problems(rep, web_client):
    client = web_client(rep)
    mapping_url = upload(client)["Location"]
    response = client.post(mapping_url, guessed_mapping(client, mapping_url))
    assert response["Location"] == mapping_url.replace("mapping/", "preview/")

    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert "<h1>Preview import</h1>" in html
    assert "First 3 of 3 rows" in html
    assert "Acme (new company)" in html
    assert "Email: Enter a valid email address." in html
    assert ">Start import</button>" in html
    assert not Contact.objects.exists()
    assert_no_inline_code(preview)


def test_the_import_runs_chunk_by_chunk_with_a_progress_bar_then_reports(
    rep, web_client, monkeypatch
):
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 2)
    client = web_client(rep)
    job_url = start_import(client)

    page = client.get(job_url).content.decode()
    assert "<h1>Importing contacts</h1>" in page
    assert f'hx-post="{job_url}process/"' in page
    assert 'hx-trigger="load delay:100ms, every 3s"' in page
    assert '<progress id="import-progress-bar" value="0" max="3">' in page

    first = client.post(job_url + "process/", **HTMX)
    assert b'<progress id="import-progress-bar" value="2" max="3">' in first.content
    assert b"2 of 3 rows processed (66%)" in first.content
    assert b"<html" not in first.content

    last = client.post(job_url + "process/", **HTMX)
    assert last["HX-Redirect"] == job_url

    report = client.get(job_url)
    html = report.content.decode()
    assert "<h1>Import report</h1>" in html
    assert "2 created" in html and "0 updated" in html and "1 rejected" in html
    assert "Enter a valid email address." in html
    ada = Contact.objects.get(email="ada@acme.io")
    assert f'href="/contacts/{ada.pk}/">Ada Lovelace</a>' in html
    assert_no_inline_code(report)

    rejected = client.get(job_url, {"outcome": "rejected"}).content.decode()
    assert "not-an-email" in rejected and "ada@acme.io" not in rejected

    download = client.get(job_url + "report.csv")
    assert download["Content-Disposition"].startswith("attachment;")
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[0] == "row,outcome,message,email,name,company,contact_id"
    assert "3,rejected," in body


def test_the_report_download_neutralises_formulas_from_the_uploaded_file(rep, web_client):
    """Names and emails copied from the upload into the report CSV cannot run as spreadsheet
    formulas: they get a leading quote in the file; the page shows them as they were."""
    data = (
        b"First name,Last name,Email,Company\n"
        b"=1+2,-Lovelace,ada@acme.io,@Acme\n"
        b'Bad,Row,"=HYPERLINK(""https://evil.example"")",Acme\n'
    )
    client = web_client(rep)
    job_url = start_import(client, data)
    client.post(job_url + "process/")

    download = client.get(job_url + "report.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [(r["row"], r["outcome"]) for r in rows] == [("2", "created"), ("3", "rejected")]
    assert rows[0]["name"] == "'=1+2 -Lovelace"
    assert rows[0]["company"] == "'@Acme"
    assert rows[1]["email"] == '\'=HYPERLINK("https://evil.example")'
    assert Contact.objects.get(email="ada@acme.io").first_name == "=1+2"

    html = client.get(job_url).content.decode()
    assert "=1+2 -Lovelace" in html and "&#x27;=1+2" not in html
    assert "=HYPERLINK(&quot;https://evil.example&quot;)" in html


def test_without_htmx_each_step_reloads_the_page(rep, web_client):
    client = web_client(rep)
    job_url = start_import(client)
    response = client.post(job_url + "process/")
    assert response.status_code == 302
    assert response["Location"] == job_url
    # A finished import's steps go to its report.
    for step in ("mapping/", "preview/"):
        assert client.get(job_url + step)["Location"] == job_url


def test_an_import_updates_a_visible_contact_with_the_same_email(rep, web_client):
    existing = ContactFactory(owner=rep, company__owner=rep, email="ADA@acme.io", last_name="X")
    client = web_client(rep)
    job_url = start_import(client)
    client.post(job_url + "process/")
    existing.refresh_from_db()
    assert existing.last_name == "Lovelace"
    assert "1 updated" in client.get(job_url).content.decode()


def test_another_users_import_is_not_found(rep, teammate, web_client):
    job_url = start_import(web_client(rep))
    other = web_client(teammate)
    for step in ("", "mapping/", "preview/", "report.csv"):
        assert other.get(job_url + step).status_code == 404, step
    assert other.post(job_url + "process/", **HTMX).status_code == 404
    assert web_client(rep).get(f"/contacts/import/{uuid.uuid4()}/").status_code == 404


def test_the_report_is_not_there_before_the_import_runs(rep, web_client):
    client = web_client(rep)
    mapping_url = upload(client)["Location"]
    assert client.get(mapping_url.replace("mapping/", "report.csv")).status_code == 404
    # Before a mapping is chosen, the later steps send the user back to it.
    assert client.get(mapping_url.replace("mapping/", "preview/"))["Location"] == mapping_url
    assert client.get(mapping_url.replace("mapping/", ""))["Location"] == mapping_url
