from rest_framework import serializers


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A UUID reference limited to the rows the requesting user may see.

    ``scope`` is a selector taking ``viewer=``; a reference outside it reads as "does not exist",
    the same answer as for an ID that was never there, so nothing leaks.
    """

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(viewer=request.user)

    def use_pk_only_optimization(self) -> bool:
        return True
