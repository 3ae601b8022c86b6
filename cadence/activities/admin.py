"""Admin for activities (touches that happened) and reminders (nudges about what is due)."""

from django import forms
from django.contrib import admin

from cadence.activities.models import Activity, Reminder
from cadence.activities.rules import outcome_check
from cadence.activities.services import reminder_check
from cadence.core.errors import CadenceError

TIMESTAMPS = ("created_at", "updated_at")


class ActivityAdminForm(forms.ModelForm):
    """The activity's rules, as the API and the pages apply them: an outcome its type may have."""

    class Meta:
        model = Activity
        # The admin's fieldsets choose the fields shown; the form only adds the rule.
        fields = "__all__"  # noqa: DJ007

    def clean(self):
        data = super().clean()
        try:
            outcome_check(
                activity_type=data.get("activity_type", ""), outcome=data.get("outcome", "")
            )
        except CadenceError as exc:
            self.add_error(exc.field, exc.message)
        return data


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    form = ActivityAdminForm
    list_display = (
        "occurred_at",
        "activity_type",
        "direction",
        "outcome",
        "subject",
        "contact",
        "company",
        "user",
    )
    list_filter = ("activity_type", "direction", "outcome")
    list_select_related = ("company", "contact", "user")
    # "=message_id" matches a whole RFC 5322 Message-ID, to trace an inbound reply.
    search_fields = (
        "subject",
        "company__name",
        "contact__email",
        "contact__last_name",
        "=message_id",
    )
    date_hierarchy = "occurred_at"
    autocomplete_fields = ("company", "contact", "user", "plan")
    # A step's label ("2. Email (+3d)") does not say which strategy it belongs to, so it is
    # picked by ID from the step list, which does.
    raw_id_fields = ("step",)
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("activity_type", "direction", "outcome", "occurred_at")}),
        ("Lead", {"fields": ("company", "contact", "user")}),
        ("Content", {"fields": ("subject", "description", "message_id")}),
        ("Plan", {"fields": ("plan", "step")}),
        ("History", {"fields": TIMESTAMPS}),
    )


class ReminderAdminForm(forms.ModelForm):
    """The reminders' rule, as the API applies it: a plan's reminder goes to its user."""

    class Meta:
        model = Reminder
        # The admin's fieldsets choose the fields shown; the form only adds the rule.
        fields = "__all__"  # noqa: DJ007

    def clean(self):
        data = super().clean()
        if data.get("user") is not None:
            try:
                reminder_check(data)
            except CadenceError as exc:
                # The service names the API's input (``user_id``); the form's field is ``user``.
                self.add_error(exc.field and exc.field.removesuffix("_id"), exc.message)
        return data


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    form = ReminderAdminForm
    list_display = ("remind_at", "user", "status", "due_at", "plan", "sent_at")
    list_filter = ("status",)
    # The plan's label names its contact (or company) and strategy.
    list_select_related = ("user", "plan__contact", "plan__company", "plan__strategy")
    search_fields = ("message", "user__username", "user__display_name")
    date_hierarchy = "remind_at"
    autocomplete_fields = ("user", "plan")
    raw_id_fields = ("step", "activity")
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("user", "remind_at", "message", "channels")}),
        ("Status", {"fields": ("status", "sent_at")}),
        ("What is due", {"fields": ("plan", "step", "due_at", "activity")}),
        ("History", {"fields": TIMESTAMPS}),
    )
