from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cadence.accounts"
    label = "accounts"
