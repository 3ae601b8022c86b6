from django.utils import timezone
from rest_framework import serializers

from cadence.messaging.limits import daily_limit
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression
from cadence.messaging.services import SENDER_LIMIT_FIELDS
from cadence.scheduling.zones import resolve_zone, to_local


class OutboundMessageSerializer(serializers.ModelSerializer):
    """An automated email in the outbox, as rendered when it was queued or sent."""

    plan_id = serializers.UUIDField(read_only=True)
    step_id = serializers.UUIDField(read_only=True, allow_null=True)
    step_number = serializers.IntegerField(source="step.step_number", read_only=True, default=None)
    strategy_id = serializers.UUIDField(read_only=True, allow_null=True)
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, default="")
    company_id = serializers.UUIDField(read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    activity_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = OutboundMessage
        fields = [
            "outbound_message_id",
            "plan_id",
            "step_id",
            "step_number",
            "strategy_id",
            "contact_id",
            "contact_name",
            "company_id",
            "company_name",
            "user_id",
            "status",
            "to_email",
            "subject",
            "body",
            "error",
            "send_after",
            "send_now",
            "handoff_at",
            "sent_at",
            "message_id",
            "attempts",
            "activity_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OutboxConfirmSerializer(serializers.Serializer):
    sent = serializers.BooleanField(
        help_text="true: it arrived (recorded as sent); false: it did not (sent again)."
    )


class SuppressionSerializer(serializers.ModelSerializer):
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by_user_id = serializers.UUIDField(
        source="created_by_id", read_only=True, allow_null=True
    )
    note = serializers.CharField(
        max_length=2000,
        allow_blank=True,
        required=False,
        help_text="Why it was added; empty when note_visible is false.",
    )
    note_visible = serializers.BooleanField(
        read_only=True,
        default=False,
        help_text="Whether you may read the note: a person's note is for their team and admins "
        "(Cadence's own notes for everyone). The address itself is everyone's to see.",
    )

    class Meta:
        model = Suppression
        fields = [
            "suppression_id",
            "email",
            "reason",
            "note",
            "note_visible",
            "contact_id",
            "created_by_user_id",
            "created_at",
        ]
        read_only_fields = ["reason", "contact_id", "created_by_user_id", "created_at"]
        # The case-insensitive uniqueness is the service's: adding an address twice keeps one.
        validators = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # ``note_visible`` comes from ``suppression_list``; an entry read any other way keeps
        # its note to itself.
        if not data["note_visible"]:
            data["note"] = ""
        return data


def _count(*, read_only: bool = False) -> serializers.IntegerField:
    """A sending limit: a number of emails, or null for the organisation's default."""
    if read_only:
        return serializers.IntegerField(read_only=True, allow_null=True)
    return serializers.IntegerField(min_value=0, max_value=100_000, allow_null=True, required=False)


class SenderSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    daily_limit = _count()
    hourly_limit = _count()
    ramp_start = _count()
    ramp_step = _count()
    postal_address = serializers.CharField(max_length=1000, allow_blank=True, required=False)
    today_limit = serializers.SerializerMethodField()

    class Meta:
        model = Sender
        fields = [
            "sender_id",
            "user_id",
            "daily_limit",
            "hourly_limit",
            "ramp_started_on",
            "ramp_start",
            "ramp_step",
            "today_limit",
            "postal_address",
            "automation_paused_at",
            "automation_paused_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["automation_paused_at", "automation_paused_reason"]

    def get_today_limit(self, sender) -> int:
        today = to_local(timezone.now(), resolve_zone(sender.user.time_zone)).date()
        return daily_limit(sender, today=today)


class SenderMeSerializer(SenderSerializer):
    """Your own sending: the postal address of your emails' footer, and the name and signature
    they carry. Limits, the ramp and the automation pause are your manager's or an admin's to set
    (``/senders/{id}/``): sent here, they are refused with a 400 rather than ignored."""

    daily_limit = _count(read_only=True)
    hourly_limit = _count(read_only=True)
    ramp_start = _count(read_only=True)
    ramp_step = _count(read_only=True)
    postal_address = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        required=False,
        help_text="Printed in every automated email's footer; blank uses the organisation's.",
    )
    display_name = serializers.CharField(
        source="user.display_name",
        max_length=255,
        allow_blank=True,
        required=False,
        help_text="The name your emails come from; blank uses your first and last name.",
    )
    signature = serializers.CharField(
        source="user.signature",
        max_length=10_000,
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        help_text="Your email signature, available to templates as {{ user.signature }}.",
    )

    class Meta(SenderSerializer.Meta):
        fields = [*SenderSerializer.Meta.fields, "display_name", "signature"]
        read_only_fields = [
            "sender_id",
            "ramp_started_on",
            "automation_paused_at",
            "automation_paused_reason",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        refused = {
            name: [
                "Your manager or an admin sets this, on /api/v1/senders/{id}/."
                if name in SENDER_LIMIT_FIELDS
                else "This is not yours to change here."
            ]
            for name in self.initial_data
            if name in self.fields and self.fields[name].read_only
        }
        if refused:
            raise serializers.ValidationError(refused)
        # Flatten the user's fields: the service takes one set of names.
        return {**attrs.pop("user", {}), **attrs}


class InboundMessageSerializer(serializers.ModelSerializer):
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    plan_id = serializers.UUIDField(read_only=True, allow_null=True)
    outbound_message_id = serializers.UUIDField(read_only=True, allow_null=True)
    activity_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = InboundMessage
        fields = [
            "inbound_message_id",
            "message_id",
            "source",
            "kind",
            "status",
            "from_address",
            "subject",
            "text",
            "note",
            "outbound_message_id",
            "contact_id",
            "plan_id",
            "activity_id",
            "created_at",
        ]
        read_only_fields = fields


class InboundRawSerializer(serializers.Serializer):
    raw = serializers.CharField(
        max_length=10 * 1024 * 1024, trim_whitespace=False, help_text="The RFC 822 message."
    )


class CapturedMailSerializer(serializers.Serializer):
    name = serializers.CharField()
    subject = serializers.CharField()
    from_address = serializers.CharField()
    to = serializers.ListField(child=serializers.CharField())
    date = serializers.CharField()
    size = serializers.IntegerField()


class CapturedMailDetailSerializer(serializers.Serializer):
    name = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.CharField()
