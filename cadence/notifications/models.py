import secrets

from django.conf import settings
from django.db import models

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.notifications.choices import DeliveryStatus


def new_calendar_token() -> str:
    """A fresh unguessable token: the only secret protecting a calendar feed."""
    return secrets.token_urlsafe(32)


class Notification(TimestampedModel):
    """An in-app notification: a line in a user's inbox, most often that a reminder came due.

    ``remind_at`` records which delivery time of the reminder it announces: a reminder delivered
    at 09:00 and, after a snooze, again at 14:00 makes two notifications, but a reminder never
    makes two for the same time, however often or concurrently the delivery pass runs.
    """

    notification_id = uuid_primary_key("notification ID")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    reminder = models.ForeignKey(
        "activities.Reminder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    remind_at = models.DateTimeField(
        null=True, blank=True, help_text="The reminder's delivery time this notification is for."
    )
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True, default="")
    url = models.CharField(
        max_length=500, blank=True, default="", help_text="Where the notification leads."
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at", "-notification_id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent_idx"),
            # The unread badge counts these on every page; the partial index stays small.
            models.Index(
                fields=["user"],
                name="notification_user_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "remind_at"],
                condition=models.Q(reminder__isnull=False),
                name="notification_one_per_reminder_time",
            ),
            # A NULL time would slip past the unique constraint above.
            models.CheckConstraint(
                condition=models.Q(reminder__isnull=True) | models.Q(remind_at__isnull=False),
                name="notification_reminder_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


#: The header that carries an ``EmailDelivery``'s ID in the email it sends: a captured copy of
#: the email is its user's to read, whatever address it went to.
REMINDER_EMAIL_HEADER = "X-Cadence-Reminder-Email"


class EmailDelivery(TimestampedModel):
    """One email telling a user that a reminder came due, and how far it got.

    There is at most one per reminder and delivery time. The message is written when the
    reminder comes due and sent afterwards: a sender claims the row (``pending`` to ``sending``)
    with a conditional update before handing it to the mail server, so it goes out at most once.
    """

    email_delivery_id = uuid_primary_key("email delivery ID")
    reminder = models.ForeignKey(
        "activities.Reminder", on_delete=models.CASCADE, related_name="email_deliveries"
    )
    remind_at = models.DateTimeField(help_text="The reminder's delivery time this email is for.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_deliveries"
    )
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a sender last took the message to send it."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "email_deliveries"
        verbose_name_plural = "email deliveries"
        ordering = ["-created_at"]
        indexes = [
            # Senders look only for waiting or stuck rows; sent ones pile up outside the index.
            models.Index(
                fields=["status", "created_at"],
                name="email_delivery_open_idx",
                condition=models.Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "remind_at"], name="email_delivery_one_per_reminder_time"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="email_delivery_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to_email} ({self.status})"


class CalendarFeed(TimestampedModel):
    """A user's private iCalendar feed of due and upcoming steps, for calendar apps to subscribe.

    The token in its URL is the only credential (calendar apps cannot sign in), so it is long and
    random, and rotating it cuts off every subscription made with the old one.
    """

    calendar_feed_id = uuid_primary_key("calendar feed ID")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)

    class Meta:
        db_table = "calendar_feeds"
        ordering = ["user"]

    def __str__(self) -> str:
        return f"Calendar of {self.user}"
