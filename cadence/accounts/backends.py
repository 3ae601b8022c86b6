"""Authentication backends: the sign-in throttle's gate, asked before the password is checked."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from cadence.accounts.login_throttle import client_address, login_throttle_wait


class LoginThrottleBackend:
    """Refuses every sign-in for a username or from an address that is cooling down after too
    many failures (``cadence.accounts.login_throttle``), before any password is checked.

    Listed first in ``AUTHENTICATION_BACKENDS``: raising ``PermissionDenied`` makes
    ``authenticate()`` stop without asking the backends after it. Otherwise it answers
    ``None`` and ``ModelBackend`` checks the password as before. It has no ``get_user``: it never
    signs anyone in, so sessions keep naming the backend that did, and stay valid.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if login_throttle_wait(username=username, address=client_address(request)):
            raise PermissionDenied("Too many failed sign-in attempts.")
        return None

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )
