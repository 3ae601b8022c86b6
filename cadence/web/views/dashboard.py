"""Web pages: dashboard (to be built)."""

urlpatterns: list = []
