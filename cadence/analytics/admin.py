"""Admin for the analytics rollups: derived data the refresh task writes, viewed here so an
operator can see when it last ran and what it holds. Never edited by hand."""

from django.contrib import admin
from django.http import HttpRequest

from cadence.analytics.models import AdherenceDay, RollupState


class _ReadOnly(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RollupState)
class RollupStateAdmin(_ReadOnly):
    list_display = ["name", "refreshed_at", "rebuilt_at", "grace_seconds", "rows"]


@admin.register(AdherenceDay)
class AdherenceDayAdmin(_ReadOnly):
    list_display = ["day", "user", "strategy_id", "on_time", "late", "skipped"]
    list_select_related = ["user"]
    date_hierarchy = "day"
    ordering = ["-day"]
