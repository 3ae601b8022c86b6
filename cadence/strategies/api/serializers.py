from rest_framework import serializers

from cadence.activities.choices import ActivityType
from cadence.core.api.fields import ScopedRelatedField
from cadence.crm.selectors import contact_list
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.rendering import template_problems

MAX_TEMPLATE_LENGTH = 100_000


def _checked_template(value):
    problems = template_problems(value)
    if problems:
        raise serializers.ValidationError(problems)
    return value


class StrategyStepSerializer(serializers.ModelSerializer):
    strategy_id = serializers.UUIDField(read_only=True)
    step_number = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    delay_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    activity_type = serializers.ChoiceField(choices=ActivityType.choices)
    description_template = serializers.CharField(
        max_length=MAX_TEMPLATE_LENGTH, allow_null=True, allow_blank=True, required=False
    )

    def validate_subject_template(self, value):
        return _checked_template(value)

    def validate_description_template(self, value):
        return _checked_template(value)

    class Meta:
        model = StrategyStep
        fields = [
            "step_id",
            "strategy_id",
            "step_number",
            "delay_days",
            "activity_type",
            "subject_template",
            "description_template",
            "is_automated",
            "created_at",
            "updated_at",
        ]


class StrategySerializer(serializers.ModelSerializer):
    """A strategy with its steps in order. ``steps`` may be given on creation only; afterwards
    they are edited at ``/strategies/{id}/steps/``."""

    created_by_user_id = serializers.UUIDField(source="created_by_id", read_only=True)
    automation_approved_by_user_id = serializers.UUIDField(
        source="automation_approved_by_id", read_only=True, allow_null=True
    )
    steps = StrategyStepSerializer(many=True, required=False)
    step_count = serializers.IntegerField(read_only=True)
    is_archived = serializers.BooleanField(read_only=True)
    cooldown_days = serializers.IntegerField(
        min_value=0, max_value=3650, allow_null=True, required=False
    )
    description = serializers.CharField(
        max_length=10_000, allow_null=True, allow_blank=True, required=False
    )

    class Meta:
        model = ContactStrategy
        fields = [
            "strategy_id",
            "name",
            "description",
            "created_by_user_id",
            "is_template",
            "uses_business_days",
            "send_window_start",
            "send_window_end",
            "exit_on_reply",
            "exit_on_meeting_booked",
            "exit_on_bounce",
            "pause_company_on_reply",
            "exclusive",
            "cooldown_days",
            "automation_requires_approval",
            "automation_approved_at",
            "automation_approved_by_user_id",
            "is_archived",
            "archived_at",
            "step_count",
            "steps",
            "created_at",
            "updated_at",
        ]
        # Automation is off until a manager approves it (approve-automation), whatever this says.
        read_only_fields = [
            "automation_requires_approval",
            "automation_approved_at",
            "archived_at",
        ]

    def validate_steps(self, steps):
        if self.instance is not None:
            raise serializers.ValidationError(
                "Edit the steps of an existing strategy at /strategies/{id}/steps/."
            )
        return steps

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("step_count") is None:
            data["step_count"] = len(data["steps"])
        return data


class StepReorderSerializer(serializers.Serializer):
    step_ids = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=10_000
    )


class TemplatePreviewSerializer(serializers.Serializer):
    """Templates to render, for a contact of yours or (without ``contact_id``) a sample one."""

    subject_template = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    description_template = serializers.CharField(
        max_length=MAX_TEMPLATE_LENGTH, required=False, allow_blank=True, default=""
    )
    contact_id = ScopedRelatedField(
        source="contact", scope=contact_list, required=False, allow_null=True
    )

    def validate_subject_template(self, value):
        return _checked_template(value)

    def validate_description_template(self, value):
        return _checked_template(value)


class TemplatePreviewResultSerializer(serializers.Serializer):
    subject = serializers.CharField()
    body = serializers.CharField()
    contact_id = serializers.UUIDField(allow_null=True)
    sample = serializers.BooleanField()
