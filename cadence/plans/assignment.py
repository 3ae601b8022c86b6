"""Enrolling leads in a template strategy, one or ten thousand at a time.

Enrollment rules (DESIGN.md section 2), checked per lead, each refusal with its reason:
never an opted-out or bounced contact; not twice in the same active strategy; not while active
in any other strategy when the strategy is exclusive; not within ``cooldown_days`` of the
contact's last plan when the strategy sets it. A bulk call checks every rule with a few set
queries, inserts the plans in batches, and reports who was skipped and why.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError
from cadence.crm.choices import EmailStatus
from cadence.crm.models import Company, Contact
from cadence.plans import progress
from cadence.plans.choices import ACTIVE_STATUSES
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy

CONTACT_ACTIVE = "The contact is already active in this strategy."
COMPANY_ACTIVE = "The company is already active in this strategy."
_CHUNK = 900  # stays under SQLite's limit on query parameters with room for the rest


@dataclass
class AssignmentResult:
    enrolled: list[uuid.UUID] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)

    def skip(self, key: str, lead_id, reason: str) -> None:
        self.skipped.append({key: lead_id, "reason": reason})


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def enrollment_refusal(
    *,
    strategy: ContactStrategy | None,
    contact: Contact | None = None,
    company: Company | None = None,
) -> str | None:
    """Why this one lead may not be enrolled in ``strategy``, or None if it may."""
    if contact is not None:
        refusals = _contact_refusals(strategy, [contact], now=timezone.now())
        return refusals.get(contact.pk)
    if (
        strategy is not None
        and company is not None
        and _active_company_plans(strategy, [company.pk])
    ):
        return COMPANY_ACTIVE
    return None


def _contact_refusals(
    strategy: ContactStrategy | None, contacts: Sequence[Contact], *, now: datetime.datetime
) -> dict:
    refusals: dict = {}
    for contact in contacts:
        if contact.opted_out:
            refusals[contact.pk] = "The contact has opted out of contact."
        elif contact.email_status == EmailStatus.BOUNCED:
            refusals[contact.pk] = "The contact's email address bounced."
    if strategy is None:
        return refusals
    ids = [c.pk for c in contacts if c.pk not in refusals]
    active_here, active_elsewhere, last_start = set(), {}, {}
    for chunk in _chunks(ids):
        active = LeadContactPlan.objects.filter(contact_id__in=chunk, status__in=ACTIVE_STATUSES)
        active_here.update(active.filter(strategy=strategy).values_list("contact_id", flat=True))
        if strategy.exclusive:
            active_elsewhere.update(
                active.exclude(strategy=strategy).values_list("contact_id", "strategy__name")
            )
        if strategy.cooldown_days:
            last_start.update(
                LeadContactPlan.objects.filter(contact_id__in=chunk)
                .values("contact_id")
                .annotate(last=Max("plan_start_date"))
                .values_list("contact_id", "last")
            )
    cooldown = datetime.timedelta(days=strategy.cooldown_days or 0)
    for contact_id in ids:
        if contact_id in active_here:
            refusals[contact_id] = CONTACT_ACTIVE
        elif contact_id in active_elsewhere:
            name = active_elsewhere[contact_id] or "a custom plan"
            refusals[contact_id] = (
                f"This strategy is exclusive and the contact is active in {name}."
            )
        elif contact_id in last_start and last_start[contact_id] > now - cooldown:
            refusals[contact_id] = (
                f"The contact's last plan started less than {strategy.cooldown_days} days ago."
            )
    return refusals


def _active_company_plans(strategy: ContactStrategy, company_ids: Sequence) -> set:
    found = set()
    for chunk in _chunks(company_ids):
        found.update(
            LeadContactPlan.objects.filter(
                strategy=strategy,
                company_id__in=chunk,
                contact__isnull=True,
                status__in=ACTIVE_STATUSES,
            ).values_list("company_id", flat=True)
        )
    return found


@transaction.atomic
def strategy_assign(
    *,
    strategy: ContactStrategy,
    user: User,
    contacts: Sequence[Contact] = (),
    companies: Sequence[Company] = (),
    plan_start_date: datetime.datetime | None = None,
    missing: Sequence[tuple[str, object]] = (),
) -> AssignmentResult:
    """Enroll ``contacts`` (a plan each) and ``companies`` (a company-wide plan each) in a
    template strategy, run by ``user``, starting at ``plan_start_date`` (default now).

    ``missing`` lists the IDs the caller could not find (or may not see), reported as skipped.
    """
    if not strategy.is_template:
        raise CadenceError(
            "Only template strategies are assigned; a custom plan has its own steps.",
            field="strategy_id",
        )
    if strategy.is_archived:
        raise CadenceError("This strategy is archived and takes no new plans.", field="strategy_id")
    now = timezone.now()
    start = plan_start_date or now
    result = AssignmentResult()
    for key, lead_id in missing:
        result.skip(key, lead_id, "Not found.")

    contacts = _unique(contacts, result, "contact_id")
    companies = _unique(companies, result, "company_id")
    refusals = _contact_refusals(strategy, contacts, now=now)
    company_refusals = _active_company_plans(strategy, [c.pk for c in companies])

    # Every plan of the call shares its strategy, owner and start, so one due date serves all.
    template = LeadContactPlan(strategy=strategy, user=user, plan_start_date=start)
    first = progress.first_step(template)
    due = progress.due_date_for(template, first) if first else None

    def new_plan(company_id, contact_id) -> LeadContactPlan:
        plan = LeadContactPlan(
            plan_id=uuid.uuid4(),
            company_id=company_id,
            contact_id=contact_id,
            strategy=strategy,
            user=user,
            plan_start_date=start,
            current_step=first,
            created_at=now,
            updated_at=now,
        )
        progress.set_due(plan, due)
        return plan

    plans = [new_plan(c.company_id, c.pk) for c in contacts if c.pk not in refusals]
    plans += [new_plan(c.pk, None) for c in companies if c.pk not in company_refusals]
    for contact in contacts:
        if contact.pk in refusals:
            result.skip("contact_id", contact.pk, refusals[contact.pk])
    for company in companies:
        if company.pk in company_refusals:
            result.skip("company_id", company.pk, COMPANY_ACTIVE)

    # A concurrent enrollment of the same lead loses to the unique constraint: the conflicting
    # rows are dropped by the database, then found missing below and reported.
    LeadContactPlan.objects.bulk_create(plans, batch_size=500, ignore_conflicts=True)
    created = set()
    for chunk in _chunks([p.pk for p in plans]):
        created.update(LeadContactPlan.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    for plan in plans:
        if plan.pk in created:
            result.enrolled.append(plan.pk)
        elif plan.contact_id:
            result.skip("contact_id", plan.contact_id, CONTACT_ACTIVE)
        else:
            result.skip("company_id", plan.company_id, COMPANY_ACTIVE)
    return result


def _unique(leads: Sequence, result: AssignmentResult, key: str) -> list:
    seen, unique = set(), []
    for lead in leads:
        if lead.pk in seen:
            result.skip(key, lead.pk, "Listed more than once; enrolled once.")
            continue
        seen.add(lead.pk)
        unique.append(lead)
    return unique
