"""Helpers for API tests in NetBox's style: one mixin runs the same permission checks on every
endpoint, each app states only its objects and who may see, change and delete which.

Roles are the fixture names of the root ``conftest.py``: two reps and a manager of Team North,
a rep and a manager of Team South, and an admin in no team.
"""

import re
from collections.abc import Callable, Mapping

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

API = "/api/v1"
ROLES = ("rep", "teammate", "manager", "outsider", "other_manager", "admin_user")
# A UUID that names nothing: the answer for it must be the same as for a hidden object.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def as_role(request, role: str):
    """The user of a role fixture, by its name (for parametrized tests)."""
    return request.getfixturevalue(role)


def page_ids(response, pk_field: str) -> list[str]:
    assert response.status_code == 200, response.content
    return [row[pk_field] for row in response.json()["results"]]


def list_ids(client, url: str, pk_field: str, **params) -> set[str]:
    """IDs of every row a list endpoint returns (in one page of up to 500)."""
    response = client.get(url, {"page_size": 500, **params})
    ids = page_ids(response, pk_field)
    assert response.json()["count"] == len(ids)
    return set(ids)


def assert_hidden(response, *secrets) -> None:
    """A 404 that gives nothing away: none of ``secrets`` (IDs, names) appears in the body."""
    assert response.status_code == 404, (response.status_code, response.content)
    body = response.content.decode()
    for secret in secrets:
        assert str(secret) not in body


def assert_field_error(response, field: str, text: str = "does not exist") -> None:
    """A 400 whose message for ``field`` contains ``text``."""
    assert response.status_code == 400, (response.status_code, response.content)
    errors = response.json()
    assert field in errors, errors
    messages = errors[field] if isinstance(errors[field], list) else [errors[field]]
    assert any(text in str(message) for message in messages), errors


def assert_iso_with_offset(*values) -> None:
    """ISO 8601 date-times that carry their UTC offset (``Z`` or ``+hh:mm``)."""
    for value in values:
        assert isinstance(value, str) and _ISO_WITH_OFFSET.match(value), value


def assert_list_query_budget(
    client,
    url: str,
    *,
    make_rows: Callable[[int], object],
    budget: int,
    django_assert_max_num_queries,
    rows: int = 25,
) -> None:
    """The list costs the same number of queries for 1 row as for ``rows``, and at most
    ``budget``: no query per row."""
    make_rows(1)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(url).status_code == 200
    make_rows(rows - 1)
    with django_assert_max_num_queries(budget) as many_rows:
        response = client.get(url)
    assert response.status_code == 200
    assert response.json()["count"] >= rows
    assert len(response.json()["results"]) >= rows
    assert len(many_rows.captured_queries) == len(one_row.captured_queries)


class ScopedEndpointTests:
    """The permission checks every scoped endpoint gets, NetBox-style.

    A subclass sets ``url`` and ``pk_field``, a fixture ``objects`` (key -> instance) and, per
    role, the keys the role sees (``visible``), may change (``editable``, default: what it sees)
    and may delete (``deletable``, default: what it may change). ``patch`` is a valid change
    whose first key is also the model attribute it sets.
    """

    url: str
    pk_field: str
    visible: Mapping[str, set[str]]
    editable: Mapping[str, set[str]] | None = None
    deletable: Mapping[str, set[str]] | None = None
    patch: dict

    def detail_url(self, obj) -> str:
        return f"{self.url}{obj.pk}/"

    def secrets(self, obj) -> list[str]:
        """What a 404 for ``obj`` must not show; subclasses add names."""
        return [str(obj.pk)]

    def _may(self, mapping, role: str) -> set[str]:
        return (mapping or self.visible)[role]

    def test_anonymous_request_is_401(self, api_client, objects):
        """Without credentials both the list and an object's detail answer 401."""
        obj = next(iter(objects.values()))
        assert api_client.get(self.url).status_code == 401
        response = api_client.get(self.detail_url(obj))
        assert response.status_code == 401
        assert str(obj.pk) not in response.content.decode()

    @pytest.mark.parametrize("role", ROLES)
    def test_list_shows_exactly_what_the_role_may_see(self, request, client_for, objects, role):
        """The list holds the objects the role may see and nothing else."""
        client = client_for(as_role(request, role))
        expected = {str(objects[key].pk) for key in self.visible[role]}
        assert list_ids(client, self.url, self.pk_field) == expected

    @pytest.mark.parametrize("role", ROLES)
    def test_retrieve_is_404_for_what_the_role_may_not_see(
        self, request, client_for, objects, role
    ):
        """A visible object is returned; any other is a 404 that shows none of its data, the
        same answer as for an ID that never existed."""
        client = client_for(as_role(request, role))
        for key, obj in objects.items():
            response = client.get(self.detail_url(obj))
            if key in self.visible[role]:
                assert response.status_code == 200, (key, response.content)
                assert response.json()[self.pk_field] == str(obj.pk)
            else:
                assert_hidden(response, *self.secrets(obj))
        assert client.get(f"{self.url}{UNKNOWN_ID}/").status_code == 404

    @pytest.mark.parametrize("role", ROLES)
    def test_update_is_404_hidden_403_read_only_200_allowed(
        self, request, client_for, objects, role
    ):
        """PATCH: 404 for what the role may not see, 403 for what it sees but may not change
        (nothing changes), 200 otherwise."""
        client = client_for(as_role(request, role))
        field, value = next(iter(self.patch.items()))
        for key, obj in objects.items():
            response = client.patch(self.detail_url(obj), self.patch)
            obj.refresh_from_db()
            if key not in self.visible[role]:
                assert_hidden(response, *self.secrets(obj))
                assert getattr(obj, field) != value
            elif key not in self._may(self.editable, role):
                assert response.status_code == 403, (key, response.content)
                assert getattr(obj, field) != value
            else:
                assert response.status_code == 200, (key, response.content)
                assert getattr(obj, field) == value

    @pytest.mark.parametrize("role", ROLES)
    def test_delete_is_404_hidden_403_not_allowed_204_allowed(
        self, request, client_for, objects, role
    ):
        """DELETE: 404 for what the role may not see, 403 for what it sees but may not delete
        (the object stays), 204 otherwise (the object is gone)."""
        client = client_for(as_role(request, role))
        model = type(next(iter(objects.values())))
        for key, obj in sorted(objects.items()):
            response = client.delete(self.detail_url(obj))
            if key not in self.visible[role]:
                assert_hidden(response, *self.secrets(obj))
                assert model.objects.filter(pk=obj.pk).exists()
            elif key not in self._may(self.deletable or self.editable, role):
                assert response.status_code == 403, (key, response.content)
                assert model.objects.filter(pk=obj.pk).exists()
            else:
                assert response.status_code == 204, (key, response.content)
                assert not model.objects.filter(pk=obj.pk).exists()
