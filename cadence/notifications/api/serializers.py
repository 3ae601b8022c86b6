from rest_framework import serializers

from cadence.notifications.models import Notification


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


class CalendarUrlSerializer(serializers.Serializer):
    calendar_url = serializers.URLField(
        read_only=True, help_text="Subscribe to this URL in a calendar app; keep it private."
    )


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(read_only=True)
