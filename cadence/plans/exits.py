"""Exit on reply: how an activity ends the lead's plans.

The rule, whichever way the activity came in (logged by a rep, recorded by the outbox, read from
inbound mail or a provider's event), is applied by ``exit_rules_apply`` from ``activity_log``:

- **a reply** (outcome Replied) completes the contact's active plans whose strategy has
  ``exit_on_reply`` (exit reason Replied), and pauses the running plans of their colleagues at the
  same company whose strategy has ``pause_company_on_reply``;
- **a booked meeting** completes them where the strategy has ``exit_on_meeting_booked``;
- **a bounce** marks the contact's address bounced and aborts the plans whose strategy has
  ``exit_on_bounce``;
- **an unsubscribe** opts the contact out and aborts every active plan of theirs, whatever the
  strategy says (``contact_opt_out``).

A plan without a strategy (a custom plan) exits on each of these. Which activities count as the
lead's response for the reports and suggestions is a wider rule
(``cadence.activities.rules.is_response``): a connected call is a response but ends no plan.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cadence.activities.choices import Outcome
from cadence.activities.models import Activity
from cadence.activities.rules import RESPONSE_OUTCOMES
from cadence.crm import services as crm_services
from cadence.crm.models import Contact
from cadence.plans import progress
from cadence.plans.choices import ACTIVE_STATUSES, RUNNING_STATUSES, ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan


@dataclass(frozen=True)
class Exit:
    """How an outcome ends a plan: where its strategy's ``flag`` is on, with this status and
    exit reason."""

    flag: str
    status: PlanStatus
    reason: ExitReason


EXITS: dict[str, Exit] = {
    Outcome.REPLIED: Exit("exit_on_reply", PlanStatus.COMPLETED, ExitReason.REPLIED),
    Outcome.MEETING_BOOKED: Exit(
        "exit_on_meeting_booked", PlanStatus.COMPLETED, ExitReason.MEETING_BOOKED
    ),
    Outcome.BOUNCED: Exit("exit_on_bounce", PlanStatus.ABORTED, ExitReason.BOUNCED),
}

#: The exit reasons of plans that ended because the lead responded.
RESPONSE_EXIT_REASONS: tuple[ExitReason, ...] = tuple(
    EXITS[outcome].reason for outcome in RESPONSE_OUTCOMES if outcome in EXITS
)


def exit_reason_of(outcome: str) -> ExitReason | None:
    """The exit reason of a plan completed by an activity with this outcome, if it completes
    plans at all."""
    exit = EXITS.get(outcome)
    return exit.reason if exit is not None and exit.status == PlanStatus.COMPLETED else None


def ends_plan(plan: LeadContactPlan, outcome: str) -> bool:
    """Whether an activity with ``outcome`` ends ``plan``: an unsubscribe ends a contact's plan
    always; the other exits where the plan's strategy (if any) says so."""
    if outcome == Outcome.UNSUBSCRIBED:
        return plan.contact_id is not None
    exit = EXITS.get(outcome)
    if exit is None:
        return False
    return plan.strategy is None or getattr(plan.strategy, exit.flag)


def exit_rules_apply(*, activity: Activity) -> None:
    """Exit on reply (and on a booked meeting, a bounce, an unsubscribe): end, abort or pause the
    plans of the activity's lead as the module's docstring states. Runs inside
    ``activity_log``'s transaction, after the activity is saved and its own step recorded."""
    outcome = activity.outcome
    if outcome == Outcome.UNSUBSCRIBED and activity.contact is not None:
        contact_opt_out(contact=activity.contact, at=activity.occurred_at)
        return
    exit = EXITS.get(outcome)
    if exit is None:
        return
    if outcome == Outcome.BOUNCED and activity.contact_id is not None:
        crm_services.contact_mark_bounced(contact_id=activity.contact_id)
    for plan in _active_plans_of_lead(activity):
        if ends_plan(plan, outcome):
            progress.end(plan, status=exit.status, reason=exit.reason, at=activity.occurred_at)
            progress.save_progress(plan)
    if outcome == Outcome.REPLIED:
        _pause_company_plans(activity)


def _active_plans_of_lead(activity: Activity) -> QuerySet[LeadContactPlan]:
    plans = LeadContactPlan.objects.select_for_update(of=("self",)).select_related(
        "strategy", "user"
    )
    plans = plans.filter(status__in=ACTIVE_STATUSES)
    if activity.contact_id is not None:
        return plans.filter(contact_id=activity.contact_id)
    if activity.plan_id is not None:
        return plans.filter(pk=activity.plan_id)
    return plans.filter(company_id=activity.company_id, contact__isnull=True)


def _pause_company_plans(activity: Activity) -> None:
    """A reply from one person at a company pauses the strategy's plans for their colleagues,
    where the strategy asks for it."""
    others = (
        LeadContactPlan.objects.select_for_update(of=("self",))
        .filter(
            company_id=activity.company_id,
            status__in=RUNNING_STATUSES,
            strategy__pause_company_on_reply=True,
        )
        .exclude(contact_id=activity.contact_id)
    )
    for plan in others:
        progress.pause(plan, at=activity.occurred_at)
        progress.save_progress(plan)


@transaction.atomic
def contact_opt_out(*, contact: Contact, at: datetime.datetime | None = None) -> None:
    """The contact asked not to be contacted: opted out at once, every active plan of theirs
    aborted (exit reason Opted out), whatever its strategy says."""
    at = at or timezone.now()
    crm_services.contact_mark_opted_out(contact=contact, at=at)
    plans = LeadContactPlan.objects.select_for_update(of=("self",)).select_related(
        "strategy", "user"
    )
    for plan in plans.filter(contact=contact, status__in=ACTIVE_STATUSES):
        progress.end(plan, status=PlanStatus.ABORTED, reason=ExitReason.OPTED_OUT, at=at)
        progress.save_progress(plan)
