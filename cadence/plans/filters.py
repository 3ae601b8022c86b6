from django_filters import rest_framework as filters

from cadence.plans.choices import ExitReason, PlanStatus
from cadence.plans.models import LeadContactPlan


class PlanFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PlanStatus.choices)
    exit_reason = filters.MultipleChoiceFilter(choices=ExitReason.choices)
    strategy_id = filters.UUIDFilter(field_name="strategy")
    company_id = filters.UUIDFilter(field_name="company")
    contact_id = filters.UUIDFilter(field_name="contact")
    user_id = filters.UUIDFilter(field_name="user")
    current_step_id = filters.UUIDFilter(field_name="current_step")
    due_before = filters.IsoDateTimeFilter(field_name="next_step_due_date", lookup_expr="lt")
    due_after = filters.IsoDateTimeFilter(field_name="next_step_due_date", lookup_expr="gte")

    class Meta:
        model = LeadContactPlan
        fields = [
            "status",
            "exit_reason",
            "strategy_id",
            "company_id",
            "contact_id",
            "user_id",
            "current_step_id",
        ]
