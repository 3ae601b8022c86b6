"""The domain events: the map of who reacts to what, and how each subscription is delivered."""

import inspect
import logging
from dataclasses import dataclass, fields

import pytest
from django.db import transaction

from cadence import events
from cadence.activities.choices import Outcome
from cadence.crm.tests.factories import ContactFactory
from cadence.events import (
    SUBSCRIBERS,
    ActivitiesLogged,
    Delivery,
    StrategyStepsChanged,
    Subscriber,
    event_map,
    publish,
)
from cadence.plans.choices import PlanStatus
from cadence.plans.services import activity_log
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies import services as strategy_services
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory
from cadence.suggestions.models import Suggestion

EXPECTED = {
    "StrategyStepsChanged": ["cadence.plans.progress.follow_template_edit (in transaction)"],
    "ActivitiesLogged": [
        "cadence.suggestions.services.suggestions_on_activities (in transaction, advisory)"
    ],
    "ReminderDismissed": [
        "cadence.notifications.services.notifications_mark_read_of_reminder (in transaction)"
    ],
}


def test_the_map_of_events_to_handlers():
    """The map docs/architecture.md shows; a new subscription changes this test and the doc."""
    mapping = event_map()
    for name, handlers in mapping.items():
        print(f"{name}:")
        for handler in handlers:
            print(f"    -> {handler}")
    assert mapping == EXPECTED


@pytest.mark.parametrize("event", list(SUBSCRIBERS), ids=lambda e: e.__name__)
def test_every_handler_exists_and_takes_the_events_fields(event):
    names = {field.name for field in fields(event)}
    for subscriber in SUBSCRIBERS[event]:
        handler = events._resolve(subscriber.handler)
        parameters = inspect.signature(handler).parameters
        assert names <= set(parameters), f"{subscriber.handler} does not take {names}"
        required = {
            name
            for name, parameter in parameters.items()
            if parameter.default is inspect.Parameter.empty
            and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        }
        assert required <= names, f"{subscriber.handler} needs more than the event gives"


# -- Delivery, with handlers of this module subscribed for the test --------------------------------

received: list[str] = []


@dataclass(frozen=True)
class Pinged:
    word: str


def note(*, word: str) -> None:
    received.append(word)


def explode(*, word: str) -> None:
    received.append(f"tried {word}")
    raise RuntimeError("the handler failed")


@pytest.fixture
def subscribe(monkeypatch):
    received.clear()

    def _subscribe(*subscribers: Subscriber) -> None:
        monkeypatch.setitem(SUBSCRIBERS, Pinged, subscribers)

    return _subscribe


@pytest.mark.django_db(transaction=True)
def test_on_commit_handlers_run_only_after_the_commit(subscribe):
    subscribe(Subscriber(f"{__name__}.note", Delivery.ON_COMMIT))
    with transaction.atomic():
        publish(Pinged(word="kept"))
        assert received == []
    assert received == ["kept"]
    with pytest.raises(ValueError), transaction.atomic():
        publish(Pinged(word="rolled back"))
        raise ValueError
    assert received == ["kept"]


@pytest.mark.django_db
def test_a_required_handlers_failure_fails_the_action(subscribe):
    subscribe(Subscriber(f"{__name__}.explode"), Subscriber(f"{__name__}.note"))
    with pytest.raises(RuntimeError):
        publish(Pinged(word="x"))
    assert received == ["tried x"]


@pytest.mark.django_db
def test_an_advisory_handlers_failure_is_logged_and_the_others_still_run(subscribe, caplog):
    subscribe(Subscriber(f"{__name__}.explode", required=False), Subscriber(f"{__name__}.note"))
    with caplog.at_level(logging.ERROR, logger="cadence.events"):
        publish(Pinged(word="y"))
    assert received == ["tried y", "y"]
    assert f"{__name__}.explode" in caplog.text


# -- The real subscriptions, end to end ------------------------------------------------------------


@pytest.mark.django_db
def test_a_step_edit_reaches_the_plans_on_the_strategy(rep):
    strategy = ContactStrategyFactory(created_by=rep)
    first = StrategyStepFactory(strategy=strategy, step_number=1, delay_days=1)
    plan = LeadContactPlanFactory(strategy=strategy, user=rep)
    due = plan.next_step_due_date
    strategy_services.step_update(step=first, data={"delay_days": 5})
    plan.refresh_from_db()
    assert plan.next_step_due_date > due
    assert StrategyStepsChanged in SUBSCRIBERS


@pytest.mark.django_db
def test_a_failing_suggestion_rule_never_fails_the_logged_activity(rep, monkeypatch, caplog):
    """Suggestions are advice: their handler is advisory, so logging a reply still ends the plan."""
    contact = ContactFactory(owner=rep)
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1)
    plan = LeadContactPlanFactory(strategy=strategy, user=rep, contact=contact)

    def broken(*, activities):
        Suggestion.objects.all().delete()
        raise RuntimeError("a rule broke")

    monkeypatch.setitem(
        SUBSCRIBERS, ActivitiesLogged, (Subscriber(f"{__name__}.broken_rule", required=False),)
    )
    monkeypatch.setattr(f"{__name__}.broken_rule", broken, raising=False)
    events._resolve.cache_clear()
    with caplog.at_level(logging.ERROR, logger="cadence.events"):
        activity_log(actor=rep, contact=contact, activity_type="Email", outcome=Outcome.REPLIED)
    events._resolve.cache_clear()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert "broken_rule" in caplog.text
