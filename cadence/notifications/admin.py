"""Admin for what reminders delivered: in-app notifications, emails, and calendar feeds."""

from django.contrib import admin

from cadence.notifications.models import CalendarFeed, EmailDelivery, Notification

TIMESTAMPS = ("created_at", "updated_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "title", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("title", "user__username", "user__display_name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    raw_id_fields = ("reminder",)
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("user", "title", "body", "url", "read_at")}),
        ("Reminder", {"fields": ("reminder", "remind_at")}),
        ("History", {"fields": TIMESTAMPS}),
    )


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to_email", "subject", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("to_email", "subject", "user__username")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    raw_id_fields = ("reminder",)
    # The sender moves these; setting a failed message back to pending by hand is allowed, as
    # that is the way to send it once more after checking it did not arrive.
    readonly_fields = ("attempts", "claimed_at", "sent_at", *TIMESTAMPS)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("user", "to_email", "subject", "body")}),
        ("Reminder", {"fields": ("reminder", "remind_at")}),
        ("Delivery", {"fields": ("status", "attempts", "claimed_at", "sent_at", "error")}),
        ("History", {"fields": TIMESTAMPS}),
    )


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    autocomplete_fields = ("user",)
    # The token is a credential: it is made and rotated by the service, never typed in.
    exclude = ("token",)
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
