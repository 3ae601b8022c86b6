from rest_framework import serializers

from cadence.accounts.selectors import users_assignable_by
from cadence.activities.api.serializers import ActivitySerializer
from cadence.core.api.fields import ScopedRelatedField
from cadence.crm.selectors import company_list, contact_list
from cadence.plans.choices import ABORT_REASONS, ExitReason
from cadence.plans.models import LeadContactPlan
from cadence.strategies.api.serializers import StrategyStepSerializer
from cadence.strategies.selectors import strategies_plannable_by

MAX_BULK = 20_000


class PlanSerializer(serializers.ModelSerializer):
    """A lead contact plan. ``company_id`` follows from ``contact_id`` when only that is given;
    ``user_id`` defaults to you. The current step and due date are computed, not written."""

    # Blank while the plan runs: the schema must say so, or a client validating answers against
    # it refuses every running plan.
    exit_reason = serializers.ChoiceField(
        choices=ExitReason.choices, allow_blank=True, read_only=True
    )
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
            "resume_at",
            "ended_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "next_step_due_date",
            "exit_reason",
            "paused_at",
            "resume_at",
            "ended_at",
        ]
        # DRF would turn the one-active-plan-per-contact-and-strategy constraint into a validator
        # that makes contact_id and strategy_id required, though a plan may target a company
        # alone or follow no strategy; plan_create answers a clash with a contact_id error.
        validators = []


class ActivityLogSerializer(ActivitySerializer):
    """An activity; with ``plan_id`` and the plan's current ``step_id`` it completes that step.
    ``skip_to`` accepts a later step, skipping the ones between."""

    skip_to = serializers.BooleanField(write_only=True, required=False, default=False)

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "skip_to"]


class PlanPauseSerializer(serializers.Serializer):
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Resume by itself at this time."
    )


class PlanAbortSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=ABORT_REASONS,
        default=ExitReason.MANUAL,
    )


class CustomPlanSerializer(serializers.Serializer):
    """A one-off plan with its own steps (a private, non-template strategy)."""

    company_id = ScopedRelatedField(source="company", scope=company_list, required=False)
    contact_id = ScopedRelatedField(
        source="contact", scope=contact_list, required=False, allow_null=True
    )
    user_id = ScopedRelatedField(source="user", scope=users_assignable_by, required=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    plan_start_date = serializers.DateTimeField(required=False)
    uses_business_days = serializers.BooleanField(required=False, default=False)
    steps = StrategyStepSerializer(many=True, allow_empty=False)


class AssignSerializer(serializers.Serializer):
    """Whom to enroll: contacts (a plan each) and companies (a company-wide plan each)."""

    contact_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=MAX_BULK
    )
    company_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=MAX_BULK
    )
    user_id = ScopedRelatedField(source="user", scope=users_assignable_by, required=False)
    plan_start_date = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        if not attrs["contact_ids"] and not attrs["company_ids"]:
            raise serializers.ValidationError(
                {"contact_ids": ["Give the contacts or companies to enroll."]}
            )
        return attrs


class AssignResultSerializer(serializers.Serializer):
    enrolled = serializers.IntegerField()
    plan_ids = serializers.ListField(child=serializers.UUIDField())
    skipped = serializers.ListField(child=serializers.DictField())


class TaskSerializer(serializers.Serializer):
    """A planned step to do: the plan's current step with its lead and rendered subject."""

    plan_id = serializers.UUIDField(source="pk")
    window = serializers.CharField()
    due_at = serializers.DateTimeField(source="next_step_due_date")
    status = serializers.CharField()
    strategy_id = serializers.UUIDField(allow_null=True)
    strategy_name = serializers.CharField(source="strategy.name", allow_null=True)
    step_id = serializers.UUIDField(source="current_step_id")
    step_number = serializers.IntegerField(source="current_step.step_number")
    activity_type = serializers.CharField(source="current_step.activity_type")
    is_automated = serializers.BooleanField(source="current_step.is_automated")
    subject = serializers.CharField()
    subject_problem = serializers.CharField(
        source="subject.problem",
        allow_null=True,
        help_text="Why the subject is shown as written instead of rendered (a template problem).",
    )
    contact_id = serializers.UUIDField(allow_null=True)
    contact_name = serializers.CharField(source="contact.full_name", allow_null=True)
    contact_email = serializers.CharField(source="contact.email", allow_null=True)
    company_id = serializers.UUIDField()
    company_name = serializers.CharField(source="company.name")
    user_id = serializers.UUIDField()
