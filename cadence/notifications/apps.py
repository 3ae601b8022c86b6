from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cadence.notifications"
    label = "notifications"

    def ready(self) -> None:
        from cadence.accounts.api import views as account_views
        from cadence.notifications.api.views import me_calendar_url

        if me_calendar_url not in account_views.me_extensions:
            account_views.me_extensions.append(me_calendar_url)
