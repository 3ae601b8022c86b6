from rest_framework import serializers

from cadence.mailboxes.choices import Provider, Security
from cadence.mailboxes.models import Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    """A connected mailbox and how it is doing. Its password is never part of an answer."""

    user_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Mailbox
        fields = [
            "mailbox_id",
            "user_id",
            "provider",
            "email_address",
            "username",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "status",
            "last_sync_at",
            "last_error",
            "messages_seen",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MailboxConnectSerializer(serializers.Serializer):
    """What connecting a mailbox over IMAP and SMTP takes."""

    provider = serializers.ChoiceField(choices=Provider.choices, default=Provider.IMAP_SMTP)
    email_address = serializers.EmailField(max_length=254)
    username = serializers.CharField(max_length=254)
    password = serializers.CharField(
        max_length=1000, write_only=True, trim_whitespace=False, style={"input_type": "password"}
    )
    imap_host = serializers.CharField(max_length=255)
    imap_port = serializers.IntegerField(min_value=1, max_value=65535, default=993)
    imap_security = serializers.ChoiceField(choices=Security.choices, default=Security.SSL)
    smtp_host = serializers.CharField(max_length=255)
    smtp_port = serializers.IntegerField(min_value=1, max_value=65535, default=587)
    smtp_security = serializers.ChoiceField(choices=Security.choices, default=Security.STARTTLS)
