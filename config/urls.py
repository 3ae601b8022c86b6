from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("cadence.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("cadence.notifications.urls")),
    path("", include("cadence.messaging.urls")),
    path("", include("cadence.web.urls")),
    # Email providers' inbound and tracking webhooks, checked by django-anymail (basic auth with
    # ANYMAIL_WEBHOOK_SECRET, and the provider's own signature where it has one).
    path("anymail/", include("cadence.messaging.webhook_urls")),
]
