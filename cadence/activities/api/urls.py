from cadence.activities.api.views import ActivityViewSet, ReminderViewSet


def register(router) -> None:
    router.register("activities", ActivityViewSet, basename="activity")
    router.register("reminders", ReminderViewSet, basename="reminder")
