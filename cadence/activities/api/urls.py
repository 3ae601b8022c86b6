from cadence.activities.api.views import ReminderViewSet


def register(router) -> None:
    # Activities are logged through the plans API, which advances plans as they come in.
    router.register("reminders", ReminderViewSet, basename="reminder")
