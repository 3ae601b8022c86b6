from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cadence.mailboxes import services
from cadence.mailboxes.api.serializers import MailboxConnectSerializer, MailboxSerializer
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.selectors import mailbox_list


class MailboxViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your connected mailbox (a manager sees their team's, without secrets). Connecting logs
    in to both servers first and says what failed; ``DELETE`` disconnects and erases the
    password."""

    serializer_class = MailboxSerializer
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Mailbox.objects.none()
        return mailbox_list(viewer=self.request.user)

    @extend_schema(request=MailboxConnectSerializer, responses={201: MailboxSerializer})
    def create(self, request):
        body = MailboxConnectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        mailbox = services.mailbox_connect(actor=request.user, **body.validated_data)
        return Response(MailboxSerializer(mailbox).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.mailbox_disconnect(mailbox=instance, actor=self.request.user)

    @extend_schema(request=None, responses=MailboxSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        mailbox = services.mailbox_test(mailbox=self.get_object(), actor=request.user)
        return Response(MailboxSerializer(mailbox).data)
