"""Signing in and out, the user's settings (calendar feed, mailbox, sender address),
notifications."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cadence.accounts.forms import LoginForm
from cadence.core.errors import CadenceError
from cadence.mailboxes import oauth
from cadence.mailboxes import services as mailbox_services
from cadence.mailboxes.choices import Security
from cadence.mailboxes.selectors import mailbox_list
from cadence.messaging.models import Sender
from cadence.messaging.outbox_checks import sender_for
from cadence.messaging.services import sender_update
from cadence.notifications import services as notification_services
from cadence.notifications.selectors import notification_list
from cadence.web.forms import PostalAddressForm, show_service_error


class MailboxForm(forms.Form):
    """Connecting a mailbox over IMAP and SMTP with a password or app password."""

    email_address = forms.EmailField(label="Email address", max_length=254)
    username = forms.CharField(label="Username", max_length=254)
    password = forms.CharField(
        label="Password or app password",
        max_length=1000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    imap_host = forms.CharField(label="IMAP server", max_length=255)
    imap_port = forms.IntegerField(label="IMAP port", min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(
        label="IMAP security", choices=Security.choices, initial=Security.SSL
    )
    smtp_host = forms.CharField(label="SMTP server", max_length=255)
    smtp_port = forms.IntegerField(label="SMTP port", min_value=1, max_value=65535, initial=587)
    smtp_security = forms.ChoiceField(
        label="SMTP security", choices=Security.choices, initial=Security.STARTTLS
    )


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
    return _render_settings(request, form=form, sender=sender)


def _own_mailbox(user):
    return mailbox_list(viewer=user).filter(user=user).first()


def _render_settings(request, *, form=None, sender=None, mailbox_form=None, status=200):
    sender = sender or sender_for(request.user)
    form = form or PostalAddressForm(initial={"postal_address": sender.postal_address})
    feed = notification_services.calendar_feed_for(user=request.user)
    calendar_url = request.build_absolute_uri(reverse("calendar-feed", args=[feed.token]))
    mailbox = _own_mailbox(request.user)
    oauth_providers = [] if mailbox else oauth.providers_configured()
    context = {
        "form": form,
        "calendar_url": calendar_url,
        "sender": sender,
        "mailbox": mailbox,
        "mailbox_form": mailbox_form or (None if mailbox else MailboxForm()),
        "oauth_providers": oauth_providers,
    }
    response = render(request, "web/account/settings.html", context, status=status)
    if oauth_providers:
        # A Connect button's form is answered with a redirect to the provider, which the
        # policy's form-action 'self' would stop (browsers apply it to a form's redirects).
        origins = {_origin(provider.authorize_url) for provider in oauth_providers}
        response._csp_update = {"form-action": sorted(origins)}
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@login_required
@require_POST
def mailbox_connect(request):
    """Connect the user's mailbox: the service logs in to both servers first, and its refusal
    is shown beside the field it names (the password is never shown again)."""
    form = MailboxForm(request.POST)
    if form.is_valid():
        try:
            mailbox_services.mailbox_connect(actor=request.user, **form.cleaned_data)
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, "Your mailbox is connected.")
            return redirect("web-settings")
    return _render_settings(request, mailbox_form=form, status=400)


def _oauth_redirect_uri(provider: str) -> str:
    """The callback address, the one registered with the provider: from CADENCE_SITE_URL, not
    the request, so that it is the same behind any proxy."""
    path_ = reverse("web-mailbox-oauth-callback", args=[provider])
    return settings.CADENCE_SITE_URL.rstrip("/") + path_


@login_required
@require_POST
def mailbox_oauth_start(request, provider):
    """A Connect button: send the browser to the provider's consent page."""
    try:
        url = oauth.authorization_start(
            session=request.session,
            user_id=request.user.pk,
            provider=provider,
            redirect_uri=_oauth_redirect_uri(provider),
        )
    except oauth.OAuthFlowError as exc:
        messages.error(request, f"Your mailbox is not connected: {exc.message}")
        return redirect(reverse("web-settings") + "#mailbox")
    return redirect(url)


@login_required
@require_GET
def mailbox_oauth_callback(request, provider):
    """Where the provider sends the browser back: check the sign-in, then connect the mailbox
    (the service logs in to both servers first). Every failure is a message on the settings
    page."""
    try:
        grant = oauth.authorization_finish(
            session=request.session,
            user_id=request.user.pk,
            provider=provider,
            params=request.GET,
            redirect_uri=_oauth_redirect_uri(provider),
            now=timezone.now(),
        )
        mailbox = mailbox_services.mailbox_connect_oauth(actor=request.user, grant=grant)
    except oauth.OAuthFlowError as exc:
        messages.error(request, f"Your mailbox is not connected: {exc.message}")
    except (CadenceError, ValidationError) as exc:
        text = exc.message if isinstance(exc, CadenceError) else " ".join(exc.messages)
        messages.error(request, f"Your mailbox is not connected: {text}")
    else:
        messages.success(request, f"Your mailbox {mailbox.email_address} is connected.")
    return redirect(reverse("web-settings") + "#mailbox")


@login_required
@require_POST
def mailbox_test(request, pk):
    mailbox = get_object_or_404(mailbox_list(viewer=request.user).filter(user=request.user), pk=pk)
    try:
        mailbox_services.mailbox_test(mailbox=mailbox, actor=request.user)
    except CadenceError as exc:
        messages.error(request, f"Your mailbox cannot be reached: {exc.message}")
    else:
        messages.success(request, "Both servers accepted your login.")
    return redirect("web-settings")


@login_required
@require_POST
def mailbox_disconnect(request, pk):
    mailbox = get_object_or_404(mailbox_list(viewer=request.user).filter(user=request.user), pk=pk)
    mailbox_services.mailbox_disconnect(mailbox=mailbox, actor=request.user)
    messages.success(request, "Your mailbox is disconnected, and its password or tokens erased.")
    return redirect("web-settings")


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
    path("settings/mailbox/", mailbox_connect, name="web-mailbox-connect"),
    path(
        "settings/mailbox/oauth/<str:provider>/start/",
        mailbox_oauth_start,
        name="web-mailbox-oauth-start",
    ),
    path(
        "settings/mailbox/oauth/<str:provider>/callback/",
        mailbox_oauth_callback,
        name="web-mailbox-oauth-callback",
    ),
    path("settings/mailbox/<uuid:pk>/test/", mailbox_test, name="web-mailbox-test"),
    path(
        "settings/mailbox/<uuid:pk>/disconnect/", mailbox_disconnect, name="web-mailbox-disconnect"
    ),
    path("notifications/", notifications_page, name="web-notifications"),
    path("notifications/read-all/", notifications_read_all, name="web-notifications-read-all"),
]
