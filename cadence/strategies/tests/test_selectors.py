"""Strategies each user sees, changes, approves and plans with, read straight from the
selectors: templates are everyone's to see, custom strategies go with their creator's work (or a
plan one runs), and changing or approving stays with the creator's team."""

import pytest
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import UserFactory
from cadence.plans.choices import PlanStatus
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies import selectors
from cadence.strategies.models import StrategyStep
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

VIEWERS = ("rep", "teammate", "manager", "outsider", "other_manager", "admin_user", "lone_manager")
TEMPLATES = {"rep_template", "outsider_template", "orphan_template", "archived_template"}
ALL = TEMPLATES | {
    "teammate_custom",
    "outsider_custom",
    "manager_custom",
    "orphan_custom",
    "lone_custom",
    "admin_custom",
}
# rep runs a (completed) plan on manager_custom, twice; the outsider runs one on teammate_custom.
VISIBLE = {
    "rep": TEMPLATES | {"manager_custom"},
    "teammate": TEMPLATES | {"teammate_custom"},
    "manager": TEMPLATES | {"teammate_custom", "manager_custom"},
    "outsider": TEMPLATES | {"outsider_custom", "teammate_custom"},
    "other_manager": TEMPLATES | {"outsider_custom", "teammate_custom"},
    "lone_manager": TEMPLATES | {"lone_custom"},
    "admin_user": ALL,
}
NORTH_MADE = {"rep_template", "archived_template", "teammate_custom", "manager_custom"}
SOUTH_MADE = {"outsider_template", "outsider_custom"}
EDITABLE = {
    "rep": {"rep_template", "archived_template"},
    "teammate": {"teammate_custom"},
    "manager": NORTH_MADE,
    "outsider": SOUTH_MADE,
    "other_manager": SOUTH_MADE,
    "lone_manager": {"lone_custom"},
    "admin_user": ALL,
}
# Only managers (of the creator's team) and admins approve automation; with no creator, admins.
APPROVABLE = {
    "rep": set(),
    "teammate": set(),
    "manager": NORTH_MADE,
    "outsider": set(),
    "other_manager": SOUTH_MADE,
    "lone_manager": {"lone_custom"},
    "admin_user": ALL,
}
# Plannable: every template, and custom strategies of one's own scope, not those merely run.
PLANNABLE = {
    "rep": TEMPLATES,
    "teammate": TEMPLATES | {"teammate_custom"},
    "manager": TEMPLATES | {"teammate_custom", "manager_custom"},
    "outsider": TEMPLATES | {"outsider_custom"},
    "other_manager": TEMPLATES | {"outsider_custom"},
    "lone_manager": TEMPLATES | {"lone_custom"},
    "admin_user": ALL,
}


@pytest.fixture
def users(request, admin_user):
    made = {key: request.getfixturevalue(key) for key in VIEWERS if key != "lone_manager"}
    made["lone_manager"] = UserFactory(username="lone_manager", role=Role.MANAGER, team=None)
    return made


@pytest.fixture
def strategies(users):
    creators = {
        "rep_template": "rep",
        "outsider_template": "outsider",
        "orphan_template": None,
        "archived_template": "rep",
        "teammate_custom": "teammate",
        "outsider_custom": "outsider",
        "manager_custom": "manager",
        "orphan_custom": None,
        "lone_custom": "lone_manager",
        "admin_custom": "admin_user",
    }
    made = {}
    for number, (key, who) in enumerate(creators.items()):
        made[key] = ContactStrategyFactory(
            name=f"Strategy {key}",
            created_by=users[who] if who else None,
            is_template=key in TEMPLATES,
            archived_at=timezone.now() if key == "archived_template" else None,
        )
        for step in range(1, number % 3 + 2):
            StrategyStepFactory(strategy=made[key], step_number=step)
    for _ in range(2):
        _plan(users["rep"], made["manager_custom"])
    _plan(users["outsider"], made["teammate_custom"])
    return made


def _plan(user, strategy):
    return LeadContactPlanFactory(
        strategy=strategy,
        user=user,
        contact__owner=user,
        contact__company__owner=user,
        status=PlanStatus.COMPLETED,
    )


def _keys(queryset, strategies) -> list[str]:
    names = {s.pk: key for key, s in strategies.items()}
    return [names[pk] for pk in queryset.values_list("pk", flat=True)]


def _step_counts_are_right(listed) -> bool:
    return all(s.step_count == StrategyStep.objects.filter(strategy=s).count() for s in listed)


def test_template_list_is_every_template_with_its_step_count(strategies):
    """Templates of every team, archived or creatorless, and no custom strategy."""
    assert sorted(_keys(selectors.template_list(), strategies)) == sorted(TEMPLATES)
    assert _step_counts_are_right(selectors.template_list())


@pytest.mark.parametrize("viewer", VIEWERS)
def test_strategy_list_returns_exactly_the_viewers_scope(users, strategies, viewer):
    """Templates, custom strategies of the viewer's scope, and those a plan in scope follows;
    each once, however many plans follow it, with the right step count."""
    listed = selectors.strategy_list(viewer=users[viewer])
    assert sorted(_keys(listed, strategies)) == sorted(VISIBLE[viewer])
    assert _step_counts_are_right(listed)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_strategy_can_edit_is_for_creator_their_manager_and_admins(users, strategies, viewer):
    """Seeing a strategy (a template, one a plan follows) does not make it editable."""
    editable = {k for k, s in strategies.items() if selectors.strategy_can_edit(users[viewer], s)}
    assert editable == EDITABLE[viewer]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_automation_approval_is_for_the_creators_managers_and_admins(users, strategies, viewer):
    """Reps never approve, not even their own strategy; a manager approves their team's, not
    another team's template; creatorless strategies are for admins only. The list form agrees."""
    user = users[viewer]
    can = {k for k, s in strategies.items() if selectors.strategy_can_approve_automation(user, s)}
    assert can == APPROVABLE[viewer]
    listed = _keys(selectors.strategies_approvable_by(viewer=user), strategies)
    assert sorted(listed) == sorted(APPROVABLE[viewer])


@pytest.mark.parametrize("viewer", VIEWERS)
def test_strategies_plannable_by_excludes_custom_ones_merely_run(users, strategies, viewer):
    """Any template (archived too) and custom strategies of one's scope; the rep runs a plan on
    the manager's custom strategy but may not start another on it."""
    keys = _keys(selectors.strategies_plannable_by(viewer=users[viewer]), strategies)
    assert sorted(keys) == sorted(PLANNABLE[viewer])


def test_step_list_is_the_strategys_steps_in_order(rep):
    """Only this strategy's steps, by step number whatever the order they were made in."""
    strategy = ContactStrategyFactory(created_by=rep)
    made = {n: StrategyStepFactory(strategy=strategy, step_number=n) for n in (3, 1, 2)}
    StrategyStepFactory(strategy=ContactStrategyFactory(created_by=rep), step_number=4)
    listed = list(selectors.step_list(strategy=strategy))
    assert [s.pk for s in listed] == [made[1].pk, made[2].pk, made[3].pk]
