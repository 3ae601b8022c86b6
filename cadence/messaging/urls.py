from django.urls import path

from cadence.messaging.views import unsubscribe

urlpatterns = [
    path("u/<str:token>", unsubscribe, name="unsubscribe"),
]
