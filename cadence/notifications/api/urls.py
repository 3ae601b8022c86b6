from django.urls import path

from cadence.notifications.api.views import (
    MyCalendarView,
    NotificationViewSet,
    RotateMyCalendarView,
)

# Plain paths, listed before the router's: ``users/me/...`` sits beside the accounts app's user
# routes; that app is below this one and cannot know about it.
urlpatterns = [
    path("users/me/calendar/", MyCalendarView.as_view(), name="me-calendar"),
    path("users/me/rotate-calendar/", RotateMyCalendarView.as_view(), name="me-rotate-calendar"),
]


def register(router) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
