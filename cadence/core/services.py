"""Write helpers shared by every app's services."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: dict[str, Any]
) -> tuple[models.Model, bool]:
    """Set the given ``fields`` of ``instance`` from ``data`` and save only what changed.

    Returns the instance and whether anything was saved. ``updated_at`` is saved with any change.
    """
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if not changed:
        return instance, False
    instance.full_clean(exclude=_excluded_from_clean(instance, changed), validate_unique=False)
    if any(f.name == "updated_at" for f in instance._meta.get_fields()):
        changed.append("updated_at")
    instance.save(update_fields=changed)
    return instance, True


def _excluded_from_clean(instance: models.Model, changed: list[str]) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields if f.name not in changed]


def rows_update(*, model: type[models.Model], objs: Sequence[models.Model], fields: list[str]):
    """Save ``fields`` of many instances with one prepared ``UPDATE ... WHERE pk = %s`` run for
    each (``executemany``). Django's ``bulk_update`` builds one ``CASE`` per field over all the
    rows, which cost more than the rest of sending a batch of emails; this is the plain form.
    Saves no ``auto_now`` field by itself: set it first if it is among ``fields``."""
    if not objs:
        return
    columns = [model._meta.get_field(name) for name in fields]
    table, pk = model._meta.db_table, model._meta.pk
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    params = [
        [
            *(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns),
            pk.get_db_prep_save(obj.pk, connection),
        ]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
