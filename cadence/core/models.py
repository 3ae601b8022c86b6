"""The base every Cadence table shares: a UUID key and creation/update timestamps."""

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


def uuid_primary_key(verbose_name: str = "ID") -> models.UUIDField:
    """A UUID primary key; each model names it as the specification does (``plan_id``, ...)."""
    return models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=verbose_name
    )


class TimestampedModel(models.Model):
    """Adds ``created_at`` and ``updated_at``, defaulting to CURRENT_TIMESTAMP in the database too.

    The database defaults keep rows written outside the ORM (imports, SQL fixes) consistent with
    the specification; ``auto_now`` keeps ``updated_at`` current on every ORM save.
    """

    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        abstract = True
