from django.db import models


class ActivityType(models.TextChoices):
    """The channels of a touch; strategy steps suggest one, activities record one."""

    EMAIL = "Email", "Email"
    CALL = "Call", "Call"
    LINKEDIN_CONNECT = "LinkedIn Connect", "LinkedIn Connect"
    LINKEDIN_MESSAGE = "LinkedIn Message", "LinkedIn Message"
    MEETING = "Meeting", "Meeting"
    SMS = "SMS", "SMS"
    TASK = "Task", "Task"
    OTHER = "Other", "Other"


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class Outcome(models.TextChoices):
    SENT = "Sent", "Sent"
    REPLIED = "Replied", "Replied"
    VOICEMAIL_LEFT = "Voicemail Left", "Voicemail Left"
    NO_ANSWER = "No Answer", "No Answer"
    CONNECTED = "Connected", "Connected"
    MEETING_BOOKED = "Meeting Booked", "Meeting Booked"
    NO_SHOW = "No Show", "No Show"
    BOUNCED = "Bounced", "Bounced"
    UNSUBSCRIBED = "Unsubscribed", "Unsubscribed"
    COMPLETED = "Completed", "Completed"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DISMISSED = "dismissed", "Dismissed"
    SNOOZED = "snoozed", "Snoozed"


class ReminderChannel(models.TextChoices):
    IN_APP = "in_app", "In app"
    EMAIL = "email", "Email"
