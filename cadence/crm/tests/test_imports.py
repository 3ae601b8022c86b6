"""Importing contacts from CSV: reading files, mapping columns, the row-by-row upsert and the
chunked import jobs kept on disk."""

import pytest

from cadence.crm import import_jobs, imports
from cadence.crm.import_jobs import ImportJobNotFound
from cadence.crm.imports import (
    CsvFileError,
    contacts_import_rows,
    guess_mapping,
    map_row,
    mapping_problems,
    normalise_domain,
    read_csv,
    row_problems,
)
from cadence.crm.models import Company, Contact
from cadence.crm.tests.factories import CompanyFactory, ContactFactory

HEADER = ["First name", "Last name", "Email", "Company", "Website"]
MAPPING = guess_mapping(HEADER)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Imports are written under a throw-away VAR_DIR."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def numbered(*rows):
    return [(number, list(row)) for number, row in enumerate(rows, start=2)]


# -- Reading files ------------------------------------------------------------------------------


def test_a_utf8_file_with_a_byte_order_mark_reads_with_a_clean_header():
    table = read_csv("\ufeffEmail,Name\nada@example.com,Ada\n".encode())
    assert table.header == ["Email", "Name"]
    assert table.rows == [(2, ["ada@example.com", "Ada"])]


def test_a_semicolon_file_is_sniffed_and_quoted_delimiters_stay_in_their_cell():
    data = 'Name;Company;Email\n"Lovelace; Ada";"Acme, Inc";ada@acme.com\nBob;Beta;b@b.com\n'
    table = read_csv(data.encode())
    assert table.delimiter == ";"
    assert table.rows[0] == (2, ["Lovelace; Ada", "Acme, Inc", "ada@acme.com"])


def test_a_single_column_file_reads_as_one_column():
    table = read_csv(b"email\nada@example.com\nbob@example.com\n")
    assert table.header == ["email"]
    assert len(table.rows) == 2


def test_blank_lines_are_skipped_but_rows_keep_their_spreadsheet_numbers():
    table = read_csv(b"Email\r\na@x.com\r\n\r\nb@x.com\r\n")
    assert [number for number, _ in table.rows] == [2, 4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x00\x00binary", "binary data"),
        ("Name\nJosé\n".encode("latin-1"), "not UTF-8"),
        (b"Email,Name\n", "no contacts"),
    ],
)
def test_files_that_are_not_a_csv_table_are_refused_with_a_clear_message(data, message):
    with pytest.raises(CsvFileError) as error:
        read_csv(data)
    assert message in error.value.message
    assert error.value.field == "file"


# -- Mapping ------------------------------------------------------------------------------------


def test_columns_are_guessed_from_usual_header_names():
    header = ["E-mail", "Given name", "Surname", "Job Title", "Organisation", "Website", "Notes"]
    assert guess_mapping(header) == {
        "first_name": 1,
        "last_name": 2,
        "email": 0,
        "phone": None,
        "title": 3,
        "linkedin_url": None,
        "time_zone": None,
        "company_name": 4,
        "company_domain": 5,
    }


def test_a_mapping_needs_a_way_to_name_the_contact_and_its_company_and_distinct_columns():
    empty = dict.fromkeys(imports.IMPORT_FIELDS)
    problems = mapping_problems(empty, HEADER)
    assert set(problems) == {"email", "company_name"}

    twice = {**MAPPING, "last_name": 0}
    assert "already mapped to First name" in mapping_problems(twice, HEADER)["last_name"]
    assert "columns" in mapping_problems({**MAPPING, "phone": 9}, HEADER)["phone"]
    assert mapping_problems(MAPPING, HEADER) == {}


def test_mapped_rows_are_trimmed_and_short_rows_read_as_empty():
    fields = map_row([" Ada ", "Lovelace"], MAPPING)
    assert fields["first_name"] == "Ada"
    assert fields["email"] == ""
    assert fields["company_domain"] == ""


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.Acme.com/about", "acme.com"),
        ("acme.com", "acme.com"),
        ("http://shop.acme.co.uk:8080?x=1", "shop.acme.co.uk"),
        ("", ""),
    ],
)
def test_domains_are_normalised(value, domain):
    assert normalise_domain(value) == domain


def test_row_problems_name_each_bad_value():
    problems = row_problems(
        {
            "first_name": "",
            "last_name": "",
            "email": "not-an-email",
            "time_zone": "Mars/Olympus",
            "linkedin_url": "",
            "company_domain": "not a domain",
        }
    )
    assert any(problem.startswith("Email:") for problem in problems)
    assert any("Mars/Olympus is not a known time zone" in problem for problem in problems)
    assert any(problem.startswith("Company domain:") for problem in problems)
    assert row_problems({"first_name": "", "last_name": "", "email": ""}) == [
        "A contact needs a name or an email address."
    ]


# -- Importing rows -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_good_rows_create_contacts_and_their_companies_owned_by_the_importer(rep):
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(
            ["Ada", "Lovelace", "ada@acme.com", "Acme", "https://www.acme.com"],
            ["Bob", "Babbage", "bob@acme.com", "ACME", "acme.com"],
        ),
        mapping=MAPPING,
    )
    assert [o.outcome for o in outcomes] == ["created", "created"]
    assert [o.row for o in outcomes] == [2, 3]
    company = Company.objects.get()
    assert (company.name, company.domain, company.owner) == ("Acme", "acme.com", rep)
    assert set(company.contacts.values_list("owner", flat=True)) == {rep.pk}


@pytest.mark.django_db
def test_a_bad_row_is_rejected_with_its_reason_and_the_others_are_imported(rep):
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(
            ["Ada", "Lovelace", "ada@acme.com", "Acme", "acme.com"],
            ["Bad", "Email", "not-an-email", "Beta", "beta.com"],
            ["", "", "", "Gamma", "gamma.com"],
            ["Carl", "Gauss", "carl@delta.com", "", ""],
        ),
        mapping=MAPPING,
    )
    assert [o.outcome for o in outcomes] == ["created", "rejected", "rejected", "rejected"]
    assert "Email: Enter a valid email address." in outcomes[1].message
    assert outcomes[2].message == "A contact needs a name or an email address."
    assert "needs a company" in outcomes[3].message
    assert list(Contact.objects.values_list("email", flat=True)) == ["ada@acme.com"]
    # A rejected row leaves nothing behind, not even a company.
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]


@pytest.mark.django_db
def test_a_row_the_model_refuses_rolls_back_its_new_company(rep):
    """Checks only the services make (here: the time zone, unmapped in the pure checks when
    given through a column the model validates) still reject the row alone."""
    mapping = {**MAPPING, "time_zone": 5}
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(["Ada", "L", "ada@new.com", "New Co", "new.com", "Nowhere/Town"]),
        mapping=mapping,
    )
    assert outcomes[0].outcome == "rejected"
    assert "Nowhere/Town is not a known time zone" in outcomes[0].message
    assert not Company.objects.exists()


@pytest.mark.django_db
def test_duplicate_rows_in_one_file_create_once_then_update(rep):
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(
            ["Ada", "Lovelace", "ada@acme.com", "Acme", "acme.com"],
            ["Ada", "King", "ADA@acme.com", "Acme", "acme.com"],
        ),
        mapping=MAPPING,
    )
    assert [o.outcome for o in outcomes] == ["created", "updated"]
    assert outcomes[1].message.startswith("Same email as row 2")
    contact = Contact.objects.get()
    assert contact.last_name == "King"
    assert contact.email == "ada@acme.com"


@pytest.mark.django_db
def test_an_existing_visible_contact_is_updated_and_empty_cells_erase_nothing(rep, teammate):
    shared = ContactFactory(
        owner=teammate,
        team=teammate.team,
        company__owner=teammate,
        email="Ada@Acme.com",
        first_name="Ada",
        last_name="Lovelace",
        phone="+44 1",
    )
    mapping = {**MAPPING, "phone": None, "title": 5}
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(["", "King", "ada@acme.com", "Other Co", "other.com", "CTO"]),
        mapping=mapping,
    )
    assert outcomes[0].outcome == "updated"
    assert outcomes[0].contact_id == shared.pk
    shared.refresh_from_db()
    assert (shared.first_name, shared.last_name, shared.title) == ("Ada", "King", "CTO")
    assert shared.phone == "+44 1"
    # It keeps its company and its owner; no company was made for the row's.
    assert shared.owner == teammate
    assert not Company.objects.filter(name="Other Co").exists()


@pytest.mark.django_db
def test_an_unchanged_contact_is_reported_as_updated_with_no_changes(rep):
    ContactFactory(owner=rep, company__owner=rep, email="ada@acme.com", first_name="Ada")
    outcomes = contacts_import_rows(
        actor=rep,
        rows=[(2, ["Ada", "", "ada@acme.com", "", ""])],
        mapping=MAPPING,
    )
    assert (outcomes[0].outcome, outcomes[0].message) == ("updated", "No changes.")


@pytest.mark.django_db
def test_another_teams_contact_and_company_are_neither_updated_nor_used(rep, outsider):
    theirs = ContactFactory(
        owner=outsider, company__owner=outsider, company__domain="acme.com", email="ada@acme.com"
    )
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(["Ada", "Lovelace", "ada@acme.com", "Acme", "acme.com"]),
        mapping=MAPPING,
    )
    assert outcomes[0].outcome == "created"
    mine = Contact.objects.get(pk=outcomes[0].contact_id)
    assert mine.company != theirs.company
    assert mine.company.owner == rep


@pytest.mark.django_db
def test_the_company_is_matched_by_domain_first_then_by_name(rep, teammate):
    by_domain = CompanyFactory(name="Acme Holdings", domain="acme.com", owner=rep)
    by_name = CompanyFactory(name="Beta", domain="", owner=teammate, team=teammate.team)
    other_domain = CompanyFactory(name="Gamma", domain="gamma.io", owner=rep)
    outcomes = contacts_import_rows(
        actor=rep,
        rows=numbered(
            ["A", "", "a@x.com", "Acme", "https://www.ACME.com/"],
            ["B", "", "b@x.com", "beta", ""],
            ["C", "", "c@x.com", "Gamma", "gamma.com"],
        ),
        mapping=MAPPING,
    )
    companies = [Contact.objects.get(pk=o.contact_id).company for o in outcomes]
    assert companies[0] == by_domain
    assert companies[1] == by_name
    # Same name, another domain: another company, made for the row.
    assert companies[2] not in (by_domain, by_name, other_domain)
    assert companies[2].domain == "gamma.com"


@pytest.mark.django_db
def test_a_company_made_by_one_row_is_used_by_the_next(rep):
    contacts_import_rows(
        actor=rep,
        rows=numbered(
            ["A", "", "a@x.com", "", "newco.com"],
            ["B", "", "b@x.com", "NewCo", "newco.com"],
        ),
        mapping=MAPPING,
    )
    company = Company.objects.get()
    assert company.name == "newco.com"
    assert company.contacts.count() == 2


@pytest.mark.django_db
@pytest.mark.timeout(300)
def test_ten_thousand_rows_import_in_chunks(rep):
    """Slow but always run: a 10,000-row file through the whole job, chunk by chunk, each chunk
    a request's worth of work. (How long it takes is measured, not asserted: about 15-30 s.)"""
    lines = ["First name,Last name,Email,Company,Website"]
    lines += [
        f"F{i},L{i},person{i}@c{i % 300}.com,Company {i % 300},c{i % 300}.com"
        for i in range(10_000)
    ]
    job = import_jobs.import_job_create(
        actor=rep, filename="big.csv", data="\n".join(lines).encode()
    )
    import_jobs.import_job_set_mapping(job=job, mapping=job.mapping)
    import_jobs.import_job_start(job=job)

    requests = 0
    while job.status != "done":
        job = import_jobs.import_job_process_next_chunk(job=job, actor=rep)
        requests += 1
        assert job.processed == min(requests * imports.CHUNK_ROWS, 10_000)

    assert requests == 10_000 // imports.CHUNK_ROWS
    assert job.counts == {"created": 10_000, "updated": 0, "rejected": 0}
    assert Contact.objects.count() == 10_000
    assert Company.objects.count() == 300
    assert sum(1 for _ in job.report_rows()) == 10_000


# -- Import jobs --------------------------------------------------------------------------------

SMALL_FILE = (
    b"First name;Last name;Email;Company;Website\n"
    b"Ada;Lovelace;ada@acme.com;Acme;acme.com\n"
    b"Bad;Row;nope;Acme;acme.com\n"
)


@pytest.mark.django_db
def test_a_job_belongs_to_its_uploader_only(rep, teammate, var_dir):
    job = import_jobs.import_job_create(actor=rep, filename="../../x.csv", data=SMALL_FILE)
    assert (var_dir / "imports" / str(job.job_id) / "upload.csv").read_bytes() == SMALL_FILE
    assert job.filename == "x.csv"
    assert import_jobs.import_job_get(viewer=rep, job_id=job.job_id).total == 2
    for viewer, job_id in ((teammate, job.job_id), (rep, "not-a-uuid"), (rep, "0" * 32)):
        with pytest.raises(ImportJobNotFound):
            import_jobs.import_job_get(viewer=viewer, job_id=job_id)


@pytest.mark.django_db
def test_a_job_runs_only_once_mapped_and_started_and_records_a_report(rep):
    job = import_jobs.import_job_create(actor=rep, filename="x.csv", data=SMALL_FILE)
    assert job.status == "uploaded"
    with pytest.raises(imports.CadenceError):
        import_jobs.import_job_start(job=job)
    # Not running yet: asking for a chunk does nothing.
    assert import_jobs.import_job_process_next_chunk(job=job, actor=rep).processed == 0

    with pytest.raises(imports.CadenceError) as error:
        import_jobs.import_job_set_mapping(job=job, mapping={"first_name": 0})
    assert error.value.field == "company_name"

    import_jobs.import_job_set_mapping(job=job, mapping=job.mapping)
    preview = import_jobs.import_job_preview(job=job, viewer=rep)
    assert [row["action"] for row in preview] == ["created", "rejected"]
    assert preview[0]["company"] == "Acme (new company)"
    assert not Contact.objects.exists()

    import_jobs.import_job_start(job=job)
    job = import_jobs.import_job_process_next_chunk(job=job, actor=rep)
    assert job.status == "done"
    assert job.counts == {"created": 1, "updated": 0, "rejected": 1}
    report = list(job.report_rows())
    assert [(r["row"], r["outcome"]) for r in report] == [("2", "created"), ("3", "rejected")]
    assert "valid email" in report[1]["message"]
    with pytest.raises(imports.CadenceError):
        import_jobs.import_job_set_mapping(job=job, mapping=job.mapping)


@pytest.mark.django_db
def test_a_chunk_another_request_is_doing_is_not_done_twice(rep):
    job = import_jobs.import_job_create(actor=rep, filename="x.csv", data=SMALL_FILE)
    import_jobs.import_job_set_mapping(job=job, mapping=job.mapping)
    import_jobs.import_job_start(job=job)
    (job.path / "lock").touch()

    assert import_jobs.import_job_process_next_chunk(job=job, actor=rep).processed == 0
    assert not Contact.objects.exists()

    (job.path / "lock").unlink()
    assert import_jobs.import_job_process_next_chunk(job=job, actor=rep).processed == 2


@pytest.mark.django_db
def test_old_imports_are_pruned(rep, var_dir):
    job = import_jobs.import_job_create(actor=rep, filename="x.csv", data=SMALL_FILE)
    assert import_jobs.import_jobs_prune() == 0
    assert import_jobs.import_jobs_prune(older_than=-1) == 1
    assert not job.path.exists()


def test_an_oversized_file_is_refused_before_it_is_read(rep):
    with pytest.raises(CsvFileError) as error:
        import_jobs.import_job_create(
            actor=rep, filename="x.csv", data=b"x" * (imports.MAX_FILE_BYTES + 1)
        )
    assert "larger than 10 MB" in error.value.message
