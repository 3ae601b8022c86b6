from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cadence.core"
    label = "core"

    def ready(self) -> None:
        # Registers the OpenAPI schema's field extensions (drf-spectacular finds them by class).
        from cadence.core.api import schema  # noqa: F401
