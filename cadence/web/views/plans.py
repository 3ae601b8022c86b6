"""Web pages: plans (to be built)."""

urlpatterns: list = []
