from django.db import models


class DeliveryStatus(models.TextChoices):
    """Where an email is on its way out. ``sending`` is claimed and being handed to the mail
    server; a row that stays there past a timeout becomes ``failed``, never ``pending`` again, so
    no message can go out twice."""

    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
