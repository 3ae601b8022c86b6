from rest_framework import viewsets

from cadence.activities import services
from cadence.activities.api.serializers import ActivitySerializer, ReminderSerializer
from cadence.activities.filters import ActivityFilter, ReminderFilter
from cadence.activities.models import Activity, Reminder
from cadence.activities.selectors import activity_list, reminder_list


class ActivityViewSet(viewsets.ModelViewSet):
    """Activities: yours, your team's for managers, everyone's for admins."""

    queryset = Activity.objects.none()

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["subject", "description"]
    ordering_fields = ["occurred_at", "created_at", "activity_type", "outcome"]
    ordering = ["-occurred_at"]

    def get_queryset(self):
        return activity_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.activity_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.activity_update(
            activity=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.activity_delete(activity=instance)


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
