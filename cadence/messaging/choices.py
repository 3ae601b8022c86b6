from django.db import models


class OutboundStatus(models.TextChoices):
    """Where an automated email is on its way out.

    ``sending`` is claimed by a worker; ``uncertain`` means it may have reached the mail server
    without the send being recorded, so only a person may decide whether it went.
    """

    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELLED = "cancelled", "Cancelled"
    UNCERTAIN = "uncertain", "Uncertain"


#: A row in one of these states will not change by itself any more.
SETTLED_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.FAILED,
    OutboundStatus.SUPPRESSED,
    OutboundStatus.CANCELLED,
    OutboundStatus.UNCERTAIN,
)


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    MANUAL = "manual", "Added by hand"


class InboundKind(models.TextChoices):
    REPLY = "reply", "Reply"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    BOUNCE = "bounce", "Bounce"
    COMPLAINT = "complaint", "Complaint"
    RECEIPT = "receipt", "Read receipt"


class InboundStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    UNMATCHED = "unmatched", "Unmatched"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
