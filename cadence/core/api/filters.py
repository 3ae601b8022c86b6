from django.db.models import F
from rest_framework.filters import OrderingFilter


class NullsLastOrderingFilter(OrderingFilter):
    """``?ordering=`` with empty values last in both directions, on every database.

    SQLite and PostgreSQL disagree on where NULLs sort; without this, the same request would
    page through plans (whose due date is empty once finished) in a different order on each.
    """

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*(self._nulls_last(term) for term in ordering))

    @staticmethod
    def _nulls_last(term):
        if not isinstance(term, str):
            return term
        if term.startswith("-"):
            return F(term[1:]).desc(nulls_last=True)
        return F(term).asc(nulls_last=True)
