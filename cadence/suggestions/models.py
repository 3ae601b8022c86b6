from django.conf import settings
from django.db import models

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.suggestions.choices import (
    DelayBucket,
    RunStatus,
    SizeBand,
    SuggestionKind,
    SuggestionStatus,
)


class SuggestionRule(TimestampedModel):
    """A team's settings for one kind of rule: on or off, and its thresholds (``params``).

    The row without a team holds the organisation's defaults; a team's own row overrides them.
    What a kind does and which parameters it takes is code (``suggestions.rules``); how it is
    tuned is this data.
    """

    rule_id = uuid_primary_key("rule ID")
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestion_rules",
    )
    kind = models.CharField(max_length=30, choices=SuggestionKind.choices)
    enabled = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "suggestion_rules"
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "kind"],
                condition=models.Q(team__isnull=False),
                name="suggestion_rule_once_per_team",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(team__isnull=True),
                name="suggestion_rule_once_as_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.team or 'default'})"


class RuleWatermark(TimestampedModel):
    """How far a time rule's scheduler step has looked: every silence that came due, and every
    activity logged, up to ``covered_until`` has been considered.

    The next pass starts there, so a scheduler that was down for days catches up on all it
    missed, and each pass reads only what is new. Moved forward, never back, and only by a
    step that finished.
    """

    watermark_id = uuid_primary_key("watermark ID")
    kind = models.CharField(max_length=30, choices=SuggestionKind.choices, unique=True)
    covered_until = models.DateTimeField()

    class Meta:
        db_table = "suggestion_rule_watermarks"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} covered until {self.covered_until:%Y-%m-%d %H:%M}"


class AnalysisRun(TimestampedModel):
    """One pass of the history analysis: what it read, how many comparisons it made, and how
    many findings survived the false-discovery control. The newest finished run is current."""

    run_id = uuid_primary_key("run ID")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    activities = models.BigIntegerField(default=0, help_text="Activities read.")
    touches = models.BigIntegerField(
        default=0, help_text="Outbound touches that followed an earlier touch within 10 days."
    )
    comparisons = models.IntegerField(default=0, help_text="Tests made (cells with enough data).")
    findings_count = models.IntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    summary = models.TextField(blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "analysis_runs"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "-started_at"], name="analysis_run_status_idx")]

    def __str__(self) -> str:
        return f"Analysis {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class Finding(TimestampedModel):
    """A next touch whose response rate differs from its profile's baseline with enough
    evidence: for leads of a profile (industry, size band, previous touch), a ``channel`` sent
    ``delay_bucket`` after the previous touch got a reply ``rate`` of the time against the
    baseline of the profile's other next touches."""

    finding_id = uuid_primary_key("finding ID")
    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="findings")
    industry = models.CharField(max_length=100, blank=True, default="", help_text="'' = any")
    size_band = models.CharField(
        max_length=10, choices=SizeBand.choices, blank=True, default="", help_text="'' = any"
    )
    prev_channel = models.CharField(max_length=100)
    prev_outcome = models.CharField(max_length=50, blank=True, default="")
    channel = models.CharField(max_length=100)
    delay_bucket = models.CharField(max_length=5, choices=DelayBucket.choices)
    n = models.IntegerField()
    responses = models.IntegerField()
    rate = models.FloatField()
    ci_low = models.FloatField()
    ci_high = models.FloatField()
    baseline_n = models.IntegerField()
    baseline_responses = models.IntegerField()
    baseline_rate = models.FloatField()
    ratio = models.FloatField()
    p_value = models.FloatField()
    q_value = models.FloatField(help_text="Benjamini-Hochberg adjusted p-value.")
    sentence = models.TextField()

    class Meta:
        db_table = "findings"
        ordering = ["-ratio"]
        indexes = [
            models.Index(fields=["run", "prev_channel", "prev_outcome"], name="finding_prev_idx")
        ]

    def __str__(self) -> str:
        return self.sentence

    @property
    def is_positive(self) -> bool:
        return self.ratio > 1


class Suggestion(TimestampedModel):
    """A proposed next action for a user, in plain words, with the reason behind it: made by
    a rule from an activity (or a quiet spell), or from a finding of the analysis.

    ``dedupe_key`` names what made it (rule, plan or lead, triggering activity); the database
    refuses a second suggestion with the same key, so generating again never duplicates one.
    """

    suggestion_id = uuid_primary_key("suggestion ID")
    kind = models.CharField(max_length=30, choices=SuggestionKind.choices)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestions"
    )
    company = models.ForeignKey("crm.Company", on_delete=models.CASCADE, related_name="suggestions")
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="suggestions"
    )
    plan = models.ForeignKey(
        "plans.LeadContactPlan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestions",
    )
    trigger_activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestions",
    )
    finding = models.ForeignKey(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )
    activity_type = models.CharField(
        max_length=100, blank=True, default="", help_text="The suggested channel."
    )
    due_at = models.DateTimeField(help_text="When the suggested action should happen.")
    title = models.CharField(max_length=255)
    reason = models.TextField()
    dedupe_key = models.CharField(max_length=200, unique=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_reason = models.CharField(max_length=255, blank=True, default="")
    reminder = models.ForeignKey(
        "activities.Reminder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
        help_text="The task made when the suggestion was accepted.",
    )
    step = models.ForeignKey(
        "strategies.StrategyStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggestions",
        help_text="The custom plan's step made when the suggestion was accepted.",
    )

    class Meta:
        db_table = "suggestions"
        ordering = ["due_at", "suggestion_id"]
        indexes = [
            models.Index(fields=["user", "status", "due_at"], name="suggestion_user_open_idx"),
            models.Index(
                fields=["contact"],
                name="suggestion_open_contact_idx",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["company"],
                name="suggestion_open_company_idx",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["plan", "status"], name="suggestion_plan_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=SuggestionStatus.values),
                name="suggestion_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title
