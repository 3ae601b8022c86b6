"""Admin for contact strategies and their steps."""

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from cadence.core.admin import ReadOnlyAdmin
from cadence.strategies import services
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.rendering import template_problems

TIMESTAMPS = ("created_at", "updated_at")


class StrategyStepAdminForm(forms.ModelForm):
    """A step's templates must render, as the services require."""

    class Meta:
        model = StrategyStep
        fields = services.STEP_FIELDS

    def clean(self):
        data = super().clean()
        for name in services.TEMPLATE_FIELDS:
            for problem in template_problems(data.get(name)):
                self.add_error(name, problem)
        return data


class StrategyStepInline(admin.TabularInline):
    """A strategy's steps, changed and added here (at most ``MAX_STEPS``); plans follow on
    save. Deleting one is the strategy editor's or the API's work, which moves the plans at that
    step on and closes the gap in the numbering."""

    model = StrategyStep
    form = StrategyStepAdminForm
    max_num = services.MAX_STEPS
    can_delete = False
    fields = (
        "step_number",
        "delay_days",
        "activity_type",
        "subject_template",
        "description_template",
        "is_automated",
    )
    ordering = ("step_number",)
    extra = 0


@admin.register(ContactStrategy)
class ContactStrategyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_template",
        "step_count",
        "uses_business_days",
        "automation_requires_approval",
        "automation_approved_at",
        "is_archived",
        "created_by",
        "created_at",
    )
    list_filter = (
        "is_template",
        "uses_business_days",
        "automation_requires_approval",
        ("archived_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("created_by",)
    search_fields = ("name", "description")
    autocomplete_fields = ("created_by",)
    # Approving releases the emails waiting for it and needs a manager's right over the
    # strategy: that is the approve action of the API or the strategy page, not a field here.
    readonly_fields = ("automation_approved_at", "automation_approved_by", *TIMESTAMPS)
    inlines = (StrategyStepInline,)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("name", "description", "is_template", "created_by", "archived_at")}),
        (
            "Scheduling",
            {"fields": ("uses_business_days", ("send_window_start", "send_window_end"))},
        ),
        ("Exit rules", {"fields": ("exit_on_reply", "exit_on_meeting_booked", "exit_on_bounce")}),
        (
            "Automation",
            {
                "fields": (
                    "automation_requires_approval",
                    "automation_approved_at",
                    "automation_approved_by",
                )
            },
        ),
        ("History", {"fields": TIMESTAMPS}),
    )

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.strategy_steps_saved(strategy=form.instance)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ContactStrategy]:
        # One grouped query instead of a COUNT per row.
        return super().get_queryset(request).annotate(step_count=Count("steps"))

    @admin.display(description="steps", ordering="step_count")
    def step_count(self, strategy: ContactStrategy) -> int:
        return strategy.step_count

    @admin.display(description="archived", boolean=True, ordering="archived_at")
    def is_archived(self, strategy: ContactStrategy) -> bool:
        return strategy.is_archived


@admin.register(StrategyStep)
class StrategyStepAdmin(ReadOnlyAdmin):
    """Steps across strategies, to find one; they are edited in their strategy's page."""

    list_display = (
        "__str__",
        "strategy",
        "step_number",
        "delay_days",
        "activity_type",
        "is_automated",
    )
    list_filter = ("is_automated", "activity_type", "strategy__is_template")
    list_select_related = ("strategy",)
    search_fields = ("strategy__name", "activity_type", "subject_template")
    autocomplete_fields = ("strategy",)
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
