"""Rollup tables: counts the reports would otherwise recompute from millions of rows.

A rollup is derived data. It is refreshed by a task (``rollups``) and never edited by hand; the
reports read it only where it is known to be current and count the rest live, so a missing or
stale rollup makes a report slower, never wrong.
"""

from django.conf import settings
from django.db import models


class AdherenceDay(models.Model):
    """The step results that fell due on one UTC day, for one plan user and one strategy,
    counted at the grace period the rollup was built with (``RollupState.grace_seconds``)."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The plan's strategy when the rollup was built; not a foreign key, so deleting a strategy
    # does not rewrite history rows (the nightly rebuild takes the change in).
    strategy_id = models.UUIDField(null=True, blank=True)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    late_seconds = models.FloatField(default=0)

    class Meta:
        db_table = "analytics_adherence_days"
        indexes = [models.Index(fields=["day"], name="adherence_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id}: {self.on_time} on time, {self.late} late"


class EmailDay(models.Model):
    """The automated emails sent (or handed off, for uncertain ones) on one UTC day, for one
    plan user, strategy and step, by what became of them. Strategy and step are kept as IDs;
    the report groups them as they are when it runs (template or custom, the step's number)."""

    day = models.DateField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    strategy_id = models.UUIDField(null=True, blank=True)
    step_id = models.UUIDField(null=True, blank=True)
    sent = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    opted_out = models.PositiveIntegerField(default=0)
    uncertain = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "analytics_email_days"
        indexes = [models.Index(fields=["day"], name="email_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id}: {self.sent} sent, {self.replied} replied"


class RollupState(models.Model):
    """When a rollup was last refreshed, and at which settings; one row per rollup."""

    name = models.CharField(max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last refresh started."
    )
    rebuilt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last full rebuild started."
    )
    grace_seconds = models.FloatField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Rows after the last refresh.")

    class Meta:
        db_table = "analytics_rollup_state"

    def __str__(self) -> str:
        return f"{self.name} refreshed at {self.refreshed_at}"
