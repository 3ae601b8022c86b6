from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "cadence.suggestions"
    label = "suggestions"
