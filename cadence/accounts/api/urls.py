from cadence.accounts.api.views import TeamViewSet, UserViewSet


def register(router, *, user_viewset: type[UserViewSet] = UserViewSet) -> None:
    router.register("users", user_viewset, basename="user")
    router.register("teams", TeamViewSet, basename="team")
