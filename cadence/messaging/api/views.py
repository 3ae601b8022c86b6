from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cadence.core.api.parsers import DepthLimitedJSONParser
from cadence.core.errors import PermissionDeniedError
from cadence.messaging import services
from cadence.messaging.api.serializers import (
    CapturedMailDetailSerializer,
    CapturedMailSerializer,
    InboundMessageSerializer,
    InboundRawSerializer,
    OutboundMessageSerializer,
    OutboxConfirmSerializer,
    SenderMeSerializer,
    SenderSerializer,
    SuppressionSerializer,
)
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus
from cadence.messaging.inbound import inbound_receive
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import sender_for
from cadence.messaging.selectors import (
    captured_mail_get,
    captured_mail_list,
    inbound_list,
    outbox_list,
    sender_list,
    suppression_list,
)
from cadence.strategies.api.serializers import StrategySerializer
from cadence.strategies.selectors import strategy_list


class OutboxFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=OutboundStatus.choices)
    plan_id = filters.UUIDFilter(field_name="plan_id")
    strategy_id = filters.UUIDFilter(field_name="strategy_id")
    contact_id = filters.UUIDFilter(field_name="contact_id")
    user_id = filters.UUIDFilter(field_name="user_id")

    class Meta:
        model = OutboundMessage
        fields = ["status", "plan_id", "strategy_id", "contact_id", "user_id"]


class OutboxViewSet(viewsets.ReadOnlyModelViewSet):
    """The outbox: automated emails waiting for approval, queued, sent, failed, suppressed,
    cancelled or uncertain. Yours, your team's for managers, everyone's for admins."""

    queryset = OutboundMessage.objects.none()
    serializer_class = OutboundMessageSerializer
    filterset_class = OutboxFilter
    ordering_fields = ["created_at", "send_after", "sent_at", "status"]
    ordering = ["-created_at", "-outbound_message_id"]

    def get_queryset(self):
        return outbox_list(viewer=self.request.user)

    def _respond(self, message):
        return Response(OutboundMessageSerializer(message).data)

    @extend_schema(request=None, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"], url_path="send-now")
    def send_now(self, request, pk=None):
        """Send this automated email now, without waiting for approval or the send window.
        Opt-outs, the personalization check and rate limits still apply; the answer shows
        what happened (``sent``, or why it failed or waits)."""
        message = services.outbox_send_now(message=self.get_object(), actor=request.user)
        return self._respond(message)

    @extend_schema(request=None, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Do not send it; the plan's step stays to be done by hand."""
        return self._respond(services.outbox_cancel(message=self.get_object(), actor=request.user))

    @extend_schema(request=OutboxConfirmSerializer, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Settle an uncertain email: it arrived, or it did not (and goes again)."""
        serializer = OutboxConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.outbox_confirm(
            message=self.get_object(), actor=request.user, **serializer.validated_data
        )
        return self._respond(message)

    @extend_schema(request=None, responses=OutboundMessageSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Queue a failed email again, after fixing what the error names."""
        return self._respond(services.outbox_retry(message=self.get_object(), actor=request.user))


class SuppressionFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = Suppression
        fields = ["email", "reason"]


class SuppressionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Addresses Cadence never emails: anyone may add one; managers lift those added by hand
    or bounced, and only admins lift a recipient's own unsubscribe or complaint."""

    queryset = Suppression.objects.none()
    serializer_class = SuppressionSerializer
    filterset_class = SuppressionFilter
    # Not the note: searching it would tell what other teams' notes say.
    search_fields = ["email"]
    ordering_fields = ["created_at", "email"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return suppression_list(viewer=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        suppression = services.suppression_add(actor=request.user, **serializer.validated_data)
        # Read back through the selector: the address may have been another team's already,
        # whose note this caller may not read.
        suppression = self.get_queryset().get(pk=suppression.pk)
        return Response(SuppressionSerializer(suppression).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.suppression_remove(suppression=instance, actor=self.request.user)


class SenderViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sending settings per user: limits and ramp-up (managers and admins set them), the postal
    address of the footer, and whether automation is paused after a burst of bounces."""

    queryset = Sender.objects.none()
    serializer_class = SenderSerializer
    ordering = ["user__username"]

    def get_queryset(self):
        return sender_list(viewer=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = services.sender_update(
            sender=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    @extend_schema(methods=["GET"], request=None, responses=SenderMeSerializer)
    @extend_schema(methods=["PATCH"], request=SenderMeSerializer, responses=SenderMeSerializer)
    @action(detail=False, methods=["get", "patch"])
    def me(self, request):
        """Your own sending settings. ``PATCH`` sets what is yours: your postal address, and the
        name and signature your emails carry; limits and the ramp are refused (a 400)."""
        sender = sender_for(request.user)
        if request.method == "GET":
            return Response(SenderMeSerializer(sender).data)
        serializer = SenderMeSerializer(sender, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        sender = services.sender_update_own(user=request.user, data=dict(serializer.validated_data))
        return Response(SenderMeSerializer(sender).data)

    @extend_schema(request=None, responses=SenderSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume automated sending after a pause."""
        sender = services.sender_resume_automation(sender=self.get_object(), actor=request.user)
        return Response(SenderSerializer(sender).data)


class InboundFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=InboundKind.choices)
    status = filters.ChoiceFilter(choices=InboundStatus.choices)

    class Meta:
        model = InboundMessage
        fields = ["kind", "status"]


class InboundViewSet(viewsets.ReadOnlyModelViewSet):
    """Mail that came back and what Cadence did with it."""

    queryset = InboundMessage.objects.none()
    serializer_class = InboundMessageSerializer
    filterset_class = InboundFilter
    ordering = ["-created_at"]

    def get_queryset(self):
        return inbound_list(viewer=self.request.user)


class RFC822Parser(BaseParser):
    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"raw": stream.read().decode("utf-8", errors="surrogateescape")}


class InboundRawView(APIView):
    """Hand Cadence one inbound email (a reply, an out-of-office answer, a bounce, a
    complaint) as an RFC 822 message: the request body with ``Content-Type:
    message/rfc822``, or JSON ``{"raw": "..."}``. For managers and admins (a mail server's
    integration); reps log replies as activities.

    The email is matched only to what the caller may see (a manager's team's emails, plans and
    contacts; everything for admins): mail about another team's leads is stored as unmatched
    and changes nothing. The signed webhooks and ``ingest_email`` match organisation-wide."""

    parser_classes = [RFC822Parser, DepthLimitedJSONParser]

    @extend_schema(request=InboundRawSerializer, responses={201: InboundMessageSerializer})
    def post(self, request):
        if not (request.user.is_manager or request.user.is_admin):
            raise PermissionDeniedError("Only managers and admins may hand in raw email.")
        serializer = InboundRawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["raw"].encode("utf-8", errors="surrogateescape")
        record = inbound_receive(raw=raw, source="api", viewer=request.user)
        return Response(InboundMessageSerializer(record).data, status=status.HTTP_201_CREATED)


class StrategyAutomationView(APIView):
    """Approve (or stop) a strategy's automated email steps: the managers of the strategy's
    team (its creator's) and admins. Another team's template, which everyone sees, is a 403;
    a strategy the user may not see is a 404."""

    approve = True

    @extend_schema(request=None, responses=StrategySerializer)
    def post(self, request, pk):
        strategy = get_object_or_404(strategy_list(viewer=request.user), pk=pk)
        if self.approve:
            strategy = services.strategy_approve_automation(strategy=strategy, actor=request.user)
        else:
            strategy = services.strategy_revoke_automation(strategy=strategy, actor=request.user)
        strategy = strategy_list(viewer=request.user).get(pk=strategy.pk)
        return Response(StrategySerializer(strategy).data)


class CapturedMailViewSet(viewsets.ViewSet):
    """Mail captured by the embedded default transport (no mail server configured): what was
    sent, readable here. The automated emails of the plans you may see (yours; your team's for
    managers) and your own reminder emails; all of it for admins. Never decided by the addresses
    in an email, which a user could copy into their profile."""

    lookup_value_regex = r"[0-9A-Za-z-]+"

    @extend_schema(responses=CapturedMailSerializer(many=True))
    def list(self, request):
        mails = captured_mail_list(viewer=request.user)
        return Response(CapturedMailSerializer(mails, many=True).data)

    @extend_schema(responses=CapturedMailDetailSerializer)
    def retrieve(self, request, pk=None):
        message = captured_mail_get(viewer=request.user, name=pk)
        if message is None:
            raise Http404("No such captured email.")
        part = message.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        headers = {name: str(value) for name, value in message.items()}
        return Response(
            CapturedMailDetailSerializer({"name": pk, "headers": headers, "body": body}).data
        )
