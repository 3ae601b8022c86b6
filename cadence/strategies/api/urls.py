from django.urls import path

from cadence.strategies.api.views import (
    StrategyStepViewSet,
    StrategyViewSet,
    TemplatePreviewView,
)

_steps = "strategies/<uuid:strategy_pk>/steps/"
_list = StrategyStepViewSet.as_view({"get": "list", "post": "create"})
_detail = StrategyStepViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
_reorder = StrategyStepViewSet.as_view({"post": "reorder"})

urlpatterns = [
    path("templates/preview/", TemplatePreviewView.as_view(), name="template-preview"),
    path(_steps, _list, name="strategy-step-list"),
    path(f"{_steps}reorder/", _reorder, name="strategy-step-reorder"),
    path(f"{_steps}<uuid:pk>/", _detail, name="strategy-step-detail"),
]


def register(router) -> None:
    router.register("strategies", StrategyViewSet, basename="strategy")
