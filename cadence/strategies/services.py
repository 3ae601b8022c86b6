"""Writing strategies and their steps.

Step numbers stay 1..n without gaps: creating a step at a taken number shifts the later ones,
deleting one closes the gap, and reordering rewrites them all in one transaction.
"""

from collections.abc import Sequence
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.errors import CadenceError
from cadence.core.services import model_update
from cadence.events import StrategyStepsChanged, publish
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.rendering import template_problems

STRATEGY_FIELDS = (
    "name",
    "description",
    "is_template",
    "uses_business_days",
    "send_window_start",
    "send_window_end",
    "exit_on_reply",
    "exit_on_meeting_booked",
    "exit_on_bounce",
    "automation_requires_approval",
    "pause_company_on_reply",
    "exclusive",
    "cooldown_days",
)
#: A plan's active states (``cadence.plans.choices.ACTIVE_STATUSES``, which a test checks this
#: against): the plans app sits above this one, so they are spelled out here.
ACTIVE_PLAN_STATUSES = ("Not Started", "In Progress", "Paused")
#: The most steps a strategy (or a custom plan's own strategy) may have.
MAX_STEPS = 100

STEP_FIELDS = (
    "delay_days",
    "activity_type",
    "subject_template",
    "description_template",
    "is_automated",
)


def strategy_steps_saved(*, strategy: ContactStrategy) -> None:
    """Steps were saved by a form that writes them itself (the admin's inline table): the
    plans on the strategy follow, as after ``step_update``."""
    _steps_changed(strategy)


def _steps_changed(strategy: ContactStrategy, *, deleting: StrategyStep | None = None) -> None:
    # Inside the edit's transaction, so an edit and the plans that follow it commit together.
    publish(StrategyStepsChanged(strategy=strategy, deleting=deleting))


@transaction.atomic
def strategy_automation_set(*, strategy: ContactStrategy, approved_by: User | None) -> None:
    """Record that a strategy's automated steps may go out (approved by ``approved_by``), or may
    not any more (``None``). Who may decide, and what becomes of the emails waiting, is the
    messaging service's (``strategy_approve_automation``), which calls this."""
    now = timezone.now()
    ContactStrategy.objects.filter(pk=strategy.pk).update(
        automation_approved_at=now if approved_by is not None else None,
        automation_approved_by=approved_by,
        updated_at=now,
    )
    strategy.refresh_from_db()


# Renumbering passes through this offset so that no two steps share a number mid-update; the
# unique constraint is checked per row on SQLite, where it cannot be deferred.
_RENUMBER_OFFSET = 1_000_000


def _check_send_window(start, end) -> None:
    if (start is None) != (end is None):
        raise CadenceError(
            "Give both ends of the send window, or neither.", field="send_window_end"
        )
    if start is not None and start >= end:
        raise CadenceError("The send window must end after it starts.", field="send_window_end")


@transaction.atomic
def strategy_create(
    *, created_by: User, name: str, steps: Sequence[dict] = (), **fields
) -> ContactStrategy:
    """Create a strategy, with its steps in the order given (numbered 1..n when not numbered),
    at most ``MAX_STEPS`` of them."""
    _check_send_window(fields.get("send_window_start"), fields.get("send_window_end"))
    if len(steps) > MAX_STEPS:
        raise CadenceError(f"At most {MAX_STEPS} steps; these are {len(steps)}.", field="steps")
    strategy = ContactStrategy(created_by=created_by, name=name, **fields)
    strategy.full_clean()
    strategy.save()
    numbers = [step.get("step_number") for step in steps]
    if any(numbers) and len(set(numbers)) != len(numbers):
        raise CadenceError("Two steps have the same step_number.", field="steps")
    for index, step in enumerate(steps, start=1):
        step = dict(step)
        step.setdefault("step_number", None)
        step["step_number"] = step["step_number"] or index
        _insert_step(strategy=strategy, **step)
    return strategy


@transaction.atomic
def strategy_update(*, strategy: ContactStrategy, data: dict) -> ContactStrategy:
    _check_send_window(
        data.get("send_window_start", strategy.send_window_start),
        data.get("send_window_end", strategy.send_window_end),
    )
    counting_changed = data.get("uses_business_days", strategy.uses_business_days) != (
        strategy.uses_business_days
    )
    strategy, _ = model_update(instance=strategy, fields=STRATEGY_FIELDS, data=data)
    if counting_changed:
        _steps_changed(strategy)
    return strategy


@transaction.atomic
def strategy_delete(*, strategy: ContactStrategy) -> None:
    """Delete a strategy that no active plan follows; otherwise archive it instead."""
    active = strategy.plans.filter(status__in=ACTIVE_PLAN_STATUSES).count()
    if active:
        raise CadenceError(
            f"{active} active plan(s) follow this strategy; archive it instead of deleting it.",
            code="strategy_in_use",
        )
    strategy.delete()


@transaction.atomic
def strategy_archive(*, strategy: ContactStrategy, archived: bool = True) -> ContactStrategy:
    """Archived strategies keep their running plans but take no new ones."""
    value = (strategy.archived_at or timezone.now()) if archived else None
    strategy, _ = model_update(
        instance=strategy, fields=["archived_at"], data={"archived_at": value}
    )
    return strategy


TEMPLATE_FIELDS = ("subject_template", "description_template")


def _check_templates(fields: dict) -> None:
    """A step's templates must render (``rendering.template_problems``): refused here for every
    way in, though the API and the forms check them earlier to answer field by field."""
    for name in TEMPLATE_FIELDS:
        problems = template_problems(fields.get(name))
        if problems:
            raise CadenceError("; ".join(problems), field=name)


def _insert_step(*, strategy: ContactStrategy, step_number: int, **fields) -> StrategyStep:
    _check_templates(fields)
    step = StrategyStep(strategy=strategy, step_number=step_number, **fields)
    step.full_clean(exclude=["strategy"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            step.save()
    except IntegrityError as exc:
        raise CadenceError(
            f"Step number {step_number} is already taken in this strategy.", field="step_number"
        ) from exc
    return step


@transaction.atomic
def step_create(
    *, strategy: ContactStrategy, step_number: int | None = None, **fields
) -> StrategyStep:
    """Add a step; at a taken number it is inserted there and the later steps move down one.
    A strategy has at most ``MAX_STEPS``."""
    locked = ContactStrategy.objects.select_for_update().get(pk=strategy.pk)
    last = locked.steps.aggregate(last=Max("step_number"))["last"] or 0
    if last >= MAX_STEPS:
        raise CadenceError(
            f"This strategy has {last} steps, the most it may have; delete one first.",
            code="too_many_steps",
        )
    if step_number is None or step_number > last + 1:
        step_number = last + 1
    elif step_number <= last:
        _shift(locked, from_number=step_number, by=1)
    step = _insert_step(strategy=locked, step_number=step_number, **fields)
    _steps_changed(locked)
    return step


def _shift(strategy: ContactStrategy, *, from_number: int, by: int) -> None:
    later = strategy.steps.filter(step_number__gte=from_number)
    later.update(step_number=F("step_number") + _RENUMBER_OFFSET)
    strategy.steps.filter(step_number__gte=_RENUMBER_OFFSET).update(
        step_number=F("step_number") - _RENUMBER_OFFSET + by, updated_at=timezone.now()
    )


@transaction.atomic
def step_update(*, step: StrategyStep, data: dict) -> StrategyStep:
    """Change a step's content; a new ``step_number`` moves it, like a one-step reorder."""
    new_number = data.pop("step_number", None)
    _check_templates(data)
    step, _ = model_update(instance=step, fields=STEP_FIELDS, data=data)
    if new_number is not None and new_number != step.step_number:
        order = list(step_list_ids(step.strategy))
        order.remove(step.pk)
        order.insert(max(0, min(new_number - 1, len(order))), step.pk)
        steps_reorder(strategy=step.strategy, step_ids=order)
        step.refresh_from_db()
    else:
        _steps_changed(step.strategy)
    return step


@transaction.atomic
def step_delete(*, step: StrategyStep) -> None:
    """Delete a step and close the gap in the numbering."""
    strategy, number = step.strategy, step.step_number
    _steps_changed(strategy, deleting=step)
    step.delete()
    _shift(strategy, from_number=number + 1, by=-1)
    _steps_changed(strategy)


def step_list_ids(strategy: ContactStrategy) -> list[UUID]:
    return list(strategy.steps.order_by("step_number").values_list("pk", flat=True))


@transaction.atomic
def steps_reorder(*, strategy: ContactStrategy, step_ids: Sequence[UUID]) -> list[StrategyStep]:
    """Renumber the strategy's steps 1..n in the order of ``step_ids``, which must name each
    of its steps exactly once."""
    locked = ContactStrategy.objects.select_for_update().get(pk=strategy.pk)
    current = set(step_list_ids(locked))
    wanted = list(step_ids)
    if len(set(wanted)) != len(wanted):
        raise CadenceError("A step appears twice in the new order.", field="step_ids")
    if set(wanted) != current:
        missing = len(current - set(wanted))
        unknown = len(set(wanted) - current)
        raise CadenceError(
            f"The new order must list every step of this strategy exactly once "
            f"({missing} missing, {unknown} not in this strategy).",
            field="step_ids",
        )
    now = timezone.now()
    locked.steps.update(step_number=F("step_number") + _RENUMBER_OFFSET)
    steps = {s.pk: s for s in locked.steps.all()}
    for number, step_id in enumerate(wanted, start=1):
        steps[step_id].step_number = number
        steps[step_id].updated_at = now
    StrategyStep.objects.bulk_update(steps.values(), ["step_number", "updated_at"])
    _steps_changed(locked)
    return sorted(steps.values(), key=lambda s: s.step_number)


@transaction.atomic
def strategy_duplicate(*, strategy: ContactStrategy, actor: User) -> ContactStrategy:
    """Copy a strategy's settings and steps into a new template of ``actor``'s, "Copy of X".

    A copy is a starting point to adapt without touching the plans that follow the original.
    It starts unapproved and unarchived, and always awaits approval for automation: an approval
    was given to the original's steps, which the copy's new owner is about to change.
    """
    copied = {
        name: getattr(strategy, name)
        for name in STRATEGY_FIELDS
        if name not in ("name", "is_template", "automation_requires_approval")
    }
    steps = [
        {"step_number": number, **{name: getattr(step, name) for name in STEP_FIELDS}}
        for number, step in enumerate(strategy.steps.order_by("step_number"), start=1)
    ]
    name = f"Copy of {strategy.name}"[: ContactStrategy._meta.get_field("name").max_length]
    return strategy_create(created_by=actor, name=name, is_template=True, steps=steps, **copied)
