"""Importing contacts from a CSV file in a real browser: a bad row is reported, the good ones
are imported; the contacts pages pass an accessibility check."""

import pytest

from cadence.crm.models import Contact
from cadence.web.tests.browser.conftest import serious_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

CSV = (
    "First Name,Last Name,Email,Company,Website\n"
    "Ada,Lovelace,ada@engines.example,Analytical Engines,engines.example\n"
    "Bad,Row,not-an-email,Analytical Engines,engines.example\n"
    "Grace,Hopper,grace@navy.example,US Navy,navy.example\n"
)


def test_a_csv_with_a_bad_row_imports_the_others_and_reports_it(page, sign_in, rep, tmp_path):
    upload = tmp_path / "leads.csv"
    upload.write_text(CSV, encoding="utf-8")
    sign_in(rep)

    page.goto(f"{page.base}/contacts/import/")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Map columns").wait_for()
    page.get_by_role("button", name="Preview import").click()
    page.get_by_role("heading", name="Preview import").wait_for()
    assert "not-an-email" in page.inner_text("main")
    page.get_by_role("button", name="Start import").click()
    page.get_by_role("heading", name="Import report").wait_for(timeout=30_000)

    report = page.inner_text("main")
    assert "not-an-email" in report
    assert sorted(Contact.objects.values_list("email", flat=True)) == [
        "ada@engines.example",
        "grace@navy.example",
    ]
    assert serious_violations(page) == []


def test_the_contacts_pages_have_no_serious_accessibility_violations(page, sign_in, rep):
    sign_in(rep)
    for path in ("/contacts/", "/companies/", "/contacts/new/", "/contacts/import/"):
        page.goto(f"{page.base}{path}")
        assert serious_violations(page) == [], path
        assert page.console_errors == [], path
