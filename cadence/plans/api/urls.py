from django.urls import path

from cadence.plans.api.views import ActivityViewSet, AssignView, PlanViewSet, TaskViewSet

urlpatterns = [
    path("strategies/<uuid:strategy_pk>/assign/", AssignView.as_view(), name="strategy-assign"),
]


def register(router) -> None:
    router.register("plans", PlanViewSet, basename="plan")
    router.register("activities", ActivityViewSet, basename="activity")
    router.register("tasks", TaskViewSet, basename="task")
