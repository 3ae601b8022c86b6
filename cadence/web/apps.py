from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cadence.web"
    label = "web"
