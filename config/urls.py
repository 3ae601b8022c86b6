from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cadence.accounts.forms import LoginForm

# The browsable API's sign-in (DRF's ``rest_framework.urls``, under its namespace), with the
# form that says when the sign-in throttle refuses an attempt.
api_auth_urls = (
    [
        path(
            "login/",
            auth_views.LoginView.as_view(
                template_name="rest_framework/login.html", authentication_form=LoginForm
            ),
            name="login",
        ),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    ],
    "rest_framework",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("cadence.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include(api_auth_urls)),
    path("", include("cadence.notifications.urls")),
    path("", include("cadence.messaging.urls")),
    path("", include("cadence.web.urls")),
    # Email providers' inbound and tracking webhooks, checked by django-anymail (basic auth with
    # ANYMAIL_WEBHOOK_SECRET, and the provider's own signature where it has one).
    path("anymail/", include("cadence.messaging.webhook_urls")),
]
