import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django_countries.fields import CountryField

from cadence.accounts.choices import Role
from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.core.validators import validate_time_zone


class Team(TimestampedModel):
    """A group of users led by its managers; companies and contacts can be shared with a team."""

    team_id = uuid_primary_key("team ID")
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True, default="")

    class Meta:
        db_table = "teams"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CadenceUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who works leads: Django's auth user carrying the profile Cadence needs.

    The profile lives on the user row rather than a one-to-one table: every request reads it
    (role, team, time zone) and a join for each would buy nothing.
    """

    user_id = uuid_primary_key("user ID")
    display_name = models.CharField(max_length=255, blank=True, default="")
    signature = models.TextField(
        blank=True, default="", help_text="Email signature, available to templates."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    country = CountryField(blank=True, help_text="Whose public holidays count as days off.")
    work_day_start = models.TimeField(default=datetime.time(9, 0))
    work_day_end = models.TimeField(default=datetime.time(17, 0))
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CadenceUserManager()

    class Meta:
        db_table = "users"
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(work_day_start__lt=models.F("work_day_end")),
                name="user_work_day_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER
