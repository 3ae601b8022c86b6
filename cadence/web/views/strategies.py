"""Web pages: strategies (to be built)."""

urlpatterns: list = []
