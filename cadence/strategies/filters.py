from django_filters import rest_framework as filters

from cadence.strategies.models import ContactStrategy


class StrategyFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    is_template = filters.BooleanFilter()
    is_archived = filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True
    )
    created_by_user_id = filters.UUIDFilter(field_name="created_by")

    class Meta:
        model = ContactStrategy
        fields = ["name", "is_template", "is_archived", "created_by_user_id"]
