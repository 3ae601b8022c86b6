from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "cadence.activities"
    label = "activities"
