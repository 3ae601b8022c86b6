"""Acting on a suggestion: accepting it (a task for its owner, or a step of its plan), dismissing
it, and closing the task an accepted one made.

Its owner, their manager or an admin may act on a suggestion, and only while it is open; one that
no longer applies when it is accepted (its plan resumed, its contact opted out) is withdrawn
instead, saying why.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work
from cadence.activities.choices import ActivityType
from cadence.activities.services import reminder_close_task, reminder_create_task
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.choices import EmailStatus
from cadence.plans import services as plan_services
from cadence.plans.choices import PlanStatus
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import Suggestion

#: How far in the past a chosen due time may lie (a form filled in a minute ago) before it is
#: refused rather than making a task that is overdue the moment it exists.
PAST_LEEWAY = datetime.timedelta(minutes=5)


class SuggestionStateError(CadenceError):
    """An action that the suggestion's state does not allow (accepting a dismissed one)."""


def _check_may_act(actor: User, suggestion: Suggestion) -> None:
    if not can_manage_user_work(actor, suggestion.user):
        raise PermissionDeniedError("Only its owner or their manager may act on this suggestion.")


def _locked_open(suggestion: Suggestion, action: str) -> Suggestion:
    suggestion = (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related(
            "plan", "plan__strategy", "plan__current_step", "contact", "company", "user"
        )
        .get(pk=suggestion.pk)
    )
    if suggestion.status != SuggestionStatus.OPEN:
        raise SuggestionStateError(
            f"Cannot {action} this suggestion: it is {suggestion.get_status_display().lower()}"
            + (f" ({suggestion.withdrawn_reason})" if suggestion.withdrawn_reason else "")
            + ".",
            field="status",
        )
    return suggestion


def _why_stale(suggestion: Suggestion) -> str | None:
    plan = suggestion.plan
    if suggestion.kind == SuggestionKind.PAUSED_STALE and (
        plan is None or plan.status != PlanStatus.PAUSED
    ):
        return "The plan is no longer paused."
    contact = suggestion.contact
    if contact is None:
        return None
    # An opt-out is from every channel (the scheduler's pass withdraws all such suggestions);
    # a bounce only rules out email.
    if contact.opted_out:
        return "The contact opted out."
    if suggestion.activity_type == ActivityType.EMAIL and contact.email_status == (
        EmailStatus.BOUNCED
    ):
        return "The contact's email address bounced."
    return None


def suggestion_accept(
    *,
    suggestion: Suggestion,
    actor: User,
    due_at: datetime.datetime | None = None,
    as_step: bool = False,
) -> Suggestion:
    """Turn the suggestion into work: a task (a reminder with a due date) for its owner, or,
    with ``as_step``, a step inserted as the next one of its custom plan. One that no longer
    applies is withdrawn instead, and the answer says why."""
    _check_may_act(actor, suggestion)
    now = timezone.now()
    if due_at is not None and due_at < now - PAST_LEEWAY:
        raise CadenceError("A task cannot be due in the past.", field="due_at")
    with transaction.atomic():
        suggestion = _locked_open(suggestion, "accept")
        stale = _why_stale(suggestion)
        if stale is None:
            return _accept(suggestion, actor, now=now, due=due_at, as_step=as_step)
    Suggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.OPEN).update(
        status=SuggestionStatus.WITHDRAWN, withdrawn_reason=stale, decided_at=now, updated_at=now
    )
    raise SuggestionStateError(f"This suggestion no longer applies: {stale}", field="status")


def _accept(suggestion, actor, *, now, due, as_step) -> Suggestion:
    due = due or max(suggestion.due_at, now)
    if as_step:
        suggestion.step = plan_services.plan_insert_step(
            plan=suggestion.plan,
            activity_type=suggestion.activity_type or ActivityType.TASK,
            subject=suggestion.title,
            note=suggestion.reason,
            due_at=due,
        )
    else:
        suggestion.reminder = reminder_create_task(
            user_id=suggestion.user_id,
            plan_id=suggestion.plan_id,
            activity_id=suggestion.trigger_activity_id,
            due_at=due,
            message=f"{suggestion.title}. {suggestion.reason}",
        )
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_at = now
    suggestion.decided_by = actor
    suggestion.save()
    return suggestion


@transaction.atomic
def suggestion_dismiss(*, suggestion: Suggestion, actor: User) -> Suggestion:
    """Not now, not ever: a dismissed suggestion is not made again for the same cause."""
    _check_may_act(actor, suggestion)
    suggestion = _locked_open(suggestion, "dismiss")
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = actor
    suggestion.save()
    return suggestion


@transaction.atomic
def suggestion_task_done(*, suggestion: Suggestion, actor: User) -> Suggestion:
    """Close the task an accepted suggestion made (when the work was not logged as an
    activity that closes it by itself)."""
    _check_may_act(actor, suggestion)
    if suggestion.reminder_id is None:
        raise SuggestionStateError("This suggestion has no open task.", field="status")
    reminder_close_task(reminder_id=suggestion.reminder_id)
    return suggestion
