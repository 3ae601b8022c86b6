from rest_framework import serializers

from cadence.accounts.selectors import users_assignable_by
from cadence.core.api.fields import ScopedRelatedField
from cadence.crm.selectors import company_list, contact_list
from cadence.plans.choices import PlanStatus
from cadence.plans.models import LeadContactPlan
from cadence.strategies.selectors import strategies_plannable_by


class PlanSerializer(serializers.ModelSerializer):
    """A lead contact plan. ``company_id`` follows from ``contact_id`` when only that is given;
    ``user_id`` defaults to you. The current step and due date are computed, not written."""

    company_id = ScopedRelatedField(source="company", scope=company_list, required=False)
    contact_id = ScopedRelatedField(
        source="contact", scope=contact_list, required=False, allow_null=True
    )
    strategy_id = ScopedRelatedField(
        source="strategy", scope=strategies_plannable_by, required=False, allow_null=True
    )
    user_id = ScopedRelatedField(source="user", scope=users_assignable_by, required=False)
    current_step_id = serializers.UUIDField(read_only=True, allow_null=True)
    current_step_number = serializers.IntegerField(
        source="current_step.step_number", read_only=True, allow_null=True
    )
    strategy_name = serializers.CharField(source="strategy.name", read_only=True, allow_null=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    contact_name = serializers.CharField(
        source="contact.full_name", read_only=True, allow_null=True
    )

    class Meta:
        model = LeadContactPlan
        fields = [
            "plan_id",
            "company_id",
            "company_name",
            "contact_id",
            "contact_name",
            "strategy_id",
            "strategy_name",
            "user_id",
            "status",
            "current_step_id",
            "current_step_number",
            "plan_start_date",
            "next_step_due_date",
            "exit_reason",
            "paused_at",
            "ended_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["next_step_due_date", "exit_reason", "paused_at", "ended_at"]
        # DRF would turn the one-active-plan-per-contact-and-strategy constraint into a validator
        # that makes contact_id and strategy_id required, though a plan may target a company
        # alone or follow no strategy; plan_create answers a clash with a contact_id error.
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            fixed = {"company", "contact", "strategy", "plan_start_date"} & set(attrs)
            changed = [f for f in fixed if attrs[f] != getattr(self.instance, f)]
            if changed:
                raise serializers.ValidationError(
                    {
                        f"{name}_id" if name != "plan_start_date" else name: [
                            "This cannot change once the plan exists; create a new plan instead."
                        ]
                        for name in changed
                    }
                )
        elif attrs.get("status", PlanStatus.NOT_STARTED) != PlanStatus.NOT_STARTED:
            raise serializers.ValidationError({"status": ["A new plan starts as Not Started."]})
        return attrs
