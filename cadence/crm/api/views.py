from rest_framework import viewsets

from cadence.core.api.permissions import CanModifyObject
from cadence.crm import services
from cadence.crm.api.serializers import CompanySerializer, ContactSerializer
from cadence.crm.filters import CompanyFilter, ContactFilter
from cadence.crm.models import Company, Contact
from cadence.crm.selectors import company_list, contact_list, lead_can_delete


class LeadPermission(CanModifyObject):
    message = "Only the owner, their manager or an admin may delete this."


class LeadViewSetMixin:
    permission_classes = [LeadPermission]

    def can_modify(self, user, obj) -> bool:
        return self.request.method != "DELETE" or lead_can_delete(user, obj)


class CompanyViewSet(LeadViewSetMixin, viewsets.ModelViewSet):
    """Companies you own, that are shared with your team, or (managers) that your team owns."""

    queryset = Company.objects.none()

    serializer_class = CompanySerializer
    filterset_class = CompanyFilter
    search_fields = ["name", "domain", "industry"]
    ordering_fields = ["name", "industry", "size", "created_at", "updated_at"]
    ordering = ["name"]

    def get_queryset(self):
        return company_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.company_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.company_update(
            actor=self.request.user,
            company=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        services.company_delete(company=instance)


class ContactViewSet(LeadViewSetMixin, viewsets.ModelViewSet):
    """Contacts, with the same visibility as companies."""

    queryset = Contact.objects.none()

    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["first_name", "last_name", "email", "title", "company__name"]
    ordering_fields = ["last_name", "first_name", "email", "created_at", "updated_at"]
    ordering = ["last_name", "first_name"]

    def get_queryset(self):
        return contact_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(
            actor=self.request.user,
            contact=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)
