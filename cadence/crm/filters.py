from django_filters import rest_framework as filters

from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact


class CompanyFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    industry = filters.CharFilter(lookup_expr="iexact")
    size = filters.MultipleChoiceFilter(choices=CompanySize.choices)
    country = filters.CharFilter()
    owner_id = filters.UUIDFilter(field_name="owner")
    team_id = filters.UUIDFilter(field_name="team")

    class Meta:
        model = Company
        fields = ["name", "industry", "size", "country", "owner_id", "team_id"]


class ContactFilter(filters.FilterSet):
    company_id = filters.UUIDFilter(field_name="company")
    owner_id = filters.UUIDFilter(field_name="owner")
    team_id = filters.UUIDFilter(field_name="team")
    email = filters.CharFilter(lookup_expr="iexact")
    email_status = filters.MultipleChoiceFilter(choices=EmailStatus.choices)
    opted_out = filters.BooleanFilter()
    industry = filters.CharFilter(field_name="company__industry", lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = [
            "company_id",
            "owner_id",
            "team_id",
            "email",
            "email_status",
            "opted_out",
            "industry",
        ]
