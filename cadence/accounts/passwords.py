"""Password hooks: what else changes when a password does."""

from __future__ import annotations

from cadence.accounts.models import User
from cadence.accounts.services import api_token_revoke


class RevokeApiTokenOnPasswordChange:
    """Revokes the user's API token whenever their password changes, by whatever way: the API,
    the admin's password page, ``manage.py changepassword``, a reset.

    Listed in ``AUTH_PASSWORD_VALIDATORS`` for Django's ``password_changed`` hook, which
    ``User.save()`` calls after every ``set_password()`` (a hash upgrade at sign-in is not a
    change and does not call it). It validates nothing. A new password is what someone does
    when they fear the old one is known; a token obtained with the old one must not outlive it.
    """

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is not None and user.pk is not None:
            api_token_revoke(user=user)

    def get_help_text(self) -> str:
        return "Changing your password also revokes your API token."
