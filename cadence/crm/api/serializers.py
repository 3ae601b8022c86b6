from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from cadence.accounts.selectors import teams_shareable_by, users_assignable_by
from cadence.core.api.fields import ScopedRelatedField
from cadence.crm.models import Company, Contact
from cadence.crm.selectors import company_list


class CompanySerializer(serializers.ModelSerializer):
    owner_id = ScopedRelatedField(source="owner", scope=users_assignable_by, required=False)
    team_id = ScopedRelatedField(
        source="team", scope=teams_shareable_by, required=False, allow_null=True
    )
    country = CountryField(required=False, allow_blank=True)

    class Meta:
        model = Company
        fields = [
            "company_id",
            "name",
            "domain",
            "industry",
            "size",
            "country",
            "time_zone",
            "owner_id",
            "team_id",
            "created_at",
            "updated_at",
        ]


class ContactSerializer(serializers.ModelSerializer):
    company_id = ScopedRelatedField(source="company", scope=company_list)
    owner_id = ScopedRelatedField(source="owner", scope=users_assignable_by, required=False)
    team_id = ScopedRelatedField(
        source="team", scope=teams_shareable_by, required=False, allow_null=True
    )
    company_name = serializers.CharField(source="company.name", read_only=True)
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "contact_id",
            "company_id",
            "company_name",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "title",
            "linkedin_url",
            "time_zone",
            "owner_id",
            "team_id",
            "email_status",
            "opted_out",
            "opted_out_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["opted_out", "opted_out_at"]
