from rest_framework import serializers

from cadence.notifications.models import Notification

#: The longest snooze given in minutes: a year.
MAX_SNOOZE_MINUTES = 365 * 24 * 60


class NotificationSerializer(serializers.ModelSerializer):
    reminder_id = serializers.UUIDField(source="reminder.pk", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "notification_id",
            "title",
            "body",
            "url",
            "reminder_id",
            "remind_at",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields


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


class CalendarUrlSerializer(serializers.Serializer):
    calendar_url = serializers.URLField(
        read_only=True, help_text="Subscribe to this URL in a calendar app; keep it private."
    )


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(read_only=True)
