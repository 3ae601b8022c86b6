from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "cadence.crm"
    label = "crm"
