import uuid

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cadence.accounts.models import Team
from cadence.activities.choices import ActivityType
from cadence.core.errors import CadenceError
from cadence.suggestions import actions, rules, services
from cadence.suggestions.api.serializers import (
    AnalysisRunSerializer,
    FindingSerializer,
    SuggestionAcceptSerializer,
    SuggestionRuleSerializer,
    SuggestionSerializer,
)
from cadence.suggestions.choices import SuggestionKind, SuggestionStatus
from cadence.suggestions.models import AnalysisRun, Finding, Suggestion
from cadence.suggestions.selectors import finding_list, rule_list, run_list, suggestion_list


class SuggestionFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=SuggestionStatus.choices)
    kind = filters.MultipleChoiceFilter(choices=SuggestionKind.choices)
    plan_id = filters.UUIDFilter(field_name="plan_id")
    contact_id = filters.UUIDFilter(field_name="contact_id")
    company_id = filters.UUIDFilter(field_name="company_id")
    user_id = filters.UUIDFilter(field_name="user_id")

    class Meta:
        model = Suggestion
        fields = ["status", "kind", "plan_id", "contact_id", "company_id", "user_id"]


class SuggestionViewSet(viewsets.ReadOnlyModelViewSet):
    """Follow-up suggestions: yours, your team's for managers, everyone's for admins. Filter by
    ``status=open`` for the ones waiting on a decision."""

    queryset = Suggestion.objects.none()
    serializer_class = SuggestionSerializer
    filterset_class = SuggestionFilter
    ordering_fields = ["due_at", "created_at", "status"]
    ordering = ["due_at", "suggestion_id"]

    def get_queryset(self):
        return suggestion_list(viewer=self.request.user)

    @extend_schema(request=SuggestionAcceptSerializer, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept: a task with a due date and a reminder for the suggestion's owner, or with
        ``as_step`` the next step of its custom plan."""
        params = SuggestionAcceptSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        suggestion = actions.suggestion_accept(
            suggestion=self.get_object(), actor=request.user, **params.validated_data
        )
        return Response(SuggestionSerializer(suggestion).data)

    @extend_schema(request=None, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Dismiss: it is not made again for the same cause."""
        suggestion = actions.suggestion_dismiss(suggestion=self.get_object(), actor=request.user)
        return Response(SuggestionSerializer(suggestion).data)


_TEAM_PARAM = OpenApiParameter(
    "team_id",
    OpenApiTypes.STR,
    description="A team's ID, or `default` for the organisation's defaults. Your team if absent.",
)


class SuggestionRuleViewSet(viewsets.ViewSet):
    """The rule kinds and their settings per team. Everyone reads their team's; managers change
    their team's, admins any team's and the organisation defaults (``team_id=default``).
    ``DELETE`` returns a team to the defaults."""

    lookup_field = "kind"
    lookup_value_regex = "[a-z_]+"
    serializer_class = SuggestionRuleSerializer

    def _team(self, request) -> Team | None:
        raw = request.query_params.get("team_id")
        viewer = request.user
        if raw is None:
            return viewer.team
        if raw == "default":
            return None
        try:
            team_id = uuid.UUID(raw)
        except ValueError:
            raise CadenceError(
                "team_id must be a team's ID or 'default'.", field="team_id"
            ) from None
        if not viewer.is_admin and team_id != viewer.team_id:
            raise Http404
        try:
            return Team.objects.get(pk=team_id)
        except Team.DoesNotExist:
            raise Http404 from None

    def _rule(self, team, kind) -> dict:
        if kind not in rules.KINDS:
            raise Http404
        return next(rule for rule in rule_list(team=team) if rule["kind"] == kind)

    @extend_schema(parameters=[_TEAM_PARAM], responses=SuggestionRuleSerializer(many=True))
    def list(self, request):
        return Response(
            SuggestionRuleSerializer(rule_list(team=self._team(request)), many=True).data
        )

    @extend_schema(parameters=[_TEAM_PARAM], responses=SuggestionRuleSerializer)
    def retrieve(self, request, kind=None):
        return Response(SuggestionRuleSerializer(self._rule(self._team(request), kind)).data)

    @extend_schema(
        parameters=[_TEAM_PARAM],
        request=SuggestionRuleSerializer,
        responses=SuggestionRuleSerializer,
    )
    def partial_update(self, request, kind=None):
        team = self._team(request)
        self._rule(team, kind)
        body = SuggestionRuleSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.suggestion_rule_set(
            actor=request.user,
            team=team,
            kind=kind,
            enabled=body.validated_data.get("enabled"),
            params=body.validated_data.get("params"),
        )
        return Response(SuggestionRuleSerializer(self._rule(team, kind)).data)

    @extend_schema(parameters=[_TEAM_PARAM], request=None, responses=SuggestionRuleSerializer)
    def destroy(self, request, kind=None):
        team = self._team(request)
        self._rule(team, kind)
        services.suggestion_rule_reset(actor=request.user, team=team, kind=kind)
        return Response(SuggestionRuleSerializer(self._rule(team, kind)).data)


class FindingFilter(filters.FilterSet):
    industry = filters.CharFilter()
    prev_channel = filters.ChoiceFilter(choices=ActivityType.choices)
    channel = filters.ChoiceFilter(choices=ActivityType.choices)

    class Meta:
        model = Finding
        fields = ["industry", "prev_channel", "channel"]


class RecommendationViewSet(viewsets.ReadOnlyModelViewSet):
    """What the newest history analysis found: next touches that work better (or worse) than
    usual for a lead profile, each with its numbers and a sentence. Empty when the analysis
    found nothing with enough evidence; ``analysis-runs/`` says what it read."""

    queryset = Finding.objects.none()
    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    ordering_fields = ["ratio", "rate", "n"]
    ordering = ["-ratio", "finding_id"]

    def get_queryset(self):
        return finding_list()


class AnalysisRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the history analysis (``manage.py analyze_history`` or the nightly task)."""

    queryset = AnalysisRun.objects.none()
    serializer_class = AnalysisRunSerializer
    ordering = ["-started_at"]

    def get_queryset(self):
        return run_list()
