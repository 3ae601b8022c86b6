"""API authentication: DRF's token, with an expiry."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from cadence.accounts.selectors import api_token_expires_at


class ExpiringTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refused once the token is ``CADENCE_API_TOKEN_DAYS`` old
    (0: never). A token copied from a laptop or a log stays useful for that long at most; the
    owner gets a new one from ``POST /api/v1/auth/token/``. DRF already refuses the tokens of
    inactive users."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        expires_at = api_token_expires_at(token)
        if expires_at is not None and expires_at <= timezone.now():
            raise AuthenticationFailed(
                "The token has expired; get a new one with POST /api/v1/auth/token/."
            )
        return user, token
