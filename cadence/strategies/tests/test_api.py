"""API tests for strategies and their steps: visibility, who edits, nested steps, reordering."""

import pytest

from cadence.core.tests.api_helpers import (
    API,
    ROLES,
    UNKNOWN_ID,
    ScopedEndpointTests,
    as_role,
    assert_field_error,
    assert_hidden,
    assert_iso_with_offset,
    assert_list_query_budget,
    list_ids,
)
from cadence.plans.choices import PlanStatus
from cadence.plans.tests.factories import LeadContactPlanFactory
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.tests.factories import ContactStrategyFactory, StrategyStepFactory

pytestmark = pytest.mark.django_db

STRATEGIES = f"{API}/strategies/"
STEP_FIELDS = {
    "step_id",
    "strategy_id",
    "step_number",
    "delay_days",
    "activity_type",
    "subject_template",
    "description_template",
    "is_automated",
}

# The strategies of every scope test, by key:
#   rep_template, outsider_template: templates, seen by everyone
#   teammate_custom, outsider_custom: non-templates, seen with their creator's work
#   manager_custom: a non-template of the manager that the rep's (completed) plan follows
ALL_STRATEGIES = {
    "rep_template",
    "outsider_template",
    "teammate_custom",
    "outsider_custom",
    "manager_custom",
}
STRATEGY_VISIBLE = {
    "rep": {"rep_template", "outsider_template", "manager_custom"},
    "teammate": {"rep_template", "outsider_template", "teammate_custom"},
    "manager": {"rep_template", "outsider_template", "teammate_custom", "manager_custom"},
    "outsider": {"rep_template", "outsider_template", "outsider_custom"},
    "other_manager": {"rep_template", "outsider_template", "outsider_custom"},
    "admin_user": ALL_STRATEGIES,
}
# Only the creator, the manager of the creator's team and admins change a strategy.
STRATEGY_EDITABLE = {
    "rep": {"rep_template"},
    "teammate": {"teammate_custom"},
    "manager": {"rep_template", "teammate_custom", "manager_custom"},
    "outsider": {"outsider_template", "outsider_custom"},
    "other_manager": {"outsider_template", "outsider_custom"},
    "admin_user": ALL_STRATEGIES,
}


@pytest.fixture
def strategies(rep, teammate, manager, outsider):
    made = {
        "rep_template": ContactStrategyFactory(created_by=rep, is_template=True),
        "outsider_template": ContactStrategyFactory(created_by=outsider, is_template=True),
        "teammate_custom": ContactStrategyFactory(created_by=teammate, is_template=False),
        "outsider_custom": ContactStrategyFactory(created_by=outsider, is_template=False),
        "manager_custom": ContactStrategyFactory(created_by=manager, is_template=False),
    }
    for key, strategy in made.items():
        strategy.name = f"Strategy {key}"
        strategy.save()
        for number in (1, 2):
            StrategyStepFactory(
                strategy=strategy, step_number=number, subject_template=f"{key} step {number}"
            )
    LeadContactPlanFactory(
        strategy=made["manager_custom"],
        user=rep,
        contact__owner=rep,
        contact__company__owner=rep,
        status=PlanStatus.COMPLETED,
    )
    return made


def _steps_url(strategy) -> str:
    return f"{STRATEGIES}{strategy.pk}/steps/"


def _step_ids(strategy) -> list[str]:
    return [str(pk) for pk in strategy.steps.order_by("step_number").values_list("pk", flat=True)]


def _numbers(strategy) -> list[tuple[str, int]]:
    return [(s.subject_template, s.step_number) for s in strategy.steps.order_by("step_number")]


class TestStrategyScope(ScopedEndpointTests):
    url = STRATEGIES
    pk_field = "strategy_id"
    visible = STRATEGY_VISIBLE
    editable = STRATEGY_EDITABLE
    patch = {"name": "Renamed strategy"}

    @pytest.fixture
    def objects(self, strategies):
        return strategies

    def secrets(self, obj):
        return [str(obj.pk), obj.name, f"{obj.name.split()[-1]} step 1"]

    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("action", ["archive", "unarchive"])
    def test_archive_actions_follow_the_edit_rule(self, request, client_for, objects, role, action):
        """Archiving and unarchiving are edits: 404 hidden, 403 read-only, 200 allowed."""
        client = client_for(as_role(request, role))
        for key, strategy in objects.items():
            response = client.post(f"{STRATEGIES}{strategy.pk}/{action}/")
            if key not in STRATEGY_VISIBLE[role]:
                assert_hidden(response, *self.secrets(strategy))
            elif key not in STRATEGY_EDITABLE[role]:
                assert response.status_code == 403, (key, response.content)
            else:
                assert response.status_code == 200, (key, response.content)
                assert response.json()["is_archived"] is (action == "archive")

    @pytest.mark.parametrize("role", ROLES)
    def test_steps_endpoint_follows_the_strategy_scope(self, request, client_for, objects, role):
        """``/strategies/{id}/steps/`` is readable wherever the strategy is, and writable (add,
        change, delete, reorder) only by those who may edit it; a hidden strategy is a 404
        for every method, a read-only one a 403 for writes, with nothing changed."""
        client = client_for(as_role(request, role))
        for key, strategy in objects.items():
            url = _steps_url(strategy)
            step_id = _step_ids(strategy)[0]
            before = _numbers(strategy)
            answers = [
                client.get(url),
                client.get(f"{url}{step_id}/"),
                client.post(url, {"activity_type": "Call", "subject_template": "new"}),
                client.patch(f"{url}{step_id}/", {"delay_days": 9}),
                client.post(f"{url}reorder/", {"step_ids": _step_ids(strategy)[::-1]}),
                client.delete(f"{url}{step_id}/"),
            ]
            if key not in STRATEGY_VISIBLE[role]:
                for response in answers:
                    assert_hidden(response, *self.secrets(strategy), step_id)
                assert _numbers(strategy) == before
            elif key not in STRATEGY_EDITABLE[role]:
                assert [r.status_code for r in answers] == [200, 200, 403, 403, 403, 403], key
                assert _numbers(strategy) == before
            else:
                assert [r.status_code for r in answers] == [200, 200, 201, 200, 200, 204], key


def test_creator_of_a_new_strategy_is_the_requester(client_for, rep):
    """A strategy is created by whoever posts it, and its representation uses the
    specification's names."""
    response = client_for(rep).post(STRATEGIES, {"name": "Outbound", "is_template": False})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["created_by_user_id"] == str(rep.pk)
    assert data["is_template"] is False
    assert {"strategy_id", "name", "description", "is_template", "steps", "step_count"} <= set(data)
    assert data["steps"] == []
    assert_iso_with_offset(data["created_at"], data["updated_at"])


def test_strategy_is_created_with_its_steps_in_one_call(client_for, rep):
    """Steps given on creation are saved in the order given, numbered 1..n, and returned
    nested in the strategy's representation."""
    steps = [
        {"activity_type": "Email", "delay_days": 0, "subject_template": "Intro"},
        {"activity_type": "Call", "delay_days": 2, "description_template": "Call {{ contact }}"},
        {"activity_type": "LinkedIn Connect", "delay_days": 3, "is_automated": True},
    ]
    response = client_for(rep).post(STRATEGIES, {"name": "Three touches", "steps": steps})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["step_count"] == 3
    assert [s["step_number"] for s in data["steps"]] == [1, 2, 3]
    assert [s["activity_type"] for s in data["steps"]] == ["Email", "Call", "LinkedIn Connect"]
    assert [s["delay_days"] for s in data["steps"]] == [0, 2, 3]
    assert data["steps"][2]["is_automated"] is True
    for step in data["steps"]:
        assert set(step) >= STEP_FIELDS
        assert step["strategy_id"] == data["strategy_id"]
        assert_iso_with_offset(step["created_at"], step["updated_at"])
    strategy = ContactStrategy.objects.get(pk=data["strategy_id"])
    assert strategy.steps.count() == 3


def test_creating_with_two_steps_at_one_number_is_refused(client_for, rep):
    """Two steps at the same ``step_number`` are a 400 and nothing is created."""
    steps = [
        {"activity_type": "Email", "step_number": 1},
        {"activity_type": "Call", "step_number": 1},
    ]
    response = client_for(rep).post(STRATEGIES, {"name": "Clash", "steps": steps})
    assert_field_error(response, "steps", "same step_number")
    assert not ContactStrategy.objects.filter(name="Clash").exists()


def test_steps_of_an_existing_strategy_are_not_replaced_through_it(client_for, rep):
    """Once a strategy exists its steps change at ``/steps/`` only; sending ``steps`` is a 400."""
    strategy = ContactStrategyFactory(created_by=rep)
    StrategyStepFactory(strategy=strategy, step_number=1)
    response = client_for(rep).patch(
        f"{STRATEGIES}{strategy.pk}/", {"steps": [{"activity_type": "Call"}]}
    )
    assert_field_error(response, "steps", "/steps/")
    assert strategy.steps.count() == 1


def test_nested_steps_are_in_step_order(client_for, rep):
    """The nested ``steps`` come by ``step_number``, whatever order they were written in."""
    strategy = ContactStrategyFactory(created_by=rep)
    for number in (3, 1, 2):
        StrategyStepFactory(strategy=strategy, step_number=number, subject_template=str(number))
    data = client_for(rep).get(f"{STRATEGIES}{strategy.pk}/").json()
    assert [s["step_number"] for s in data["steps"]] == [1, 2, 3]
    assert [s["subject_template"] for s in data["steps"]] == ["1", "2", "3"]
    assert data["step_count"] == 3


# -- Steps: insert, move, delete, reorder ---------------------------------------------------


@pytest.fixture
def abc(rep):
    """A strategy of the rep with steps A, B, C numbered 1, 2, 3."""
    strategy = ContactStrategyFactory(created_by=rep)
    for number, name in enumerate("ABC", start=1):
        StrategyStepFactory(strategy=strategy, step_number=number, subject_template=name)
    return strategy


def test_steps_list_in_order_with_spec_names(client_for, rep, abc):
    """The steps list is the strategy's steps in order, unpaginated, with the spec's names."""
    response = client_for(rep).get(_steps_url(abc))
    assert response.status_code == 200
    steps = response.json()
    assert [s["subject_template"] for s in steps] == ["A", "B", "C"]
    assert all(set(s) >= STEP_FIELDS for s in steps)


@pytest.mark.parametrize(
    ("step_number", "expected"),
    [
        (1, [("X", 1), ("A", 2), ("B", 3), ("C", 4)]),
        (2, [("A", 1), ("X", 2), ("B", 3), ("C", 4)]),
        (4, [("A", 1), ("B", 2), ("C", 3), ("X", 4)]),
        (99, [("A", 1), ("B", 2), ("C", 3), ("X", 4)]),
        (None, [("A", 1), ("B", 2), ("C", 3), ("X", 4)]),
    ],
)
def test_inserting_a_step_at_a_taken_number_shifts_the_later_ones(
    client_for, rep, abc, step_number, expected
):
    """A new step at a taken number goes there and the later steps move down one; past the
    end (or without a number) it is appended; numbers stay 1..n."""
    data = {"activity_type": "Call", "subject_template": "X", "delay_days": 1}
    if step_number is not None:
        data["step_number"] = step_number
    response = client_for(rep).post(_steps_url(abc), data)
    assert response.status_code == 201, response.content
    assert response.json()["step_number"] == dict(expected)["X"]
    assert response.json()["strategy_id"] == str(abc.pk)
    assert _numbers(abc) == expected


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [("A", [("B", 1), ("C", 2)]), ("B", [("A", 1), ("C", 2)]), ("C", [("A", 1), ("B", 2)])],
)
def test_deleting_a_step_closes_the_gap(client_for, rep, abc, deleted, expected):
    """Deleting a step renumbers the later ones so the numbers stay 1..n."""
    step = abc.steps.get(subject_template=deleted)
    assert client_for(rep).delete(f"{_steps_url(abc)}{step.pk}/").status_code == 204
    assert _numbers(abc) == expected


def test_changing_a_steps_number_moves_it(client_for, rep, abc):
    """PATCHing ``step_number`` moves the step there, like a one-step reorder."""
    step = abc.steps.get(subject_template="C")
    response = client_for(rep).patch(f"{_steps_url(abc)}{step.pk}/", {"step_number": 1})
    assert response.status_code == 200, response.content
    assert response.json()["step_number"] == 1
    assert _numbers(abc) == [("C", 1), ("A", 2), ("B", 3)]


def test_changing_a_steps_content_keeps_its_place(client_for, rep, abc):
    """PATCHing a step's content changes it and nothing else."""
    step = abc.steps.get(subject_template="B")
    response = client_for(rep).patch(
        f"{_steps_url(abc)}{step.pk}/", {"delay_days": 5, "activity_type": "Meeting"}
    )
    assert response.status_code == 200, response.content
    step.refresh_from_db()
    assert (step.delay_days, step.activity_type, step.step_number) == (5, "Meeting", 2)


def test_reorder_renumbers_every_step_in_one_call(
    client_for, rep, abc, django_assert_max_num_queries
):
    """``POST /steps/reorder/`` with every step's ID renumbers them 1..n in that order, in a
    fixed number of queries, and returns the steps in their new order."""
    new_order = [abc.steps.get(subject_template=name).pk for name in "CAB"]
    with django_assert_max_num_queries(10):
        response = client_for(rep).post(
            f"{_steps_url(abc)}reorder/", {"step_ids": [str(pk) for pk in new_order]}
        )
    assert response.status_code == 200, response.content
    assert [(s["subject_template"], s["step_number"]) for s in response.json()] == [
        ("C", 1),
        ("A", 2),
        ("B", 3),
    ]
    assert _numbers(abc) == [("C", 1), ("A", 2), ("B", 3)]


@pytest.mark.parametrize("fault", ["missing", "foreign", "duplicate", "unknown", "empty"])
def test_reorder_must_name_each_step_exactly_once(client_for, rep, abc, fault):
    """A new order that leaves a step out, names a step of another strategy or an unknown ID,
    names one twice, or is empty, is a 400 on ``step_ids`` and changes nothing."""
    ids = _step_ids(abc)
    other = StrategyStepFactory(strategy=ContactStrategyFactory(created_by=rep), step_number=1)
    step_ids = {
        "missing": ids[:2],
        "foreign": [*ids[:2], str(other.pk)],
        "duplicate": [ids[0], ids[0], ids[1], ids[2]],
        "unknown": [*ids, UNKNOWN_ID],
        "empty": [],
    }[fault]
    response = client_for(rep).post(f"{_steps_url(abc)}reorder/", {"step_ids": step_ids})
    assert response.status_code == 400, response.content
    assert "step_ids" in response.json()
    assert _numbers(abc) == [("A", 1), ("B", 2), ("C", 3)]


def test_step_of_another_strategy_is_404_under_this_one(client_for, rep, abc):
    """A step is reached only under its own strategy."""
    other = StrategyStepFactory(strategy=ContactStrategyFactory(created_by=rep), step_number=1)
    client = client_for(rep)
    assert_hidden(client.get(f"{_steps_url(abc)}{other.pk}/"), other.subject_template)
    assert client.delete(f"{_steps_url(abc)}{other.pk}/").status_code == 404
    assert StrategyStep.objects.filter(pk=other.pk).exists()


def test_steps_of_an_unknown_strategy_are_404(client_for, rep):
    """An unknown strategy ID under ``/steps/`` is a 404."""
    assert client_for(rep).get(f"{STRATEGIES}{UNKNOWN_ID}/steps/").status_code == 404


# -- Archive and delete ---------------------------------------------------------------------


def test_archive_and_unarchive(client_for, rep):
    """Archiving stamps ``archived_at`` (with its offset); unarchiving clears it."""
    strategy = ContactStrategyFactory(created_by=rep)
    client = client_for(rep)
    archived = client.post(f"{STRATEGIES}{strategy.pk}/archive/").json()
    assert archived["is_archived"] is True
    assert_iso_with_offset(archived["archived_at"])
    strategy.refresh_from_db()
    assert strategy.is_archived
    restored = client.post(f"{STRATEGIES}{strategy.pk}/unarchive/").json()
    assert restored["is_archived"] is False
    assert restored["archived_at"] is None


@pytest.mark.parametrize(
    ("status", "deletable"),
    [
        (PlanStatus.NOT_STARTED, False),
        (PlanStatus.IN_PROGRESS, False),
        (PlanStatus.PAUSED, False),
        (PlanStatus.COMPLETED, True),
        (PlanStatus.ABORTED, True),
    ],
)
def test_strategy_with_active_plans_cannot_be_deleted(client_for, rep, status, deletable):
    """A strategy that active plans follow is not deleted: a 400 says why and suggests
    archiving. Once its plans have ended it may be deleted."""
    strategy = ContactStrategyFactory(created_by=rep)
    LeadContactPlanFactory(
        strategy=strategy, user=rep, contact__owner=rep, contact__company__owner=rep, status=status
    )
    response = client_for(rep).delete(f"{STRATEGIES}{strategy.pk}/")
    if deletable:
        assert response.status_code == 204
        assert not ContactStrategy.objects.filter(pk=strategy.pk).exists()
    else:
        assert response.status_code == 400, response.content
        assert "active plan" in response.json()["detail"]
        assert "archive" in response.json()["detail"]
        assert ContactStrategy.objects.filter(pk=strategy.pk).exists()


# -- Filtering, ordering, query budget ------------------------------------------------------


def test_strategy_filters(client_for, rep, outsider):
    """``?is_template=``, ``?is_archived=`` and ``?created_by_user_id=`` narrow the list."""
    template = ContactStrategyFactory(created_by=rep, is_template=True)
    custom = ContactStrategyFactory(created_by=rep, is_template=False)
    archived = ContactStrategyFactory(created_by=outsider, is_template=True)
    archived.archived_at = archived.created_at
    archived.save()
    client = client_for(rep)
    assert list_ids(client, STRATEGIES, "strategy_id", is_template="false") == {str(custom.pk)}
    assert list_ids(client, STRATEGIES, "strategy_id", is_archived="true") == {str(archived.pk)}
    assert list_ids(client, STRATEGIES, "strategy_id", is_archived="false") == {
        str(template.pk),
        str(custom.pk),
    }
    assert list_ids(client, STRATEGIES, "strategy_id", created_by_user_id=str(outsider.pk)) == {
        str(archived.pk)
    }


def test_strategy_ordering(client_for, rep):
    """Strategies are listed by name; ``?ordering=-step_count`` puts the longest first."""
    short = ContactStrategyFactory(created_by=rep, name="B short")
    StrategyStepFactory(strategy=short, step_number=1)
    long = ContactStrategyFactory(created_by=rep, name="A long")
    for number in (1, 2, 3):
        StrategyStepFactory(strategy=long, step_number=number)
    client = client_for(rep)
    names = [s["name"] for s in client.get(STRATEGIES).json()["results"]]
    assert names == ["A long", "B short"]
    rows = client.get(STRATEGIES, {"ordering": "-step_count"}).json()["results"]
    assert [(s["name"], s["step_count"]) for s in rows] == [("A long", 3), ("B short", 1)]
    names = [s["name"] for s in client.get(STRATEGIES, {"ordering": "-name"}).json()["results"]]
    assert names == ["B short", "A long"]


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
def test_strategy_list_query_budget(request, client_for, rep, django_assert_max_num_queries, role):
    """Listing strategies with their nested steps costs a fixed number of queries."""

    def make_rows(n):
        for strategy in ContactStrategyFactory.create_batch(n, created_by=rep):
            for number in (1, 2, 3):
                StrategyStepFactory(strategy=strategy, step_number=number)

    assert_list_query_budget(
        client_for(as_role(request, role)),
        STRATEGIES,
        make_rows=make_rows,
        budget=3,
        django_assert_max_num_queries=django_assert_max_num_queries,
    )
