from django_filters import rest_framework as filters

from cadence.activities.choices import ActivityType, Direction, Outcome, ReminderStatus
from cadence.activities.models import Activity, Reminder


class ActivityFilter(filters.FilterSet):
    company_id = filters.UUIDFilter(field_name="company")
    contact_id = filters.UUIDFilter(field_name="contact")
    user_id = filters.UUIDFilter(field_name="user")
    plan_id = filters.UUIDFilter(field_name="plan")
    step_id = filters.UUIDFilter(field_name="step")
    activity_type = filters.MultipleChoiceFilter(choices=ActivityType.choices)
    direction = filters.ChoiceFilter(choices=Direction.choices)
    outcome = filters.MultipleChoiceFilter(choices=Outcome.choices)
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = [
            "company_id",
            "contact_id",
            "user_id",
            "plan_id",
            "step_id",
            "activity_type",
            "direction",
            "outcome",
        ]


class ReminderFilter(filters.FilterSet):
    plan_id = filters.UUIDFilter(field_name="plan")
    user_id = filters.UUIDFilter(field_name="user")
    status = filters.MultipleChoiceFilter(choices=ReminderStatus.choices)
    remind_after = filters.IsoDateTimeFilter(field_name="remind_at", lookup_expr="gte")
    remind_before = filters.IsoDateTimeFilter(field_name="remind_at", lookup_expr="lt")

    class Meta:
        model = Reminder
        fields = ["plan_id", "user_id", "status"]
