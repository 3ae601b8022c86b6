"""The ``/api/v1/`` namespace: every app's API routes in one router."""

from django.urls import path

from cadence.accounts.api import urls as accounts_urls
from cadence.accounts.api.views import ApiTokenView
from cadence.accounts.api.views import UserViewSet as AccountsUserViewSet
from cadence.activities.api import urls as activities_urls
from cadence.analytics.api import urls as analytics_urls
from cadence.core.api.routers import Router
from cadence.crm.api import urls as crm_urls
from cadence.mailboxes.api import urls as mailboxes_urls
from cadence.messaging.api import urls as messaging_urls
from cadence.notifications.api import urls as notifications_urls
from cadence.notifications.api.views import me_calendar_url
from cadence.plans.api import urls as plans_urls
from cadence.strategies.api import urls as strategies_urls
from cadence.suggestions.api import urls as suggestions_urls


class UserViewSet(AccountsUserViewSet):
    """Users, with what apps above accounts know of the signed-in user in ``/users/me/``."""

    me_extras = (me_calendar_url,)


router = Router()
accounts_urls.register(router, user_viewset=UserViewSet)
for app_urls in (crm_urls, strategies_urls, plans_urls, activities_urls):
    app_urls.register(router)
mailboxes_urls.register(router)
notifications_urls.register(router)
messaging_urls.register(router)
suggestions_urls.register(router)

urlpatterns = [
    path("auth/token/", ApiTokenView.as_view(), name="api-token"),
    *strategies_urls.urlpatterns,
    *messaging_urls.urlpatterns,
    *notifications_urls.urlpatterns,
    *plans_urls.urlpatterns,
    *analytics_urls.urlpatterns,
    *router.urls,
]
