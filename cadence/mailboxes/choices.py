from django.db import models


class Provider(models.TextChoices):
    IMAP_SMTP = "imap_smtp", "IMAP and SMTP"
    GOOGLE = "google", "Google"
    MICROSOFT = "microsoft", "Microsoft 365"


class Security(models.TextChoices):
    """How a connection to a mail server is protected."""

    SSL = "ssl", "SSL/TLS from the start"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (testing only)"


class MailboxStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    SYNCING = "syncing", "Syncing"
    BROKEN = "broken", "Broken"
