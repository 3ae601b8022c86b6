"""The web app's pages. Each area's views module lists its own URLs."""

from cadence.web.views import (
    account,
    analytics,
    dashboard,
    lead_imports,
    leads,
    outbox,
    plans,
    strategies,
    strategy_assign,
    strategy_steps,
    suggestion_rules,
    suggestions,
)

urlpatterns = [
    *account.urlpatterns,
    *dashboard.urlpatterns,
    *plans.urlpatterns,
    *strategy_assign.urlpatterns,
    *strategies.urlpatterns,
    *strategy_steps.urlpatterns,
    *lead_imports.urlpatterns,
    *leads.urlpatterns,
    *outbox.urlpatterns,
    *suggestions.urlpatterns,
    *suggestion_rules.urlpatterns,
    *analytics.urlpatterns,
]
