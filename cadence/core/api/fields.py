from rest_framework import serializers


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A UUID reference limited to the rows the requesting user may see.

    ``scope`` is a selector taking ``viewer=``; a reference outside it reads as "does not exist",
    the same answer as for an ID that was never there, so nothing leaks.
    """

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(viewer=request.user)

    def use_pk_only_optimization(self) -> bool:
        return True


def chunked_lookup(queryset, ids, *, chunk: int = 900):
    """Fetch the rows of ``queryset`` with the given primary keys, in chunks that stay under
    SQLite's limit on query parameters. Returns the rows and the IDs not found (unknown, or
    outside the queryset's scope)."""
    ids = list(dict.fromkeys(ids))
    rows = []
    for start in range(0, len(ids), chunk):
        rows.extend(queryset.filter(pk__in=ids[start : start + chunk]))
    found = {row.pk for row in rows}
    by_position = {pk: index for index, pk in enumerate(ids)}
    rows.sort(key=lambda row: by_position[row.pk])
    return rows, [pk for pk in ids if pk not in found]
