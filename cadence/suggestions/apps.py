from django.apps import AppConfig


class SuggestionsConfig(AppConfig):
    name = "cadence.suggestions"
    label = "suggestions"

    def ready(self) -> None:
        from cadence.plans import services as plan_services
        from cadence.suggestions.services import suggestions_on_activities

        # Logged activities reach the suggestion rules (see plans.services.activity_listeners).
        if suggestions_on_activities not in plan_services.activity_listeners:
            plan_services.activity_listeners.append(suggestions_on_activities)
