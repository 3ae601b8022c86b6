from django.urls import path

from cadence.analytics.api.views import (
    AdherenceView,
    EmailOutcomeView,
    FunnelView,
    StrategyPerformanceView,
)

# Plain paths: the reports are computed answers, not collections a router could page through.
urlpatterns = [
    path(
        "analytics/strategies/",
        StrategyPerformanceView.as_view(),
        name="analytics-strategies",
    ),
    path(
        "analytics/strategies/<uuid:pk>/funnel/",
        FunnelView.as_view(),
        name="analytics-funnel",
    ),
    path("analytics/adherence/", AdherenceView.as_view(), name="analytics-adherence"),
    path("analytics/email/", EmailOutcomeView.as_view(), name="analytics-email"),
]


def register(router) -> None:
    """Nothing to register: the reports are plain paths (``urlpatterns``)."""
