import datetime

from django_countries.serializer_fields import CountryField
from rest_framework import serializers
from rest_framework.authtoken.models import Token

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import api_token_expires_at


class TeamSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Team
        fields = ["team_id", "name", "description", "member_count", "created_at", "updated_at"]
        extra_kwargs = {"description": {"max_length": 10_000}}


class UserSerializer(serializers.ModelSerializer):
    """A user and their profile, as admins manage them."""

    team_id = serializers.PrimaryKeyRelatedField(
        source="team",
        queryset=Team.objects.all(),
        pk_field=serializers.UUIDField(),
        allow_null=True,
        required=False,
    )
    country = CountryField(required=False, allow_blank=True)
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}, max_length=128
    )

    class Meta:
        model = User
        fields = [
            "user_id",
            "username",
            "email",
            "first_name",
            "last_name",
            "display_name",
            "signature",
            "time_zone",
            "country",
            "work_day_start",
            "work_day_end",
            "role",
            "team_id",
            "is_active",
            "password",
            "last_login",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["last_login", "created_at", "updated_at"]
        extra_kwargs = {"signature": {"max_length": 10_000}}

    def validate(self, attrs):
        # A value neither given nor stored is the model's default, so that on creation an end
        # alone is still checked against the default start (and a start against the default end).
        start, end = (
            attrs.get(name, getattr(self.instance, name, User._meta.get_field(name).get_default()))
            for name in ("work_day_start", "work_day_end")
        )
        if start and end and start >= end:
            raise serializers.ValidationError(
                {"work_day_end": ["The working day must end after it starts."]}
            )
        return attrs


class MeSerializer(UserSerializer):
    """The signed-in user's own profile: role, team and status are the admins' to change."""

    team_id = serializers.UUIDField(source="team.pk", read_only=True, allow_null=True)
    calendar_url = serializers.URLField(
        read_only=True,
        help_text="Secret address of your calendar feed of due and upcoming steps; "
        "POST /api/v1/users/me/rotate-calendar/ replaces it.",
    )
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        max_length=128,
        style={"input_type": "password"},
        help_text="Required with a new password.",
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "calendar_url", "current_password"]
        read_only_fields = [
            "username",
            "role",
            "team_id",
            "is_active",
            "last_login",
            "created_at",
            "updated_at",
        ]


class TeamScopedUserSerializer(UserSerializer):
    """What non-admins see of their teammates: the profile, read-only."""

    class Meta(UserSerializer.Meta):
        fields = [f for f in UserSerializer.Meta.fields if f != "password"]
        read_only_fields = fields


class ApiTokenSerializer(serializers.Serializer):
    """An API token, to send as ``Authorization: Token <token>``."""

    token = serializers.CharField(source="key", read_only=True)
    expires_at = serializers.SerializerMethodField(
        help_text="When it stops working (CADENCE_API_TOKEN_DAYS); null if never."
    )

    def get_expires_at(self, token: Token) -> datetime.datetime | None:
        return api_token_expires_at(token)


__all__ = [
    "ApiTokenSerializer",
    "MeSerializer",
    "TeamScopedUserSerializer",
    "TeamSerializer",
    "UserSerializer",
]
