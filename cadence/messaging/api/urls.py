from django.urls import path

from cadence.messaging.api.views import (
    CapturedMailViewSet,
    InboundRawView,
    InboundViewSet,
    OutboxViewSet,
    SenderViewSet,
    StrategyAutomationView,
    SuppressionViewSet,
)

# Plain paths, listed before the router's: the strategy actions sit beside the strategies app's
# routes, which cannot know about messaging (it is above them).
urlpatterns = [
    path(
        "strategies/<uuid:pk>/approve-automation/",
        StrategyAutomationView.as_view(approve=True),
        name="strategy-approve-automation",
    ),
    path(
        "strategies/<uuid:pk>/revoke-automation/",
        StrategyAutomationView.as_view(approve=False),
        name="strategy-revoke-automation",
    ),
    path("inbound/raw/", InboundRawView.as_view(), name="inbound-raw"),
]


def register(router) -> None:
    router.register("outbox", OutboxViewSet, basename="outbox")
    router.register("suppressions", SuppressionViewSet, basename="suppression")
    router.register("senders", SenderViewSet, basename="sender")
    router.register("inbound", InboundViewSet, basename="inbound")
    router.register("captured-mail", CapturedMailViewSet, basename="captured-mail")
