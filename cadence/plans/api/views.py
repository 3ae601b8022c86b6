from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cadence.accounts.models import Team
from cadence.accounts.selectors import can_view_team_work
from cadence.activities import services as activity_services
from cadence.activities.filters import ActivityFilter
from cadence.activities.models import Activity
from cadence.activities.selectors import activity_list
from cadence.core.api.fields import chunked_lookup
from cadence.core.errors import PermissionDeniedError
from cadence.crm.selectors import company_list, contact_list
from cadence.plans import services
from cadence.plans.api.serializers import (
    ActivityLogSerializer,
    AssignResultSerializer,
    AssignSerializer,
    CustomPlanSerializer,
    PlanAbortSerializer,
    PlanPauseSerializer,
    PlanSerializer,
    TaskSerializer,
)
from cadence.plans.assignment import strategy_assign
from cadence.plans.filters import PlanFilter
from cadence.plans.models import LeadContactPlan
from cadence.plans.selectors import TASK_WINDOWS, plan_list, task_list, team_tasks
from cadence.strategies.selectors import strategies_plannable_by


class PlanViewSet(viewsets.ModelViewSet):
    """Lead contact plans: yours, your team's for managers, everyone's for admins.

    The actions (start, pause, resume, abort, skip) answer an illegal transition with a 400
    that says why.
    """

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
        data.setdefault("user", self.request.user)
        serializer.instance = services.plan_create(**data)

    def perform_update(self, serializer):
        serializer.instance = services.plan_update(
            plan=serializer.instance, data=dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        services.plan_delete(plan=instance)

    def _respond(self, plan):
        return Response(PlanSerializer(self.get_queryset().get(pk=plan.pk)).data)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Begin a Not Started plan now."""
        return self._respond(services.plan_start(plan=self.get_object()))

    @extend_schema(request=PlanPauseSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Pause a running plan: no reminders or tasks until it resumes, by hand or at
        ``until``."""
        serializer = PlanPauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = self.get_object()
        return self._respond(services.plan_pause(plan=plan, **serializer.validated_data))

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume a paused plan; its due date moves later by the time spent paused."""
        return self._respond(services.plan_resume(plan=self.get_object()))

    @extend_schema(request=PlanAbortSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def abort(self, request, pk=None):
        """End the plan for good (exit reason ``manual`` unless another is given)."""
        serializer = PlanAbortSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.plan_abort(plan=self.get_object(), **serializer.validated_data)
        return self._respond(plan)

    @extend_schema(request=None, responses=PlanSerializer)
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        """Skip the current step; the next becomes current, due from now."""
        return self._respond(services.plan_skip(plan=self.get_object(), actor=request.user))

    @extend_schema(request=CustomPlanSerializer, responses={201: PlanSerializer})
    @action(detail=False, methods=["post"])
    def custom(self, request):
        """Build a one-off plan with its own steps for one lead."""
        serializer = CustomPlanSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("user", request.user)
        plan = services.plan_create_custom(actor=request.user, **data)
        return Response(
            PlanSerializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class AssignView(APIView):
    """Enroll contacts and companies in a template strategy in one call.

    Each lead that may not be enrolled is listed in ``skipped`` with the reason; the others are
    enrolled regardless.
    """

    @extend_schema(request=AssignSerializer, responses={201: AssignResultSerializer})
    def post(self, request, strategy_pk):
        strategy = get_object_or_404(strategies_plannable_by(viewer=request.user), pk=strategy_pk)
        serializer = AssignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contacts, missing_contacts = chunked_lookup(
            contact_list(viewer=request.user)
            .select_related(None)
            .only("contact_id", "company_id", "opted_out", "email_status"),
            data["contact_ids"],
        )
        companies, missing_companies = chunked_lookup(
            company_list(viewer=request.user).select_related(None).only("company_id"),
            data["company_ids"],
        )
        result = strategy_assign(
            strategy=strategy,
            user=data.get("user", request.user),
            contacts=contacts,
            companies=companies,
            plan_start_date=data.get("plan_start_date"),
            missing=[("contact_id", i) for i in missing_contacts]
            + [("company_id", i) for i in missing_companies],
        )
        body = {
            "enrolled": len(result.enrolled),
            "plan_ids": result.enrolled,
            "skipped": result.skipped,
        }
        return Response(AssignResultSerializer(body).data, status=status.HTTP_201_CREATED)


TASK_SCOPES = ("mine", "team")


class TaskQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=TASK_WINDOWS, required=False)
    days = serializers.IntegerField(min_value=0, max_value=365, default=7)
    scope = serializers.ChoiceField(choices=TASK_SCOPES, default="mine")
    team_id = serializers.PrimaryKeyRelatedField(
        source="team",
        queryset=Team.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
    )

    def validate(self, attrs):
        if attrs.get("team") is not None and attrs["scope"] != "team":
            raise serializers.ValidationError({"team_id": ["A team is picked with scope=team."]})
        return attrs


class TaskViewSet(viewsets.GenericViewSet):
    """Your planned steps: overdue (``window=due``), due ``today`` and ``upcoming`` within
    ``days`` days (default 7), by your time zone; without ``window``, all three.

    ``scope=team`` (managers and admins) lists the tasks of the people you oversee instead:
    your team and yourself, or everyone for admins (``team_id`` narrows it to one team); each
    task's window is by its owner's time zone and ``user_id`` says whose it is. A rep asking for
    it gets a 403."""

    serializer_class = TaskSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("window", OpenApiTypes.STR, enum=list(TASK_WINDOWS)),
            OpenApiParameter("days", OpenApiTypes.INT),
            OpenApiParameter("scope", OpenApiTypes.STR, enum=list(TASK_SCOPES)),
            OpenApiParameter("team_id", OpenApiTypes.UUID),
        ]
    )
    def list(self, request):
        query = TaskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data, now = dict(query.validated_data), timezone.now()
        team = data.pop("team", None)
        if data.pop("scope") == "mine":
            tasks = task_list(user=request.user, now=now, **data)
            return Response(TaskSerializer(tasks, many=True).data)
        if not can_view_team_work(request.user):
            raise PermissionDeniedError("Only managers and admins see their team's tasks.")
        if team is not None and not request.user.is_admin:
            raise PermissionDeniedError("Only admins pick a team; yours is shown without one.")
        window = data.pop("window", None)
        board = team_tasks(
            viewer=request.user,
            now=now,
            team=team,
            windows=(window,) if window else TASK_WINDOWS,
            **data,
        )
        tasks = [task for listed in board.tasks.values() for task in listed]
        # Oldest first across the windows, as for your own tasks.
        tasks.sort(key=lambda task: (task.next_step_due_date, str(task.pk)))
        return Response(TaskSerializer(tasks, many=True).data)


class ActivityViewSet(viewsets.ModelViewSet):
    """Activities: yours, your team's for managers, everyone's for admins.

    Logging one with ``plan_id`` and the plan's current ``step_id`` completes that step and
    advances the plan; a reply, a booked meeting, a bounce or an unsubscribe ends plans by their
    strategy's exit rules.
    """

    queryset = Activity.objects.none()

    serializer_class = ActivityLogSerializer
    filterset_class = ActivityFilter
    search_fields = ["subject", "description"]
    ordering_fields = ["occurred_at", "created_at", "activity_type", "outcome"]
    ordering = ["-occurred_at"]

    def get_queryset(self):
        return activity_list(viewer=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.activity_log(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("skip_to", None)
        serializer.instance = activity_services.activity_update(
            activity=serializer.instance, data=data
        )

    def perform_destroy(self, instance):
        activity_services.activity_delete(activity=instance)
