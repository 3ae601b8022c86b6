from django.db import models


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SuggestionKind(models.TextChoices):
    """Where a suggestion comes from: one of the rule kinds, or a finding of the analysis."""

    EMAIL_NO_REPLY = "email_no_reply", "Email without a reply"
    VOICEMAIL_RETRY = "voicemail_retry", "Voicemail left"
    UNANSWERED_CALLS = "unanswered_calls", "Unanswered calls"
    MEETING_NO_SHOW = "meeting_no_show", "Meeting no-show"
    PAUSED_STALE = "paused_stale", "Paused plan gone quiet"
    RECOMMENDATION = "recommendation", "Recommendation from history"


class DelayBucket(models.TextChoices):
    """How long after the previous touch the next one came, in whole days."""

    SAME_DAY = "0", "same day"
    D1_2 = "1-2", "1-2 days"
    D3_5 = "3-5", "3-5 days"
    D6_10 = "6-10", "6-10 days"


class SizeBand(models.TextChoices):
    """Company size in three bands: fine size classes leave too few leads per profile."""

    SMALL = "small", "small companies (1-50)"
    MID = "mid", "mid-size companies (51-500)"
    LARGE = "large", "large companies (501+)"
    UNKNOWN = "unknown", "companies of unknown size"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
