from rest_framework import serializers

from cadence.suggestions.models import AnalysisRun, Finding, Suggestion


class SuggestionSerializer(serializers.ModelSerializer):
    """A proposed next action with the reason for it, and what became of it."""

    user_id = serializers.UUIDField(read_only=True)
    company_id = serializers.UUIDField(read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, default="")
    plan_id = serializers.UUIDField(read_only=True, allow_null=True)
    trigger_activity_id = serializers.UUIDField(read_only=True, allow_null=True)
    finding_id = serializers.UUIDField(read_only=True, allow_null=True)
    reminder_id = serializers.UUIDField(read_only=True, allow_null=True)
    step_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Suggestion
        fields = [
            "suggestion_id",
            "kind",
            "status",
            "user_id",
            "company_id",
            "company_name",
            "contact_id",
            "contact_name",
            "plan_id",
            "trigger_activity_id",
            "finding_id",
            "activity_type",
            "due_at",
            "title",
            "reason",
            "withdrawn_reason",
            "decided_at",
            "reminder_id",
            "step_id",
            "created_at",
        ]
        read_only_fields = fields


class SuggestionAcceptSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(
        required=False, help_text="When the task is due; the suggested time by default."
    )
    as_step = serializers.BooleanField(
        default=False,
        help_text="Insert the task as the next step of its custom plan instead of a task.",
    )


class RuleParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    default = serializers.JSONField()
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()
    choices = serializers.ListField(child=serializers.CharField())


class SuggestionRuleSerializer(serializers.Serializer):
    """One rule kind as it applies to a team: on or off, and its parameters."""

    kind = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    # Null for the organisation-wide defaults.
    team_id = serializers.UUIDField(source="team.pk", read_only=True, default=None, allow_null=True)
    enabled = serializers.BooleanField(required=False)
    params = serializers.DictField(required=False)
    definitions = RuleParamSerializer(many=True, read_only=True)


class FindingSerializer(serializers.ModelSerializer):
    run_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "finding_id",
            "run_id",
            "industry",
            "size_band",
            "prev_channel",
            "prev_outcome",
            "channel",
            "delay_bucket",
            "n",
            "responses",
            "rate",
            "ci_low",
            "ci_high",
            "baseline_n",
            "baseline_responses",
            "baseline_rate",
            "ratio",
            "p_value",
            "q_value",
            "sentence",
        ]
        read_only_fields = fields


class AnalysisRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalysisRun
        fields = [
            "run_id",
            "status",
            "started_at",
            "finished_at",
            "seconds",
            "activities",
            "touches",
            "comparisons",
            "findings_count",
            "params",
            "summary",
        ]
        read_only_fields = fields
