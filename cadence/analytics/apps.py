from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "cadence.analytics"
    label = "analytics"
