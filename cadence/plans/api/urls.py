from cadence.plans.api.views import PlanViewSet


def register(router) -> None:
    router.register("plans", PlanViewSet, basename="plan")
