from collections.abc import Callable, Mapping

from django.contrib.auth import update_session_auth_hash
from django.db.models import Count
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cadence.accounts import services
from cadence.accounts.api.serializers import (
    ApiTokenSerializer,
    MeSerializer,
    TeamScopedUserSerializer,
    TeamSerializer,
    UserSerializer,
)
from cadence.accounts.choices import Role
from cadence.accounts.login_throttle import client_address, login_throttle_wait
from cadence.accounts.models import Team, User
from cadence.accounts.selectors import team_list, user_list


class ReadForAllWriteForAdmins(IsAuthenticated):
    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or request.user.is_admin


class UserFilter(filters.FilterSet):
    team_id = filters.UUIDFilter(field_name="team")
    role = filters.ChoiceFilter(choices=Role.choices)
    is_active = filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["team_id", "role", "is_active"]


class UserViewSet(viewsets.ModelViewSet):
    """Users and their profiles. Admins manage everyone; others see their team, read-only.

    ``DELETE`` deactivates the account: plans and history stay attributed to the user.
    """

    queryset = User.objects.none()
    #: What apps above accounts add to ``/users/me/``: functions of (request, user) returning
    #: fields. ``cadence/api_urls.py``, which imports every app, names them in a subclass.
    me_extras: tuple[Callable[[Request, User], dict], ...] = ()

    permission_classes = [ReadForAllWriteForAdmins]
    filterset_class = UserFilter
    search_fields = ["username", "email", "first_name", "last_name", "display_name"]
    ordering_fields = ["username", "email", "created_at", "last_login"]
    ordering = ["username"]

    def get_queryset(self):
        return user_list(viewer=self.request.user)

    def get_object(self):
        # The one route here with no ID in its URL that edits an object is ``/users/me/``: its
        # object is the signed-in user. DRF's OPTIONS answer asks for it to describe PUT (the
        # action is then "metadata", not "me") and failed, a 500, before this.
        if not self.detail:
            return self.request.user
        return super().get_object()

    def get_serializer_class(self):
        if self.action == "me":
            return MeSerializer
        if self.request.user.is_authenticated and not self.request.user.is_admin:
            return TeamScopedUserSerializer
        return UserSerializer

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            user=serializer.instance, data=dict(serializer.validated_data)
        )

    def destroy(self, request, *args, **kwargs):
        services.user_deactivate(user=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _me(self, request, user) -> dict:
        data = dict(MeSerializer(user, context={"request": request}).data)
        for extra in self.me_extras:
            data.update(extra(request, user))
        return data

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    @action(detail=False, methods=["get", "put", "patch"], permission_classes=[IsAuthenticated])
    def me(self, request):
        """The signed-in user's own profile; everyone may read and edit theirs."""
        if request.method == "GET":
            return Response(self._me(request, request.user))
        serializer = MeSerializer(
            request.user,
            data=request.data,
            partial=request.method == "PATCH",
            context={"request": request},
        )
        serializer.is_valid(raise_exception=True)
        user = services.user_update_own_profile(
            user=request.user, data=dict(serializer.validated_data)
        )
        if "password" in serializer.validated_data:
            # Keep the session that made the change signed in; other sessions end.
            update_session_auth_hash(request, user)
        return Response(self._me(request, user))


class TeamViewSet(viewsets.ModelViewSet):
    """Teams. Admins manage them; other users see their own team."""

    queryset = Team.objects.none()

    serializer_class = TeamSerializer
    permission_classes = [ReadForAllWriteForAdmins]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return team_list(viewer=self.request.user).annotate(member_count=Count("members"))

    def perform_create(self, serializer):
        serializer.instance = services.team_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.team_update(
            team=serializer.instance, data=dict(serializer.validated_data)
        )


class ApiTokenView(ObtainAuthToken):
    """Your API token. ``POST`` a username and password for it (the same token until it expires
    after ``CADENCE_API_TOKEN_DAYS``, is revoked, or the password changes); ``DELETE``, signed in,
    revokes it.

    Failed attempts count towards the sign-in throttle: past it, ``POST`` answers 429 with a
    ``Retry-After`` header until the cool-down has passed, even for the right password."""

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: ApiTokenSerializer, 429: OpenApiResponse(description="Cooling down.")},
    )
    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        username = data.get("username")
        wait = login_throttle_wait(
            username=username if isinstance(username, str) else None,
            address=client_address(request),
        )
        if wait:
            raise Throttled(wait=wait, detail="Too many failed sign-in attempts.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.api_token_issue(user=serializer.validated_data["user"])
        return Response(ApiTokenSerializer(token).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, *args, **kwargs):
        services.api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
