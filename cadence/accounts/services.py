from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from cadence.accounts.models import Team, User
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


@transaction.atomic
def user_create(*, username: str, password: str | None = None, **fields) -> User:
    """Create a user; without a password the account cannot log in until one is set."""
    user = User(username=username, **fields)
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
    """Update a user's profile (``fields`` limits what may change); a password is re-hashed."""
    password = data.pop("password", None)
    user, _ = model_update(instance=user, fields=fields, data=data)
    if password:
        _check_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
    return user


@transaction.atomic
def user_update_own_profile(*, user: User, data: dict) -> User:
    """A user editing their own profile; a new password needs the current one, so a session
    left open on a shared screen cannot be turned into a taken-over account."""
    current = data.pop("current_password", None)
    if data.get("password") and not user.check_password(current or ""):
        raise CadenceError("Give your current password to set a new one.", field="current_password")
    return user_update(user=user, data=data, fields=PROFILE_FIELDS)


def user_deactivate(*, user: User, actor: User) -> User:
    """Users are deactivated, not deleted: their plans and history stay attributed to them."""
    if user.pk == actor.pk:
        raise CadenceError("You cannot deactivate your own account.")
    user, _ = model_update(instance=user, fields=["is_active"], data={"is_active": False})
    return user


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
