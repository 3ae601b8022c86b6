from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "cadence.ops"
    label = "ops"
