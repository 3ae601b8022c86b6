from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import api_token_expires_at, user_email_taken
from cadence.core.errors import CadenceError
from cadence.core.services import model_update

PROFILE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "display_name",
    "signature",
    "time_zone",
    "country",
    "work_day_start",
    "work_day_end",
)
ADMIN_FIELDS = (*PROFILE_FIELDS, "username", "role", "team", "is_active")


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise CadenceError(" ".join(exc.messages), field="password") from exc


def _check_email_free(email: str | None, user: User | None) -> None:
    """A user's email address is no other user's: it is how people are told apart in mail, and
    an address anyone could copy must never decide what they may see. Checked when the address
    is set or changed (case aside), so older duplicates do not block unrelated edits."""
    if not email:
        return
    if user is not None and email.casefold() == (user.email or "").casefold():
        return  # unchanged, or only its case
    if user_email_taken(email=email, exclude=user):
        raise CadenceError("Another user already has this email address.", field="email")


@transaction.atomic
def user_create(*, username: str, password: str | None = None, **fields) -> User:
    """Create a user; without a password the account cannot log in until one is set."""
    user = User(username=username, **fields)
    _check_email_free(fields.get("email"), None)
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, data: dict, fields=ADMIN_FIELDS) -> User:
    """Update a user's profile (``fields`` limits what may change); a password is re-hashed.

    A new password or a deactivation also revokes the user's API token (the password's through
    ``RevokeApiTokenOnPasswordChange``, which sees every way a password is set)."""
    password = data.pop("password", None)
    if "email" in fields and "email" in data:
        _check_email_free(data["email"], user)
    name = data.get("display_name") or ""
    if "display_name" in fields and ("\n" in name or "\r" in name):
        # It goes into the From header of the user's emails, where a line break fails every send.
        raise CadenceError(
            "Your name is one line: it is who your emails come from.", field="display_name"
        )
    user, _ = model_update(instance=user, fields=fields, data=data)
    if password:
        _check_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
    if "is_active" in fields and data.get("is_active") is False:
        api_token_revoke(user=user)
    return user


@transaction.atomic
def user_update_own_profile(*, user: User, data: dict) -> User:
    """A user editing their own profile; a new password needs the current one, so a session
    left open on a shared screen cannot be turned into a taken-over account."""
    current = data.pop("current_password", None)
    if data.get("password") and not user.check_password(current or ""):
        raise CadenceError("Give your current password to set a new one.", field="current_password")
    return user_update(user=user, data=data, fields=PROFILE_FIELDS)


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> User:
    """Users are deactivated, not deleted: their plans and history stay attributed to them."""
    if user.pk == actor.pk:
        raise CadenceError("You cannot deactivate your own account.")
    user, _ = model_update(instance=user, fields=["is_active"], data={"is_active": False})
    # Refused while inactive anyway; revoked so that reactivating does not revive it.
    api_token_revoke(user=user)
    return user


@transaction.atomic
def api_token_issue(*, user: User) -> Token:
    """The user's API token: the one they have, or a new one if they have none or theirs has
    expired. One token per user, so revoking it signs out every client that uses it."""
    token = Token.objects.filter(user=user).first()
    if token is not None:
        expires_at = api_token_expires_at(token)
        if expires_at is None or expires_at > timezone.now():
            return token
        token.delete()
    try:
        with transaction.atomic():
            return Token.objects.create(user=user)
    except IntegrityError:  # issued by a concurrent request meanwhile: one per user
        return Token.objects.get(user=user)


def api_token_revoke(*, user: User) -> bool:
    """Delete the user's API token; returns whether they had one. A client using it is refused
    from the next request; the user gets a new one by signing in again."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


@transaction.atomic
def team_create(*, name: str, description: str = "") -> Team:
    team = Team(name=name, description=description)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def team_update(*, team: Team, data: dict) -> Team:
    team, _ = model_update(instance=team, fields=["name", "description"], data=data)
    return team
