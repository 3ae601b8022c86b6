from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "cadence.plans"
    label = "plans"

    def ready(self) -> None:
        from cadence.plans.progress import follow_template_edit
        from cadence.strategies import services as strategy_services

        # Template edits reach the plans that follow them (see strategies.services).
        if follow_template_edit not in strategy_services.step_edit_listeners:
            strategy_services.step_edit_listeners.append(follow_template_edit)
