"""Admin for automated email: the outbox and inbound mail (histories the engine writes, viewed
here and acted on through the API), suppressions and senders (edited here)."""

from django.contrib import admin
from django.http import HttpRequest

from cadence.core.admin import ReadOnlyAdmin
from cadence.messaging import services
from cadence.messaging.models import (
    InboundMessage,
    OutboundMessage,
    SendCounter,
    Sender,
    Suppression,
)

TIMESTAMPS = ("created_at", "updated_at")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "to_email", "subject", "status", "user", "send_after", "sent_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("to_email", "subject", "message_id")
    date_hierarchy = "created_at"


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "status", "from_address", "subject")
    list_filter = ("kind", "status")
    search_fields = ("from_address", "subject", "message_id")
    date_hierarchy = "created_at"


@admin.register(SendCounter)
class SendCounterAdmin(ReadOnlyAdmin):
    list_display = ("scope", "window_start", "count")
    search_fields = ("scope",)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email", "reason", "created_at", "created_by")
    list_filter = ("reason",)
    list_select_related = ("created_by",)
    search_fields = ("email", "note")
    autocomplete_fields = ("contact", "created_by")
    readonly_fields = TIMESTAMPS
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Suppression, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: an address already listed keeps its entry, and the emails
        # waiting to go to it are settled as suppressed at once.
        added = services.suppression_add(
            email=obj.email,
            reason=obj.reason,
            actor=obj.created_by or request.user,
            contact=obj.contact,
            note=obj.note,
        )
        obj.pk = added.pk


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "daily_limit",
        "hourly_limit",
        "ramp_started_on",
        "automation_paused_at",
    )
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    autocomplete_fields = ("user",)
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
