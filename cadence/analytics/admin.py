"""Admin for the analytics rollups: derived data the refresh task writes, viewed here so an
operator can see when it last ran and what it holds. Never edited by hand."""

from django.contrib import admin

from cadence.analytics.models import AdherenceDay, EmailDay, RollupState
from cadence.core.admin import ReadOnlyAdmin


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ["name", "refreshed_at", "rebuilt_at", "grace_seconds", "rows"]


@admin.register(AdherenceDay)
class AdherenceDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "strategy_id", "on_time", "late", "skipped"]
    list_select_related = ["user"]
    date_hierarchy = "day"
    ordering = ["-day"]


@admin.register(EmailDay)
class EmailDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "user", "strategy_id", "step_id", "sent", "replied", "uncertain"]
    list_select_related = ["user"]
    date_hierarchy = "day"
    ordering = ["-day"]
