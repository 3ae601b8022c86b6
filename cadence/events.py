"""Domain events: what happens in one app that another app reacts to, all in one place.

An app low in the layers (strategies, plans) must not import the apps above it, yet those apps
react to what it does: plans follow a template edit, suggestions read every logged activity. Such
a reaction is never a hidden list filled at start-up or a Django signal: the app that acts
publishes an event declared here, and ``SUBSCRIBERS`` below names every handler of every event,
with how it is delivered. Searching for an event's name finds its declaration, where it is
published and every reaction to it; ``cadence/tests/test_events.py`` prints the whole map.

- **Events** are frozen dataclasses named in the past tense. They carry the objects concerned,
  loaded already, because most handlers run inside the publisher's transaction.
- **Handlers** are ordinary services, named by dotted path so that this module imports no app. A
  handler is called with the event's fields as keyword arguments.
- **Delivery** is chosen per subscription:
  - ``IN_TRANSACTION``: before ``publish`` returns, inside the publisher's transaction, so the
    action and its effects commit or roll back together. A ``required`` handler's error fails the
    action; an advisory one (``required=False``) runs in a savepoint and its error is logged and
    rolled back, never failing the action (suggestions are advice).
  - ``ON_COMMIT``: after the publisher's transaction commits (never if it rolls back), for work
    that must only follow what is really saved: queueing a task, telling another system. An error
    is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from cadence.activities.models import Activity, Reminder
    from cadence.strategies.models import ContactStrategy, StrategyStep

logger = logging.getLogger(__name__)


class Delivery(StrEnum):
    IN_TRANSACTION = "in transaction"
    ON_COMMIT = "on commit"


@dataclass(frozen=True)
class Subscriber:
    """One handler of an event, and how it is delivered."""

    handler: str
    delivery: Delivery = Delivery.IN_TRANSACTION
    required: bool = True

    def describe(self) -> str:
        how = self.delivery.value
        if self.delivery == Delivery.IN_TRANSACTION and not self.required:
            how += ", advisory"
        return f"{self.handler} ({how})"


# -- The events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyStepsChanged:
    """A strategy's steps were added, changed, reordered or are about to be deleted
    (``deleting``): plans on it move to the right step and due date."""

    strategy: ContactStrategy
    deleting: StrategyStep | None = None


@dataclass(frozen=True)
class ActivitiesLogged:
    """Activities were logged against leads, by hand, by the outbox or from inbound mail, and
    their plans have moved: the suggestion rules look at them."""

    activities: Sequence[Activity]


@dataclass(frozen=True)
class ReminderDismissed:
    """A user dismissed a reminder: what it announced is dealt with, so its unread
    notifications are read."""

    reminder: Reminder


# -- Who reacts to what ---------------------------------------------------------------------------

SUBSCRIBERS: dict[type, tuple[Subscriber, ...]] = {
    StrategyStepsChanged: (Subscriber("cadence.plans.progress.follow_template_edit"),),
    ActivitiesLogged: (
        Subscriber("cadence.suggestions.services.suggestions_on_activities", required=False),
    ),
    ReminderDismissed: (
        Subscriber("cadence.notifications.services.notifications_mark_read_of_reminder"),
    ),
}


@cache
def _resolve(path: str) -> Callable[..., Any]:
    return import_string(path)


def _arguments(event: object) -> dict[str, Any]:
    return {field.name: getattr(event, field.name) for field in fields(event)}


def _run_advisory(subscriber: Subscriber, arguments: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            _resolve(subscriber.handler)(**arguments)
    except Exception:
        logger.exception("Advisory handler %s failed", subscriber.handler)


def _run_after_commit(subscriber: Subscriber, arguments: dict[str, Any]) -> None:
    try:
        _resolve(subscriber.handler)(**arguments)
    except Exception:
        logger.exception("Handler %s failed after commit", subscriber.handler)


def publish(event: object) -> None:
    """Deliver ``event`` to its subscribers, in the order listed, each as its subscription says."""
    arguments = _arguments(event)
    for subscriber in SUBSCRIBERS.get(type(event), ()):
        if subscriber.delivery == Delivery.ON_COMMIT:
            transaction.on_commit(
                lambda subscriber=subscriber: _run_after_commit(subscriber, arguments)
            )
        elif subscriber.required:
            _resolve(subscriber.handler)(**arguments)
        else:
            _run_advisory(subscriber, arguments)


def event_map() -> dict[str, list[str]]:
    """Each event's name and its handlers, as ``docs/architecture.md`` lists them."""
    return {
        event.__name__: [subscriber.describe() for subscriber in subscribers]
        for event, subscribers in SUBSCRIBERS.items()
    }
