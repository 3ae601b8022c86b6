"""Web pages: leads (to be built)."""

urlpatterns: list = []
