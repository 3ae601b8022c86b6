from rest_framework import viewsets

from cadence.activities import services
from cadence.activities.api.serializers import ReminderSerializer
from cadence.activities.filters import ReminderFilter
from cadence.activities.models import Reminder
from cadence.activities.selectors import reminder_list


class ReminderViewSet(viewsets.ModelViewSet):
    """Reminders: yours, your team's for managers, everyone's for admins."""

    queryset = Reminder.objects.none()

    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter
    ordering_fields = ["remind_at", "due_at", "created_at", "status"]
    ordering = ["remind_at"]

    def get_queryset(self):
        return reminder_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.reminder_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.reminder_update(
            reminder=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.reminder_delete(reminder=instance)
