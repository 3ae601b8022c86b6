from cadence.suggestions.api.views import (
    AnalysisRunViewSet,
    RecommendationViewSet,
    SuggestionRuleViewSet,
    SuggestionViewSet,
)


def register(router) -> None:
    router.register("suggestions", SuggestionViewSet, basename="suggestion")
    router.register("suggestion-rules", SuggestionRuleViewSet, basename="suggestion-rule")
    router.register("recommendations", RecommendationViewSet, basename="recommendation")
    router.register("analysis-runs", AnalysisRunViewSet, basename="analysis-run")
