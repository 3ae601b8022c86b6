from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cadence.core.api.permissions import CanModifyObject
from cadence.core.errors import PermissionDeniedError
from cadence.strategies import services
from cadence.strategies.api.serializers import (
    StepReorderSerializer,
    StrategySerializer,
    StrategyStepSerializer,
    TemplatePreviewResultSerializer,
    TemplatePreviewSerializer,
)
from cadence.strategies.filters import StrategyFilter
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.rendering import render_text, sample_context, template_context
from cadence.strategies.selectors import strategy_can_edit, strategy_list


class StrategyViewSet(viewsets.ModelViewSet):
    """Contact strategies (cadences) with their steps.

    Every user sees every template; custom strategies are seen with the plans that use them.
    Only the creator, the manager of their team and admins change a strategy.
    """

    queryset = ContactStrategy.objects.none()

    serializer_class = StrategySerializer
    permission_classes = [CanModifyObject]
    filterset_class = StrategyFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at", "step_count"]
    ordering = ["name"]

    def get_queryset(self):
        return strategy_list(viewer=self.request.user).prefetch_related(
            Prefetch("steps", queryset=StrategyStep.objects.order_by("step_number"))
        )

    def can_modify(self, user, obj) -> bool:
        return strategy_can_edit(user, obj)

    def perform_create(self, serializer):
        serializer.instance = services.strategy_create(
            created_by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.strategy_update(
            strategy=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.strategy_delete(strategy=instance)

    def _reloaded(self, strategy):
        return self.get_serializer(self.get_queryset().get(pk=strategy.pk)).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(self._reloaded(serializer.instance), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        super().update(request, *args, **kwargs)
        return Response(self._reloaded(self.get_object()))

    @extend_schema(request=None, responses=StrategySerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the strategy: its running plans go on, it takes no new ones."""
        strategy = services.strategy_archive(strategy=self.get_object(), archived=True)
        return Response(self._reloaded(strategy))

    @extend_schema(request=None, responses=StrategySerializer)
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        strategy = services.strategy_archive(strategy=self.get_object(), archived=False)
        return Response(self._reloaded(strategy))


class StrategyStepViewSet(viewsets.ModelViewSet):
    """The steps of one strategy, in order. Creating a step at a taken ``step_number`` inserts
    it there; ``reorder`` renumbers them all in one call."""

    serializer_class = StrategyStepSerializer
    permission_classes = [CanModifyObject]
    pagination_class = None
    filter_backends = []

    def get_strategy(self):
        strategy = get_object_or_404(
            strategy_list(viewer=self.request.user), pk=self.kwargs["strategy_pk"]
        )
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and not strategy_can_edit(
            self.request.user, strategy
        ):
            raise PermissionDeniedError("You may see this strategy but not change it.")
        return strategy

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StrategyStep.objects.none()
        return self.get_strategy().steps.select_related("strategy").order_by("step_number")

    def perform_create(self, serializer):
        serializer.instance = services.step_create(
            strategy=self.get_strategy(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.step_update(
            step=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.step_delete(step=instance)

    @extend_schema(request=StepReorderSerializer, responses=StrategyStepSerializer(many=True))
    @action(detail=False, methods=["post"])
    def reorder(self, request, strategy_pk=None):
        """Give every step's ID in the new order; they are renumbered 1..n at once."""
        serializer = StepReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = services.steps_reorder(
            strategy=self.get_strategy(), step_ids=serializer.validated_data["step_ids"]
        )
        return Response(StrategyStepSerializer(steps, many=True).data)


class TemplatePreviewView(APIView):
    """Render a subject and body template as a contact would receive them."""

    @extend_schema(request=TemplatePreviewSerializer, responses=TemplatePreviewResultSerializer)
    def post(self, request):
        serializer = TemplatePreviewSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = data.get("contact")
        if contact is None:
            context = sample_context(user=request.user)
        else:
            context = template_context(contact=contact, company=contact.company, user=request.user)
        subject = render_text(data["subject_template"], context)
        body = render_text(data["description_template"], context)
        # A template can pass the check on the sample lead and still fail on a real contact.
        failed = {
            field: [text.problem]
            for field, text in (("subject_template", subject), ("description_template", body))
            if text.problem
        }
        if failed:
            raise ValidationError(failed)
        result = {
            "subject": subject,
            "body": body,
            "contact_id": contact.pk if contact else None,
            "sample": contact is None,
        }
        return Response(TemplatePreviewResultSerializer(result).data)
