"""Signing in and out, the user's settings (calendar feed, sender address), notifications."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from cadence.accounts.forms import LoginForm
from cadence.messaging.models import Sender
from cadence.messaging.outbox import sender_for
from cadence.messaging.services import sender_update
from cadence.notifications import services as notification_services
from cadence.notifications.selectors import notification_list
from cadence.web.forms import PostalAddressForm


class LoginView(auth_views.LoginView):
    """Sign in; the form says so when the sign-in throttle refuses an attempt."""

    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """The calendar feed address (with rotation) and the footer address of automated email."""
    sender: Sender = sender_for(request.user)
    form = PostalAddressForm(
        request.POST or None, initial={"postal_address": sender.postal_address}
    )
    if request.method == "POST" and form.is_valid():
        sender_update(sender=sender, actor=request.user, data=form.cleaned_data)
        messages.success(request, "Your postal address is saved.")
        return redirect("web-settings")
    feed = notification_services.calendar_feed_for(user=request.user)
    calendar_url = request.build_absolute_uri(reverse("calendar-feed", args=[feed.token]))
    return render(
        request,
        "web/account/settings.html",
        {"form": form, "calendar_url": calendar_url, "sender": sender},
    )


@login_required
@require_POST
def rotate_calendar(request):
    notification_services.calendar_feed_rotate(user=request.user)
    messages.success(request, "Your calendar has a new address; the old one no longer works.")
    return redirect("web-settings")


@login_required
def notifications_page(request):
    page = Paginator(notification_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "web/account/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read_all(request):
    notification_services.notifications_mark_all_read(user=request.user)
    return redirect("web-notifications")


urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", settings_page, name="web-settings"),
    path("settings/rotate-calendar/", rotate_calendar, name="web-rotate-calendar"),
    path("notifications/", notifications_page, name="web-notifications"),
    path("notifications/read-all/", notifications_read_all, name="web-notifications-read-all"),
]
