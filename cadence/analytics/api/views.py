"""The reports over HTTP: JSON by default, CSV with ``?format=csv``.

Each view validates the query (a 400 naming the parameter, never a 500), calls one report and
serializes the dataclasses it returns. What the viewer may see is decided by the reports, from
the plans' users; a strategy's funnel is a 404 when the strategy is not visible to the viewer.
"""

import io

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from cadence.analytics import reports
from cadence.analytics.api.serializers import (
    AdherenceRowSerializer,
    AdherenceSerializer,
    EmailOutcomeSerializer,
    FunnelSerializer,
    FunnelStepSerializer,
    GraceQuerySerializer,
    ReportQuerySerializer,
    StrategyPerformanceSerializer,
)
from cadence.core.csv_export import csv_writer
from cadence.plans.choices import ExitReason
from cadence.strategies.selectors import strategy_list


class CSVRenderer(BaseRenderer):
    """Renders a table (``{"columns": [...], "rows": [[...], ...]}``) as CSV with a header row.
    Anything else (an error answer) becomes ``field,message`` rows, so a 400 stays readable.
    Text that a spreadsheet would run as a formula is neutralised (``cadence.core.csv_export``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        writer = csv_writer(out)
        if isinstance(data, dict) and set(data) == {"columns", "rows"}:
            writer.writerow(data["columns"])
            for row in data["rows"]:
                writer.writerow("" if value is None else value for value in row)
        elif isinstance(data, dict):
            writer.writerow(["field", "message"])
            for key, value in data.items():
                messages = value if isinstance(value, list) else [value]
                for message in messages:
                    writer.writerow([key, message])
        return out.getvalue().encode(self.charset)


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="csv for a CSV file with a header row; JSON otherwise.",
)


def report_schema(*, query, serializer, description: str):
    """The OpenAPI description shared by the report endpoints: the query parameters, and the
    JSON and CSV answers."""
    return extend_schema(
        parameters=[query, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): serializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The report as CSV."),
            400: OpenApiResponse(description="A query parameter is invalid; the answer names it."),
        },
        description=description,
    )


class ReportView(APIView):
    """Validates the query, runs the report, and answers JSON or CSV."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    query_serializer_class = ReportQuerySerializer
    csv_filename = "report"

    def get(self, request, **kwargs):
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = self.run_report(request, query, **kwargs)
        if request.accepted_renderer.format == CSVRenderer.format:
            disposition = f'attachment; filename="{self.csv_filename}.csv"'
            return Response(self.csv_table(result), headers={"Content-Disposition": disposition})
        return Response(self.serialize(result))

    def run_report(self, request, query, **kwargs):
        raise NotImplementedError

    def serialize(self, result):
        raise NotImplementedError

    def csv_table(self, result) -> dict:
        raise NotImplementedError


def _fields(serializer_class) -> list[str]:
    return list(serializer_class().fields)


class StrategyPerformanceView(ReportView):
    csv_filename = "strategy-performance"
    exit_keys = list(reports.EXIT_KEYS)

    @report_schema(
        query=ReportQuerySerializer,
        serializer=StrategyPerformanceSerializer(many=True),
        description="Strategies side by side over the plans that started in the period: "
        "started, active, completed, converted, conversion rate with a 95% Wilson interval, "
        "median days to conversion and exits by reason.",
    )
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def run_report(self, request, query, **kwargs):
        return reports.strategy_performance(viewer=request.user, filters=query.to_filter())

    def serialize(self, result):
        return StrategyPerformanceSerializer(result, many=True).data

    def csv_table(self, result) -> dict:
        columns = [f for f in _fields(StrategyPerformanceSerializer) if f != "exits"]
        rows = [
            [getattr(item, f) for f in columns] + [item.exits.get(k, 0) for k in self.exit_keys]
            for item in result
        ]
        return {"columns": columns + [f"exits_{k}" for k in self.exit_keys], "rows": rows}


class FunnelView(ReportView):
    query_serializer_class = GraceQuerySerializer
    csv_filename = "funnel"
    exit_keys = [reason.value for reason in ExitReason if reason != ExitReason.FINISHED]

    @report_schema(
        query=GraceQuerySerializer,
        serializer=FunnelSerializer,
        description="Each step of one strategy for the plans that started in the period: "
        "reached, completed, skipped, exited (by reason), reply rate after it, median and 90th "
        "percentile hours spent on it and the share done late; the biggest drop-off and the "
        "slowest step in words. 404 when the strategy is not visible to you. The CSV has one "
        "row per step.",
    )
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def run_report(self, request, query, pk=None):
        strategy = get_object_or_404(strategy_list(viewer=request.user), pk=pk)
        return reports.step_funnel(
            viewer=request.user,
            filters=query.to_filter(),
            strategy=strategy,
            grace_hours=query.validated_data.get("grace_hours"),
        )

    def serialize(self, result):
        return FunnelSerializer(result).data

    def csv_table(self, result) -> dict:
        columns = [f for f in _fields(FunnelStepSerializer) if f != "exits"]
        rows = [
            [result.strategy_id, result.strategy_name]
            + [getattr(step, f) for f in columns]
            + [step.exits.get(k, 0) for k in self.exit_keys]
            for step in result.steps
        ]
        header = ["strategy_id", "strategy_name", *columns, *(f"exits_{k}" for k in self.exit_keys)]
        return {"columns": header, "rows": rows}


class AdherenceView(ReportView):
    query_serializer_class = GraceQuerySerializer
    csv_filename = "adherence"

    @report_schema(
        query=GraceQuerySerializer,
        serializer=AdherenceSerializer,
        description="Planned steps that fell due in the period, per user, per team and per "
        "week: on time (within the grace period), late (with the mean lateness), skipped and "
        "still overdue, and the adherence (on time / due). The CSV has a section column "
        "(user, team, week).",
    )
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def run_report(self, request, query, **kwargs):
        return reports.adherence(
            viewer=request.user,
            filters=query.to_filter(),
            grace_hours=query.validated_data.get("grace_hours"),
        )

    def serialize(self, result):
        return AdherenceSerializer(result).data

    def csv_table(self, result) -> dict:
        fields = _fields(AdherenceRowSerializer)
        rows = [["user", *(getattr(row, f) for f in fields), None] for row in result.users]
        rows += [["team", *(getattr(row, f) for f in fields), None] for row in result.teams]
        for week in result.weekly:
            values = {"due": week.due, "on_time": week.on_time, "adherence": week.adherence}
            rows.append(["week", *(values.get(f) for f in fields), week.week_start])
        return {"columns": ["section", *fields, "week_start"], "rows": rows}


class EmailOutcomeView(ReportView):
    csv_filename = "email-outcomes"

    @report_schema(
        query=ReportQuerySerializer,
        serializer=EmailOutcomeSerializer(many=True),
        description="Automated emails sent in the period (sent_at; hand-off time for uncertain "
        "ones), per strategy and step: sent, replied, bounced, opted out and uncertain.",
    )
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)

    def run_report(self, request, query, **kwargs):
        return reports.email_outcomes(viewer=request.user, filters=query.to_filter())

    def serialize(self, result):
        return EmailOutcomeSerializer(result, many=True).data

    def csv_table(self, result) -> dict:
        columns = _fields(EmailOutcomeSerializer)
        return {
            "columns": columns,
            "rows": [[getattr(item, f) for f in columns] for item in result],
        }
