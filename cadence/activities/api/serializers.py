from rest_framework import serializers

from cadence.accounts.selectors import users_assignable_by
from cadence.activities.choices import ReminderChannel
from cadence.activities.models import Activity, Reminder
from cadence.activities.selectors import activity_list, plans_linkable_by, steps_linkable_by
from cadence.core.api.fields import ScopedRelatedField
from cadence.crm.selectors import company_list, contact_list

#: The longest snooze given in minutes: a year.
MAX_SNOOZE_MINUTES = 365 * 24 * 60


class ActivitySerializer(serializers.ModelSerializer):
    """An activity. Give a contact or a plan and the company follows from it."""

    company_id = ScopedRelatedField(source="company", scope=company_list, required=False)
    contact_id = ScopedRelatedField(
        source="contact", scope=contact_list, required=False, allow_null=True
    )
    user_id = ScopedRelatedField(source="user", scope=users_assignable_by, required=False)
    plan_id = ScopedRelatedField(
        source="plan", scope=plans_linkable_by, required=False, allow_null=True
    )
    step_id = ScopedRelatedField(
        source="step", scope=steps_linkable_by, required=False, allow_null=True
    )
    description = serializers.CharField(max_length=100_000, allow_blank=True, required=False)

    class Meta:
        model = Activity
        fields = [
            "activity_id",
            "company_id",
            "contact_id",
            "user_id",
            "activity_type",
            "direction",
            "subject",
            "description",
            "outcome",
            "occurred_at",
            "plan_id",
            "step_id",
            "message_id",
            "created_at",
            "updated_at",
        ]


class ReminderSerializer(serializers.ModelSerializer):
    user_id = ScopedRelatedField(source="user", scope=users_assignable_by, required=False)
    plan_id = ScopedRelatedField(
        source="plan", scope=plans_linkable_by, required=False, allow_null=True
    )
    step_id = ScopedRelatedField(
        source="step", scope=steps_linkable_by, required=False, allow_null=True
    )
    activity_id = ScopedRelatedField(
        source="activity", scope=activity_list, required=False, allow_null=True
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=ReminderChannel.choices),
        allow_empty=False,
        max_length=len(ReminderChannel.choices),
        required=False,
    )
    message = serializers.CharField(max_length=10_000, allow_blank=True, required=False)

    class Meta:
        model = Reminder
        fields = [
            "reminder_id",
            "user_id",
            "plan_id",
            "step_id",
            "activity_id",
            "remind_at",
            "due_at",
            "message",
            "status",
            "channels",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["sent_at"]
        # DRF would turn the one-reminder-per-plan-step-and-due-date constraint into a validator
        # that makes plan_id, step_id and due_at required, though most reminders have none of
        # them; the database constraint still refuses a duplicate (a 400).
        validators = []


class ReminderSnoozeSerializer(serializers.Serializer):
    """When to deliver the reminder again: a time (``until``) or a delay (``minutes``)."""

    until = serializers.DateTimeField(required=False)
    minutes = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SNOOZE_MINUTES)

    def validate(self, attrs):
        if ("until" in attrs) == ("minutes" in attrs):
            raise serializers.ValidationError(
                {"until": ["Give either until (a time) or minutes, not both."]}
            )
        return attrs
