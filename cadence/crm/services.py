import datetime

from django.db import transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.core.services import model_update
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.crm.selectors import lead_can_delete

COMPANY_FIELDS = ("name", "domain", "industry", "size", "country", "time_zone", "owner", "team")
CONTACT_FIELDS = (
    "company",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "linkedin_url",
    "time_zone",
    "owner",
    "team",
    "email_status",
)


@transaction.atomic
def company_create(*, actor: User, **fields) -> Company:
    """Create a company; the actor owns it unless another owner is given."""
    fields.setdefault("owner", actor)
    company = Company(**fields)
    company.full_clean()
    company.save()
    return company


def _check_custody(actor: User, lead: Company | Contact, data: dict) -> None:
    """Taking over or unsharing a lead would let a teammate lock the others out of it, so only
    those who may delete it (owner, their manager, admins) change its owner or team."""
    moved = [
        name for name in ("owner", "team") if name in data and data[name] != getattr(lead, name)
    ]
    if moved and not lead_can_delete(actor, lead):
        raise PermissionDeniedError(
            "Only the owner, their manager or an admin may reassign or unshare this.",
            field=f"{moved[0]}_id",
        )


@transaction.atomic
def company_update(*, actor: User, company: Company, data: dict) -> Company:
    _check_custody(actor, company, data)
    company, _ = model_update(instance=company, fields=COMPANY_FIELDS, data=data)
    return company


@transaction.atomic
def company_delete(*, company: Company) -> None:
    """Delete a company with its contacts, plans and activities (the specification's cascade)."""
    company.delete()


def _check_contact(fields: dict) -> None:
    if not any(fields.get(name) for name in ("first_name", "last_name", "email")):
        raise CadenceError("A contact needs a name or an email address.", field="first_name")


@transaction.atomic
def contact_create(*, actor: User, **fields) -> Contact:
    fields.setdefault("owner", actor)
    _check_contact(fields)
    contact = Contact(**fields)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, data: dict) -> Contact:
    _check_custody(actor, contact, data)
    merged = {name: data.get(name, getattr(contact, name)) for name in CONTACT_FIELDS}
    _check_contact(merged)
    contact, _ = model_update(instance=contact, fields=CONTACT_FIELDS, data=data)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    contact.delete()


def contact_mark_opted_out(*, contact: Contact, at: datetime.datetime) -> bool:
    """Record that the contact asked not to be contacted, at ``at``; the first time counts.
    Returns whether this call opted them out. What else an opt-out ends is the plans' rule
    (``cadence.plans.exits.contact_opt_out``)."""
    marked = Contact.objects.filter(pk=contact.pk, opted_out=False).update(
        opted_out=True, opted_out_at=at, updated_at=timezone.now()
    )
    return bool(marked)


def contact_mark_bounced(*, contact_id) -> None:
    """Record that mail to the contact's address bounces: nobody emails it again."""
    Contact.objects.filter(pk=contact_id).update(
        email_status=EmailStatus.BOUNCED, updated_at=timezone.now()
    )
