from django.urls import path

from cadence.notifications.api.views import (
    MyCalendarView,
    NotificationViewSet,
    ReminderActionViewSet,
    RotateMyCalendarView,
)

# Plain paths, listed before the router's. ``users/me/...`` sits beside the accounts app's user
# routes, and ``reminders/{id}/...`` beside the activities app's reminder routes; those apps are
# below this one and cannot know about it. (Registering a second viewset under ``reminders`` in
# the router would hide the reminder list from the API root, which keeps one entry per prefix.)
urlpatterns = [
    path("users/me/calendar/", MyCalendarView.as_view(), name="me-calendar"),
    path("users/me/rotate-calendar/", RotateMyCalendarView.as_view(), name="me-rotate-calendar"),
    path(
        "reminders/<uuid:pk>/dismiss/",
        ReminderActionViewSet.as_view({"post": "dismiss"}),
        name="reminder-dismiss",
    ),
    path(
        "reminders/<uuid:pk>/snooze/",
        ReminderActionViewSet.as_view({"post": "snooze"}),
        name="reminder-snooze",
    ),
]


def register(router) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
