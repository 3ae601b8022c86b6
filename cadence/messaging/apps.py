from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "cadence.messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cadence.messaging import webhooks  # noqa: F401  (connects anymail's signals)
