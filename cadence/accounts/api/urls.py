from cadence.accounts.api.views import TeamViewSet, UserViewSet


def register(router) -> None:
    router.register("users", UserViewSet, basename="user")
    router.register("teams", TeamViewSet, basename="team")
