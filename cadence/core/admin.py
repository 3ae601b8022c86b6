"""Admin pieces the apps share."""

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Histories and derived rows the engine writes: viewed in the admin, never added or edited
    there (a hand edit could send an email twice, or make a report disagree with its data)."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
