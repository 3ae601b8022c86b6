"""The reports' query parameters and answers. Answers serialize the dataclasses of
``cadence.analytics.types`` as they are, so JSON, CSV and the pages show the same numbers."""

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cadence.analytics.reports import MAX_GRACE_HOURS
from cadence.analytics.types import ReportFilter

#: The period a report covers when the request names none.
DEFAULT_PERIOD = datetime.timedelta(days=365)


@extend_schema_field(
    {"type": "string", "description": "An ISO date (UTC midnight) or an ISO date-time."}
)
class DateOrDateTimeField(serializers.Field):
    """An ISO date (its midnight, UTC) or an ISO date-time (UTC when it names no zone)."""

    default_error_messages = {"invalid": "Enter an ISO date (2025-01-31) or date-time."}

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            self.fail("invalid")
        if moment is None and day is None:
            self.fail("invalid")
        if moment is None:
            moment = datetime.datetime.combine(day, datetime.time())
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment

    def to_representation(self, value):
        return value.isoformat()


class ReportQuerySerializer(serializers.Serializer):
    """Query parameters shared by every report."""

    start = DateOrDateTimeField(
        required=False, help_text="Start of the period, inclusive (default: 365 days before end)."
    )
    end = DateOrDateTimeField(
        required=False, help_text="End of the period, exclusive (default: now)."
    )
    team_id = serializers.UUIDField(required=False, help_text="Only plans of this team's users.")
    user_id = serializers.UUIDField(required=False, help_text="Only this user's plans.")
    strategy_id = serializers.UUIDField(required=False, help_text="Only plans of this strategy.")

    def validate(self, attrs):
        end = attrs.get("end") or timezone.now()
        start = attrs.get("start") or end - DEFAULT_PERIOD
        if start >= end:
            raise serializers.ValidationError({"end": ["The period must end after it starts."]})
        attrs["start"], attrs["end"] = start, end
        return attrs

    def to_filter(self) -> ReportFilter:
        data = self.validated_data
        return ReportFilter(
            start=data["start"],
            end=data["end"],
            team_id=data.get("team_id"),
            user_id=data.get("user_id"),
            strategy_id=data.get("strategy_id"),
        )


class GraceQuerySerializer(ReportQuerySerializer):
    """The shared parameters plus the grace period of the lateness tests."""

    grace_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        help_text="Hours after the due time that still count as on time "
        "(default: the CADENCE_ADHERENCE_GRACE_HOURS setting, 24).",
    )


class ExitCountsSerializer(serializers.Serializer):
    finished = serializers.IntegerField()
    opted_out = serializers.IntegerField()
    bounced = serializers.IntegerField()
    aborted = serializers.IntegerField()


class StrategyPerformanceSerializer(serializers.Serializer):
    strategy_id = serializers.UUIDField(allow_null=True)
    strategy_name = serializers.CharField()
    started = serializers.IntegerField()
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    converted = serializers.IntegerField()
    conversion_rate = serializers.FloatField(allow_null=True, help_text="0 to 1.")
    ci_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval, low end.")
    ci_high = serializers.FloatField(allow_null=True, help_text="95% Wilson interval, high end.")
    median_days_to_conversion = serializers.FloatField(allow_null=True)
    exits = ExitCountsSerializer()


class FunnelStepSerializer(serializers.Serializer):
    step_id = serializers.UUIDField()
    step_number = serializers.IntegerField()
    activity_type = serializers.CharField()
    reached = serializers.IntegerField()
    completed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    exited = serializers.IntegerField()
    exits = serializers.DictField(
        child=serializers.IntegerField(), help_text="Plans that ended at the step, by exit reason."
    )
    reply_rate = serializers.FloatField(allow_null=True)
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    late_share = serializers.FloatField(allow_null=True)


class FunnelSerializer(serializers.Serializer):
    strategy_id = serializers.UUIDField()
    strategy_name = serializers.CharField()
    steps = FunnelStepSerializer(many=True)
    biggest_drop = serializers.CharField()
    slowest = serializers.CharField()


class AdherenceRowSerializer(serializers.Serializer):
    key = serializers.UUIDField(allow_null=True, help_text="User or team ID (null: no team).")
    name = serializers.CharField()
    due = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    average_lateness_hours = serializers.FloatField(allow_null=True)
    skipped = serializers.IntegerField()
    overdue = serializers.IntegerField()
    adherence = serializers.FloatField(allow_null=True, help_text="on_time / due, 0 to 1.")


class AdherenceWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    due = serializers.IntegerField()
    on_time = serializers.IntegerField()
    adherence = serializers.FloatField(allow_null=True)


class AdherenceSerializer(serializers.Serializer):
    users = AdherenceRowSerializer(many=True)
    teams = AdherenceRowSerializer(many=True)
    weekly = AdherenceWeekSerializer(many=True)


class EmailOutcomeSerializer(serializers.Serializer):
    strategy_id = serializers.UUIDField(allow_null=True)
    strategy_name = serializers.CharField()
    step_id = serializers.UUIDField(allow_null=True)
    step_number = serializers.IntegerField(allow_null=True)
    sent = serializers.IntegerField()
    replied = serializers.IntegerField()
    bounced = serializers.IntegerField()
    opted_out = serializers.IntegerField()
    uncertain = serializers.IntegerField()
