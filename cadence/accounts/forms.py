"""Forms of Django's sign-in pages and user admin, with Cadence's account rules added."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AdminUserCreationForm, AuthenticationForm, UserChangeForm

from cadence.accounts.login_throttle import (
    client_address,
    login_throttle_wait,
    login_throttled_message,
)
from cadence.accounts.selectors import user_email_taken


class ThrottledLoginMixin:
    """Says why a sign-in is refused during a cool-down. The refusal itself is the
    authentication backend's; without this the page would only say the password was wrong.
    ``throttled`` tells a template which of the two to show."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username")
        wait = login_throttle_wait(username=username, address=client_address(self.request))
        if wait:
            self.throttled = True
            raise forms.ValidationError(login_throttled_message(wait), code="throttled")
        return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The sign-in form of the web app and of the browsable API."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in form."""


class UniqueEmailMixin:
    """An email address, when changed, must be no other user's (ignoring case), as the
    services require (``user_update``)."""

    def clean_email(self):
        email = self.cleaned_data.get("email") or ""
        current = self.instance.email if self.instance.pk else ""
        changed = email and email.casefold() != (current or "").casefold()
        if changed and user_email_taken(email=email, exclude=self.instance):
            raise forms.ValidationError("Another user already has this email address.")
        return email


class UserAdminChangeForm(UniqueEmailMixin, UserChangeForm):
    pass


class UserAdminCreationForm(UniqueEmailMixin, AdminUserCreationForm):
    pass
