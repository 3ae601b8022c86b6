"""Activities, reminders, and what an activity may be linked to, read straight from the
selectors: a rep's own, a manager's team's, an admin's all; nothing else is returned."""

import pytest

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import UserFactory
from cadence.activities.selectors import (
    activity_list,
    plans_linkable_by,
    reminder_list,
    steps_linkable_by,
)
from cadence.activities.tests.factories import ActivityFactory, ReminderFactory
from cadence.crm.tests.factories import CompanyFactory, ContactFactory
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

USERS = ("rep", "teammate", "manager", "outsider", "other_manager", "admin_user", "lone_manager")
# Whose work each viewer sees.
SCOPE = {
    "rep": {"rep"},
    "teammate": {"teammate"},
    "manager": {"rep", "teammate", "manager"},
    "outsider": {"outsider"},
    "other_manager": {"outsider", "other_manager"},
    "lone_manager": {"lone_manager"},
    "admin_user": set(USERS),
}
# The strategy each user's plan follows; "unused" has steps but no plan at all.
PLAN_STRATEGY = {
    "rep": "template",
    "teammate": "north_custom",
    "manager": "template",
    "outsider": "south_custom",
    "other_manager": "template",
    "admin_user": "template",
    "lone_manager": "template",
}
# Strategies whose steps each viewer may link to: those of the plans in their scope.
LINKABLE_STEPS_OF = {
    "rep": {"template"},
    "teammate": {"north_custom"},
    "manager": {"template", "north_custom"},
    "outsider": {"south_custom"},
    "other_manager": {"template", "south_custom"},
    "lone_manager": {"template"},
    "admin_user": {"template", "north_custom", "south_custom"},
}


@pytest.fixture
def users(request, admin_user):
    made = {key: request.getfixturevalue(key) for key in USERS if key != "lone_manager"}
    made["lone_manager"] = UserFactory(username="lone_manager", role=Role.MANAGER, team=None)
    return made


@pytest.fixture
def world(users):
    """A plan, an activity and a reminder per user, plus the teammate's activity on the rep's
    lead (the teammate's work, not the rep's)."""
    creators = {"template": "admin_user", "north_custom": "teammate", "south_custom": "outsider"}
    strategies = {
        key: ContactStrategyFactory(created_by=users[who], is_template=(key == "template"))
        for key, who in {**creators, "unused": "admin_user"}.items()
    }
    steps = {
        key: {StrategyStepFactory(strategy=s, step_number=n).pk for n in (1, 2)}
        for key, s in strategies.items()
    }
    plans, activities, reminders = [], [], []
    for key in USERS:
        user = users[key]
        contact = ContactFactory(owner=user, company=CompanyFactory(owner=user))
        plan = LeadContactPlanFactory(
            user=user, contact=contact, strategy=strategies[PLAN_STRATEGY[key]]
        )
        plans.append((key, plan.pk))
        activity = ActivityFactory(plan=plan, contact=contact, company=plan.company, user=user)
        activities.append((key, activity.pk))
        reminders.append((key, ReminderFactory(user=user, plan=plan).pk))
        reminders.append((key, ReminderFactory(user=user).pk))
        if key == "rep":
            on_rep_lead = ActivityFactory(contact=contact, user=users["teammate"])
            activities.append(("teammate", on_rep_lead.pk))
    return {"plans": plans, "activities": activities, "reminders": reminders, "steps": steps}


def _pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


def _in_scope(rows, viewer) -> set:
    return {pk for owner, pk in rows if owner in SCOPE[viewer]}


@pytest.mark.parametrize("viewer", sorted(SCOPE))
def test_activity_list_is_the_viewers_scope(users, world, viewer):
    """Activities are seen by who logged them, not by whose lead they are on: the rep does not
    see the teammate's call on the rep's own contact; a manager sees the whole team's."""
    assert _pks(activity_list(viewer=users[viewer])) == _in_scope(world["activities"], viewer)


@pytest.mark.parametrize("viewer", sorted(SCOPE))
def test_reminder_list_is_the_viewers_scope(users, world, viewer):
    """Reminders, with or without a plan, are the viewer's own, their team's, or all."""
    assert _pks(reminder_list(viewer=users[viewer])) == _in_scope(world["reminders"], viewer)


@pytest.mark.parametrize("viewer", sorted(SCOPE))
def test_plans_linkable_by_are_the_plans_the_viewer_sees(users, world, viewer):
    assert _pks(plans_linkable_by(viewer=users[viewer])) == _in_scope(world["plans"], viewer)


@pytest.mark.parametrize("viewer", sorted(LINKABLE_STEPS_OF))
def test_steps_linkable_by_are_the_steps_of_visible_plans_strategies(users, world, viewer):
    """Only steps of strategies that a plan in scope follows: another team's custom steps are
    absent, and a strategy with no plan offers no step, even to an admin."""
    expected = set().union(*(world["steps"][key] for key in LINKABLE_STEPS_OF[viewer]))
    assert _pks(steps_linkable_by(viewer=users[viewer])) == expected


def test_a_user_without_plans_may_link_to_no_plan_or_step(world, team):
    """A new rep of the team has nothing to link an activity to yet."""
    newcomer = UserFactory(username="newcomer", role=Role.REP, team=team)
    assert _pks(plans_linkable_by(viewer=newcomer)) == set()
    assert _pks(steps_linkable_by(viewer=newcomer)) == set()
    assert _pks(activity_list(viewer=newcomer)) == set()
