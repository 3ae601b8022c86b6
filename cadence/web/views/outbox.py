"""Web pages: outbox (to be built)."""

urlpatterns: list = []
