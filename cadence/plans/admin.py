"""Admin for lead contact plans: who works which lead on which strategy, and what is due."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from cadence.core.admin import ReadOnlyAdmin
from cadence.plans import services as plan_services
from cadence.plans.models import LeadContactPlan, PlanStepResult

TIMESTAMPS = ("created_at", "updated_at")


class TemplateStrategyListFilter(admin.RelatedFieldListFilter):
    """Filter by strategy, offering only templates.

    Every custom plan has a private strategy of its own, so listing all strategies would put one
    link per custom plan in the sidebar; custom plans are found with the ``strategy__is_template``
    filter instead.
    """

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, limit_choices_to={"is_template": True}, ordering=ordering
        )


@admin.register(LeadContactPlan)
class LeadContactPlanAdmin(admin.ModelAdmin):
    list_display = ("lead", "strategy", "user", "status", "current_step", "next_step_due_date")
    list_filter = (
        "status",
        "exit_reason",
        ("strategy", TemplateStrategyListFilter),
        "strategy__is_template",
    )
    list_select_related = ("contact", "company", "strategy", "user", "current_step")
    search_fields = (
        "contact__first_name",
        "contact__last_name",
        "contact__email",
        "company__name",
        "strategy__name",
    )
    date_hierarchy = "next_step_due_date"
    autocomplete_fields = ("company", "contact", "strategy", "user")
    # The plan engine moves these (pause bookkeeping, due-date shifts, exit reasons), and a
    # plan's lead, strategy and start are fixed once it exists (plans.services.plan_update):
    # only the plan's user is changed here, through the service.
    readonly_fields = (
        "company",
        "contact",
        "strategy",
        "plan_start_date",
        "status",
        "current_step",
        "next_step_due_date",
        "paused_at",
        "ended_at",
        "exit_reason",
        *TIMESTAMPS,
    )
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("company", "contact", "strategy", "user")}),
        (
            "Progress",
            {"fields": ("status", "current_step", "plan_start_date", "next_step_due_date")},
        ),
        ("Pause and exit", {"fields": ("paused_at", "ended_at", "exit_reason")}),
        ("History", {"fields": TIMESTAMPS}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new plan is an enrollment (opt-out, bounce, exclusive strategies, cooldown, the first
        # step and its due date): the strategy's assign action or the API makes it.
        return False

    def save_model(self, request: HttpRequest, obj: LeadContactPlan, form, change: bool) -> None:
        plan_services.plan_update(plan=obj, data={"user": form.cleaned_data["user"]})

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadContactPlan]:
        # A plan's label names its lead and strategy; joining them here keeps the autocomplete
        # results that other admins fetch (activity.plan, reminder.plan) to one query. Django
        # skips list_select_related when the queryset already joins, so join all it names.
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="lead", ordering="contact__last_name")
    def lead(self, plan: LeadContactPlan) -> str:
        return str(plan.contact or plan.company)


@admin.register(PlanStepResult)
class PlanStepResultAdmin(ReadOnlyAdmin):
    """Read-only history: the plan engine writes these as steps are done or skipped."""

    list_display = ("plan", "step_number", "result", "due_at", "completed_at", "user")
    list_filter = ("result",)
    list_select_related = ("plan__contact", "plan__company", "plan__strategy", "user")
    date_hierarchy = "completed_at"
    raw_id_fields = ("plan", "step", "activity", "user")
