"""Importing contacts, with their companies, from a CSV file.

Three layers, from the bottom:

- pure functions that read a file (UTF-8, BOM tolerated, ``,`` ``;`` or tab sniffed), guess which
  column holds which Cadence field, map a row and list its problems, with no database;
- the service ``contacts_import_rows``, which validates and upserts rows one at a time through the
  crm services, so an import obeys exactly the rules of the API and the forms, and a bad row is
  reported without aborting the others;
- import jobs (``cadence.crm.import_jobs``): an uploaded file and its progress on disk.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import DataError, IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from cadence.accounts.models import User
from cadence.core.errors import CadenceError
from cadence.core.validators import validate_time_zone
from cadence.crm.models import Company, Contact
from cadence.crm.selectors import company_list, contact_list
from cadence.crm.services import company_create, contact_create, contact_update

logger = logging.getLogger(__name__)

#: Larger files are refused at upload: 10 MB is about 100,000 contacts.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Rows imported per request: about a second of work, short enough for any proxy's timeout.
CHUNK_ROWS = 500
PREVIEW_ROWS = 10
MAX_COLUMNS = 200

#: The fields a column can fill, in the order the mapping form shows them.
IMPORT_FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "title": "Title",
    "linkedin_url": "LinkedIn URL",
    "time_zone": "Time zone",
    "company_name": "Company name",
    "company_domain": "Company domain",
}
#: The contact's own fields among them (the others find or make its company).
CONTACT_IMPORT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "linkedin_url",
    "time_zone",
)

#: Header names (lower case, letters and digits only) that CRMs, spreadsheets and data vendors
#: use for each field, so most files need no mapping by hand.
HEADER_SYNONYMS: dict[str, set[str]] = {
    "first_name": {"firstname", "first", "givenname", "forename", "prenom", "vorname"},
    "last_name": {"lastname", "last", "surname", "familyname", "nom", "nachname"},
    "email": {"email", "emailaddress", "mail", "workemail", "businessemail", "contactemail"},
    "phone": {
        "phone",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "workphone",
        "directphone",
    },
    "title": {"title", "jobtitle", "position", "role", "jobrole"},
    "linkedin_url": {"linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl"},
    "time_zone": {"timezone", "tz", "zone"},
    "company_name": {
        "company",
        "companyname",
        "organization",
        "organisation",
        "organizationname",
        "account",
        "accountname",
        "employer",
    },
    "company_domain": {
        "domain",
        "companydomain",
        "website",
        "companywebsite",
        "url",
        "web",
        "companyurl",
    },
}

#: Column widths of the fields, checked before the database would refuse a value.
MAX_LENGTHS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 50,
    "title": 255,
    "linkedin_url": 500,
    "time_zone": 64,
    "company_name": 255,
    "company_domain": 255,
}
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_url_validator = URLValidator(schemes=["http", "https"])

Mapping = dict[str, int | None]
NumberedRow = tuple[int, Sequence[str]]


class CsvFileError(CadenceError):
    """An uploaded file that cannot be read as a CSV table; the message says what to do."""


# -- Reading files (pure) -----------------------------------------------------------------------


@dataclass(frozen=True)
class CsvTable:
    """A file's header and its data rows, each with its row number as a spreadsheet shows it
    (the header is row 1). Blank lines are left out but still counted, so numbers match."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str


def decode_csv(data: bytes) -> str:
    """The file's text. Excel's "CSV UTF-8" starts with a byte-order mark, which is dropped;
    anything else that is not UTF-8 text (a workbook, a PDF, Latin-1) is refused with advice."""
    if not data.strip():
        raise CsvFileError("The file is empty.", field="file")
    if b"\x00" in data:
        raise CsvFileError(
            "This is not a CSV file: it holds binary data. Export your spreadsheet as "
            "“CSV UTF-8 (comma delimited)” and upload that.",
            field="file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1} is invalid). Save it as "
            "“CSV UTF-8” and upload it again.",
            field="file",
        ) from exc


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (what Excel writes where the decimal mark is a comma) or tab.

    The csv module's sniffer reads the first lines, quotes included; when it cannot decide (a
    single column), the delimiter the header line holds most of wins, else a comma."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {delimiter: header.count(delimiter) for delimiter in ",;\t"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv(data: bytes) -> CsvTable:
    """Parse an uploaded file into a header and numbered rows, or raise ``CsvFileError``."""
    text = decode_csv(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            if not any(value.strip() for value in record):
                continue
            if header is None:
                header = [
                    value.strip() or f"Column {index + 1}" for index, value in enumerate(record)
                ]
            else:
                rows.append((number, record))
    except csv.Error as exc:
        raise CsvFileError(f"The file is not valid CSV ({exc}).", field="file") from exc
    if header is None:
        raise CsvFileError("The file has no header row.", field="file")
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(
            f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read. Is it a CSV "
            "file with one contact per line?",
            field="file",
        )
    if not rows:
        raise CsvFileError("The file has a header row but no contacts below it.", field="file")
    return CsvTable(header=header, rows=rows, delimiter=delimiter)


# -- Mapping columns to fields (pure) -----------------------------------------------------------


def _normalise_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_mapping(header: Sequence[str]) -> Mapping:
    """For each field, the first column whose name is a known synonym of it (each column used
    once), or ``None``."""
    names = [_normalise_header(name) for name in header]
    taken: set[int] = set()
    mapping: Mapping = {}
    for field_name in IMPORT_FIELDS:
        mapping[field_name] = None
        for index, name in enumerate(names):
            if index not in taken and name in HEADER_SYNONYMS[field_name]:
                mapping[field_name] = index
                taken.add(index)
                break
    return mapping


def mapping_problems(mapping: Mapping, header: Sequence[str]) -> dict[str, str]:
    """What is wrong with a mapping, by field: a column that does not exist or is used twice,
    no way to tell who a contact is, or no company for it."""
    problems: dict[str, str] = {}
    used: dict[int, str] = {}
    for field_name in IMPORT_FIELDS:
        index = mapping.get(field_name)
        if index is None:
            continue
        if not 0 <= index < len(header):
            problems[field_name] = "Choose one of the file's columns."
        elif index in used:
            problems[field_name] = (
                f"The column “{header[index]}” is already mapped to {IMPORT_FIELDS[used[index]]}."
            )
        else:
            used[index] = field_name
    if not any(mapping.get(name) is not None for name in ("first_name", "last_name", "email")):
        problems.setdefault("email", "Map an email or a name column: a contact needs one of them.")
    if mapping.get("company_name") is None and mapping.get("company_domain") is None:
        problems.setdefault(
            "company_name",
            "Map a company name or company domain column: every contact belongs to a company.",
        )
    return problems


def normalise_domain(value: str) -> str:
    """``https://www.Acme.com/about`` and ``acme.com`` name the same company: ``acme.com``."""
    value = value.strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = re.split(r"[/?#]", value, maxsplit=1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    return value.removeprefix("www.")


def normalise_linkedin(value: str) -> str:
    """``linkedin.com/in/ada`` as people paste it becomes a full ``https://`` address."""
    if value and "://" not in value and "linkedin." in value.lower():
        return f"https://{value}"
    return value


def map_row(values: Sequence[str], mapping: Mapping) -> dict[str, str]:
    """A row's values by field, trimmed; a missing cell (a short row) reads as empty."""
    mapped = {}
    for field_name in IMPORT_FIELDS:
        index = mapping.get(field_name)
        value = values[index] if index is not None and index < len(values) else ""
        mapped[field_name] = value.strip()
    mapped["linkedin_url"] = normalise_linkedin(mapped["linkedin_url"])
    mapped["company_domain"] = normalise_domain(mapped["company_domain"])
    return mapped


def row_problems(fields: dict[str, str]) -> list[str]:
    """The problems of a mapped row that can be told without the database; the services check
    the rest when the row is imported. (A missing company matters only for a new contact: see
    ``NO_COMPANY``.)"""
    problems = []
    if not any(fields.get(name) for name in ("first_name", "last_name", "email")):
        problems.append("A contact needs a name or an email address.")
    for name, limit in MAX_LENGTHS.items():
        if len(fields.get(name, "")) > limit:
            problems.append(f"{IMPORT_FIELDS[name]} is longer than {limit} characters.")
    checks = (
        ("email", validate_email),
        ("time_zone", validate_time_zone),
        ("linkedin_url", _url_validator),
    )
    for name, validator in checks:
        if fields.get(name):
            try:
                validator(fields[name])
            except ValidationError as exc:
                problems.append(f"{IMPORT_FIELDS[name]}: {_error_text(exc)}")
    domain = fields.get("company_domain")
    if domain and not _DOMAIN_RE.match(domain):
        problems.append(f"Company domain: {domain} is not a domain name such as acme.com.")
    return problems


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{IMPORT_FIELDS.get(name, name.replace('_', ' ').capitalize())}: {message}"
            if name != "__all__"
            else message
            for name, errors in exc.message_dict.items()
            for message in errors
        )
    return " ".join(exc.messages)


# -- Importing rows (service) -------------------------------------------------------------------

CREATED, UPDATED, REJECTED = "created", "updated", "rejected"
NO_COMPANY = "No company name or domain: a new contact needs a company."


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row: ``created``, ``updated`` or ``rejected`` (with the reason in
    ``message``; for the others it is a note, or empty)."""

    row: int
    outcome: str
    message: str = ""
    email: str = ""
    name: str = ""
    company: str = ""
    contact_id: uuid.UUID | None = None


class _CompanyIndex:
    """The companies the actor can see that a batch of rows names, found with one query.

    A row's domain is looked for first, then its name (case-insensitive) among companies that
    have no domain or the same one: a same-named company with another domain is another
    company. Among equals the actor's own comes first, then the oldest."""

    def __init__(self, actor: User, rows: Iterable[dict[str, str]]):
        self.actor = actor
        domains = {row["company_domain"] for row in rows if row["company_domain"]}
        names = {row["company_name"].lower() for row in rows if row["company_name"]}
        self.by_domain: dict[str, Company] = {}
        self.by_name: dict[str, list[Company]] = {}
        if not domains and not names:
            return
        found = (
            company_list(viewer=actor)
            .annotate(domain_lower=Lower("domain"), name_lower=Lower("name"))
            .filter(Q(domain_lower__in=domains) | Q(name_lower__in=names))
        )
        ranked = sorted(found, key=lambda c: (c.owner_id != actor.pk, c.created_at, c.pk))
        for company in ranked:
            self.add(company)

    def add(self, company: Company) -> None:
        domain = normalise_domain(company.domain)
        if domain:
            self.by_domain.setdefault(domain, company)
        self.by_name.setdefault(company.name.lower(), []).append(company)

    def find(self, name: str, domain: str) -> Company | None:
        if domain and domain in self.by_domain:
            return self.by_domain[domain]
        for company in self.by_name.get(name.lower(), []) if name else []:
            if not domain or not company.domain or normalise_domain(company.domain) == domain:
                return company
        return None


def _contacts_by_email(actor: User, emails: set[str]) -> dict[str, Contact]:
    """Visible contacts with these (lower-case) emails; the actor's own first, then the oldest."""
    if not emails:
        return {}
    found = (
        contact_list(viewer=actor)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
    )
    contacts: dict[str, Contact] = {}
    for contact in sorted(found, key=lambda c: (c.owner_id != actor.pk, c.created_at, c.pk)):
        contacts.setdefault(contact.email_lower, contact)
    return contacts


#: Errors that mean "this row is bad": the row is reported and the import goes on. Anything
#: else is a bug and stops the chunk, whose transaction then leaves nothing half-done.
_ROW_ERRORS = (CadenceError, ValidationError, IntegrityError, DataError, ValueError)


@transaction.atomic
def contacts_import_rows(
    *, actor: User, rows: Iterable[NumberedRow], mapping: Mapping
) -> list[RowOutcome]:
    """Import ``(row number, values)`` rows mapped by ``mapping`` (field -> column index), each on
    its own: a bad row is rejected with its reason and the others go on.

    A row whose email (case-insensitive) belongs to a contact the actor can see updates that
    contact with the row's non-empty values (an empty cell erases nothing, and the contact keeps
    its company, since its plans are the company's too). Any other row creates a contact owned by
    the actor, at the company found by domain or name among those the actor can see, or at a
    new one the actor owns. A later row with the same email as an earlier one updates the contact
    the earlier one made.

    One transaction for the batch (one commit instead of one per row); each row runs in its own
    savepoint, so a rejected row leaves nothing behind, not even its new company.
    """
    mapped = [(number, map_row(values, mapping)) for number, values in rows]
    emails = {fields["email"].lower() for _, fields in mapped if fields["email"]}
    contacts = _contacts_by_email(actor, emails)
    companies = _CompanyIndex(actor, [fields for _, fields in mapped])
    first_row_of: dict[str, int] = {}
    outcomes = []
    for number, fields in mapped:
        outcome = _import_row(actor, number, fields, contacts, companies, first_row_of)
        outcomes.append(outcome)
    return outcomes


def _import_row(
    actor: User,
    number: int,
    fields: dict[str, str],
    contacts: dict[str, Contact],
    companies: _CompanyIndex,
    first_row_of: dict[str, int],
) -> RowOutcome:
    name = f"{fields['first_name']} {fields['last_name']}".strip()
    email_key = fields["email"].lower()
    report = {"row": number, "email": fields["email"], "name": name}
    problems = row_problems(fields)
    if problems:
        return RowOutcome(outcome=REJECTED, message=" ".join(problems), **report)
    values = {key: fields[key] for key in CONTACT_IMPORT_FIELDS if fields[key]}
    existing = contacts.get(email_key) if email_key else None
    if existing is None and not (fields["company_name"] or fields["company_domain"]):
        return RowOutcome(outcome=REJECTED, message=NO_COMPANY, **report)
    new_company = None
    try:
        if existing is not None:
            # The stored spelling of the address is kept: it matches already.
            values.pop("email", None)
            changed = any(getattr(existing, key) != value for key, value in values.items())
            contact = contact_update(actor=actor, contact=existing, data=values)
            outcome, note = UPDATED, "" if changed else "No changes."
        else:
            company = companies.find(fields["company_name"], fields["company_domain"])
            if company is None:
                # A new company stands or falls with its first contact: one savepoint for both.
                # (Otherwise the service's own transaction is the row's savepoint.)
                with transaction.atomic():
                    company = new_company = company_create(
                        actor=actor,
                        name=fields["company_name"] or fields["company_domain"],
                        domain=fields["company_domain"],
                    )
                    contact = contact_create(actor=actor, company=company, **values)
            else:
                contact = contact_create(actor=actor, company=company, **values)
            outcome, note = CREATED, ""
    except _ROW_ERRORS as exc:
        if existing is not None:
            # The failed save may have set attributes on the cached contact; reload it so a
            # later row of the same email compares against what is stored.
            existing.refresh_from_db()
        if isinstance(exc, ValueError) and not isinstance(exc, ValidationError):
            logger.warning("Import row %s refused by a conversion", number, exc_info=exc)
        return RowOutcome(outcome=REJECTED, message=_reason(exc), **report)
    if new_company is not None:
        companies.add(new_company)
    if email_key:
        contacts[email_key] = contact
        if email_key in first_row_of:
            note = f"Same email as row {first_row_of[email_key]}: {note or 'updated that contact.'}"
        else:
            first_row_of[email_key] = number
    return RowOutcome(
        outcome=outcome,
        message=note,
        company=contact.company.name,
        contact_id=contact.pk,
        **report,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, CadenceError):
        return exc.message
    if isinstance(exc, ValidationError):
        return _error_text(exc)
    if isinstance(exc, IntegrityError | DataError):
        return "The database refused this row (a value is out of range or conflicts)."
    return "A value in this row could not be read."


def import_preview(*, viewer: User, rows: Iterable[NumberedRow], mapping: Mapping) -> list[dict]:
    """What importing these rows would do, without writing: each row's mapped values, its
    problems, whether it would create or update a contact, and which company it would use."""
    mapped = [(number, map_row(values, mapping)) for number, values in rows]
    emails = {fields["email"].lower() for _, fields in mapped if fields["email"]}
    contacts = _contacts_by_email(viewer, emails)
    companies = _CompanyIndex(viewer, [fields for _, fields in mapped])
    preview = []
    for number, fields in mapped:
        problems = row_problems(fields)
        existing = contacts.get(fields["email"].lower()) if fields["email"] else None
        if existing is None and not (fields["company_name"] or fields["company_domain"]):
            problems.append(NO_COMPANY)
        if problems:
            action, company = REJECTED, ""
        elif existing is not None:
            action, company = UPDATED, existing.company.name
        else:
            found = companies.find(fields["company_name"], fields["company_domain"])
            action = CREATED
            company = (
                found.name
                if found
                else f"{fields['company_name'] or fields['company_domain']} (new company)"
            )
        preview.append(
            {
                "row": number,
                "fields": fields,
                "problems": problems,
                "action": action,
                "company": company,
            }
        )
    return preview
