from rest_framework import viewsets

from cadence.plans import services
from cadence.plans.api.serializers import PlanSerializer
from cadence.plans.filters import PlanFilter
from cadence.plans.models import LeadContactPlan
from cadence.plans.selectors import plan_list


class PlanViewSet(viewsets.ModelViewSet):
    """Lead contact plans: yours, your team's for managers, everyone's for admins."""

    queryset = LeadContactPlan.objects.none()

    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    ordering_fields = [
        "next_step_due_date",
        "plan_start_date",
        "status",
        "created_at",
        "updated_at",
    ]
    ordering = ["next_step_due_date", "plan_start_date"]

    def get_queryset(self):
        return plan_list(viewer=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("status", None)
        data.setdefault("user", self.request.user)
        serializer.instance = services.plan_create(**data)

    def perform_update(self, serializer):
        serializer.instance = services.plan_update(
            plan=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.plan_delete(plan=instance)
