"""Admin for suggestions: rule settings are edited here (checked like the API does); the
suggestions and the analysis are histories the engine writes, viewed here."""

from django import forms
from django.contrib import admin

from cadence.core.admin import ReadOnlyAdmin
from cadence.suggestions import rules
from cadence.suggestions.models import (
    AnalysisRun,
    Finding,
    RuleWatermark,
    Suggestion,
    SuggestionRule,
)


class SuggestionRuleForm(forms.ModelForm):
    class Meta:
        model = SuggestionRule
        fields = ["team", "kind", "enabled", "params"]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in rules.KINDS:
            try:
                cleaned["params"] = rules.clean_params(kind, cleaned.get("params") or {})
            except ValueError as error:
                self.add_error("params", str(error))
        return cleaned


@admin.register(SuggestionRule)
class SuggestionRuleAdmin(admin.ModelAdmin):
    form = SuggestionRuleForm
    list_display = ("kind", "team", "enabled", "params", "updated_at")
    list_filter = ("kind", "enabled")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "status", "user", "due_at", "created_at")
    list_filter = ("status", "kind")
    list_select_related = ("user",)
    search_fields = ("title", "reason")
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "company", "contact", "plan", "trigger_activity", "finding")


@admin.register(AnalysisRun)
class AnalysisRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "status", "activities", "comparisons", "findings_count")
    list_filter = ("status",)


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("sentence", "ratio", "n", "q_value", "run")
    list_filter = ("prev_channel", "channel", "delay_bucket")
    list_select_related = ("run",)
    search_fields = ("sentence", "industry")


@admin.register(RuleWatermark)
class RuleWatermarkAdmin(ReadOnlyAdmin):
    """How far each time rule's pass has looked; the pass moves it, so it is shown, not edited."""

    list_display = ("kind", "covered_until", "updated_at")
