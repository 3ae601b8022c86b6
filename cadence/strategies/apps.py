from django.apps import AppConfig


class StrategiesConfig(AppConfig):
    name = "cadence.strategies"
    label = "strategies"
