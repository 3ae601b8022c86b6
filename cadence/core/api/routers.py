from rest_framework.routers import DefaultRouter

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class Router(DefaultRouter):
    """Routes detail URLs by UUID only, so a malformed ID is a plain 404 from URL resolution."""

    include_format_suffixes = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        viewset.lookup_value_regex = getattr(viewset, "lookup_value_regex", UUID_PATTERN)
        return super().get_lookup_regex(viewset, lookup_prefix)
