import datetime

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cadence.activities import services
from cadence.activities.api.serializers import ReminderSerializer, ReminderSnoozeSerializer
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
        reminders = reminder_list(viewer=self.request.user)
        if self.action in ("dismiss", "snooze"):
            # Who may act on a reminder depends on its user.
            reminders = reminders.select_related("user")
        return reminders

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

    @extend_schema(request=None, responses=ReminderSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Dismiss the reminder: it is not delivered again."""
        reminder = services.reminder_dismiss(reminder=self.get_object(), actor=request.user)
        return Response(self.get_serializer(reminder).data)

    @extend_schema(request=ReminderSnoozeSerializer, responses=ReminderSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Deliver the reminder again at ``until``, or ``minutes`` from now."""
        reminder = self.get_object()
        params = ReminderSnoozeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        until = params.validated_data.get("until") or timezone.now() + datetime.timedelta(
            minutes=params.validated_data["minutes"]
        )
        reminder = services.reminder_snooze(reminder=reminder, actor=request.user, until=until)
        return Response(self.get_serializer(reminder).data)
