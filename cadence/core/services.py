"""Write helpers shared by every app's services."""

from collections.abc import Iterable
from typing import Any

from django.db import models


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
