from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cadence.notifications import services
from cadence.notifications.api.serializers import (
    CalendarUrlSerializer,
    MarkedReadSerializer,
    NotificationSerializer,
)
from cadence.notifications.models import CalendarFeed, Notification
from cadence.notifications.selectors import notification_list


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's notifications, newest first. Another user's are never shown, to
    managers and admins neither: a notification is addressed to one person."""

    queryset = Notification.objects.none()

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-notification_id"]

    def get_queryset(self):
        return notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification read."""
        count = services.notifications_mark_all_read(user=request.user)
        return Response({"marked_read": count})


def calendar_url(request, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(reverse("calendar-feed", args=[feed.token]))


def me_calendar_url(request, user) -> dict:
    """``calendar_url`` for ``/users/me/`` (named in ``cadence/api_urls.py``)."""
    return {"calendar_url": calendar_url(request, services.calendar_feed_for(user=user))}


class MyCalendarView(APIView):
    """The address of the signed-in user's calendar feed, made on first request."""

    @extend_schema(responses=CalendarUrlSerializer)
    def get(self, request):
        feed = services.calendar_feed_for(user=request.user)
        return Response({"calendar_url": calendar_url(request, feed)})


class RotateMyCalendarView(APIView):
    """Give the signed-in user's calendar feed a new address; the old one stops working."""

    @extend_schema(request=None, responses=CalendarUrlSerializer)
    def post(self, request):
        feed = services.calendar_feed_rotate(user=request.user)
        return Response({"calendar_url": calendar_url(request, feed)})
