"""What the strategy editor's views share: fetching a strategy with the viewer's rights, the
settings and step forms (with the placeholder picker and the live template preview), the steps as
a timeline, and rendering the whole editor or only its list of steps.

The editor's views are in ``strategies`` (the strategy itself) and ``strategy_steps`` (its steps
and the preview); both build their pages from here.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from cadence.activities.choices import ActivityType
from cadence.crm.selectors import contact_list
from cadence.plans.choices import ACTIVE_STATUSES
from cadence.strategies import services
from cadence.strategies.models import ContactStrategy, StrategyStep
from cadence.strategies.rendering import (
    PLACEHOLDERS,
    render_text,
    sample_context,
    template_context,
    template_problems,
)
from cadence.strategies.selectors import (
    step_list,
    strategy_can_approve_automation,
    strategy_can_edit,
    strategy_list,
)
from cadence.suggestions.selectors import ALTERNATIVE, CONTRADICTS, SUPPORTS, step_findings

#: The preview's contact select offers this many of the user's contacts (a select of thousands
#: helps nobody); the sample lead is always there.
PREVIEW_CONTACTS = 200
TEMPLATE_FIELDS = ("subject_template", "description_template")
READ_ONLY = "You may see this strategy but not change it."
#: How a step card introduces each kind of note from the history analysis.
FINDING_LABELS = {
    SUPPORTS: "Supported by history",
    CONTRADICTS: "History suggests otherwise",
    ALTERNATIVE: "Better after this step",
}
#: When the live preview refreshes: half a second after typing stops. ``input`` also catches a
#: paste with the mouse or a value set by a password manager or test driver, which fire no keyup;
#: both events share one delay, so a keystroke still makes a single request.
TYPING = "keyup changed delay:500ms, input changed delay:500ms"


#: Listed first in the picker: the fields most templates start with.
_FIRST_FIELDS = ("first_name", "name", "display_name")


def _placeholder_choices() -> list:
    """The template names as the picker offers them, grouped by object. Methods are left out:
    ``display_name`` says what ``get_full_name()`` would."""
    grouped, loose = [], []
    for name, fields in PLACEHOLDERS.items():
        if fields is None:
            loose.append("{{ " + name + " }}")
            continue
        ordered = sorted(fields, key=lambda field: (field not in _FIRST_FIELDS, field))
        tags = [
            "{{ " + f"{name}.{field}" + " }}" for field in ordered if not field.startswith("get_")
        ]
        grouped.append((name.capitalize(), [(tag, tag) for tag in tags]))
    return [*grouped, ("Other", [(tag, tag) for tag in loose])]


PLACEHOLDER_CHOICES = _placeholder_choices()
PLACEHOLDER_VALUES = {value for _, options in PLACEHOLDER_CHOICES for value, _ in options}


# -- Forms ---------------------------------------------------------------------------------------


class StrategySettingsForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    uses_business_days = forms.BooleanField(label="Count delays in business days", required=False)
    send_window_start = forms.TimeField(
        label="Send window start",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Earliest local time of the contact for automated sends.",
    )
    send_window_end = forms.TimeField(
        label="Send window end",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    exit_on_reply = forms.BooleanField(label="End the plan on a reply", required=False)
    exit_on_meeting_booked = forms.BooleanField(
        label="End the plan when a meeting is booked", required=False
    )
    exit_on_bounce = forms.BooleanField(label="End the plan on a bounce", required=False)
    pause_company_on_reply = forms.BooleanField(
        label="Pause the company's other plans on a reply", required=False
    )
    exclusive = forms.BooleanField(
        label="Exclusive: enroll no contact active in another strategy", required=False
    )
    cooldown_days = forms.IntegerField(
        label="Cooldown (days)",
        required=False,
        min_value=0,
        max_value=3650,
        help_text="Enroll no contact whose last plan started fewer days ago. Blank for none.",
    )

    @classmethod
    def for_strategy(cls, strategy: ContactStrategy) -> StrategySettingsForm:
        return cls(initial={name: getattr(strategy, name) for name in cls.base_fields})


class StepForm(forms.Form):
    """One step's content, plus two inputs that are never saved: the placeholder to insert and
    the lead to preview the templates for."""

    activity_type = forms.ChoiceField(label="Activity type", choices=ActivityType.choices)
    delay_days = forms.IntegerField(
        label="Delay (days)",
        min_value=0,
        max_value=3650,
        initial=0,
        help_text="After the previous step; for step 1, after the plan starts.",
    )
    is_automated = forms.BooleanField(label="Send automatically (email steps)", required=False)
    subject_template = forms.CharField(label="Subject template", required=False, max_length=255)
    description_template = forms.CharField(
        label="Body template",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    placeholder = forms.ChoiceField(label="Placeholder", required=False, choices=())
    preview_contact = forms.ChoiceField(label="Preview for", required=False, choices=())

    def __init__(
        self,
        *args,
        strategy: ContactStrategy,
        contact_choices: list,
        step: StrategyStep | None = None,
        **kwargs,
    ):
        kwargs.setdefault("prefix", f"s{step.pk.hex}" if step is not None else "new")
        super().__init__(*args, **kwargs)
        # A type of the strategy's own (imported, or from the API) stays choosable for its step.
        if step is not None and step.activity_type not in ActivityType.values:
            self.fields["activity_type"].choices = [
                *ActivityType.choices,
                (step.activity_type, step.activity_type),
            ]
        self.fields["placeholder"].choices = PLACEHOLDER_CHOICES
        self.fields["preview_contact"].choices = contact_choices
        preview = {
            "hx-post": reverse("web-strategy-preview", args=[strategy.pk]),
            "hx-target": f"#{self.prefix}-preview",
            "hx-swap": "innerHTML",
        }
        for name in TEMPLATE_FIELDS:
            self.fields[name].widget.attrs.update(preview, **{"hx-trigger": TYPING})
        self.fields["preview_contact"].widget.attrs.update(preview, **{"hx-trigger": "change"})

    def _checked(self, name: str) -> str:
        value = self.cleaned_data[name]
        problems = template_problems(value)
        if problems:
            raise ValidationError(problems)
        return value

    def clean_subject_template(self) -> str:
        return self._checked("subject_template")

    def clean_description_template(self) -> str:
        return self._checked("description_template")

    def step_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.STEP_FIELDS}

    @classmethod
    def for_step(cls, step: StrategyStep, **kwargs) -> StepForm:
        initial = {name: getattr(step, name) for name in services.STEP_FIELDS}
        return cls(initial=initial, step=step, strategy=step.strategy, **kwargs)


# -- Helpers -------------------------------------------------------------------------------------


def delay_words(days: int, business: bool) -> str:
    if days == 0:
        return "Same day"
    unit = "business day" if business else "day"
    return f"+{days} {unit}{'' if days == 1 else 's'}"


def strategy_for(request, pk) -> ContactStrategy:
    return get_object_or_404(strategy_list(viewer=request.user), pk=pk)


def editable_strategy(request, pk) -> ContactStrategy:
    strategy = strategy_for(request, pk)
    if not strategy_can_edit(request.user, strategy):
        raise PermissionDenied(READ_ONLY)
    return strategy


def _contact_choices(request) -> list:
    """The preview's leads, computed once per request however many step forms are shown."""
    if not hasattr(request, "_strategy_preview_contacts"):
        contacts = contact_list(viewer=request.user).order_by(
            "last_name", "first_name", "contact_id"
        )[:PREVIEW_CONTACTS]
        request._strategy_preview_contacts = [
            ("", "Sample lead (Ada Lovelace)"),
            *((str(c.pk), f"{c} ({c.company.name})") for c in contacts),
        ]
    return request._strategy_preview_contacts


def step_form(request, strategy, step=None, data=None) -> StepForm:
    kwargs = {"contact_choices": _contact_choices(request)}
    if data is None and step is not None:
        form = StepForm.for_step(step, **kwargs)
    else:
        form = StepForm(data, strategy=strategy, step=step, **kwargs)
    form.preview = template_preview(
        request,
        form.prefix,
        _form_value(form, "subject_template"),
        _form_value(form, "description_template"),
        _form_value(form, "preview_contact"),
    )
    return form


def _form_value(form: forms.Form, name: str) -> str:
    return form[name].value() or ""


def template_preview(request, prefix: str, subject: str, body: str, contact_id: str) -> dict:
    """The templates rendered for one of the user's contacts, or the sample lead, with what is
    wrong with them (the same checks as saving)."""
    contact, notice = None, ""
    if contact_id:
        try:
            contact = contact_list(viewer=request.user).filter(pk=uuid.UUID(contact_id)).first()
        except ValueError:
            contact = None
        if contact is None:
            notice = "That contact is not available; showing the sample lead."
    if contact is None:
        context, lead = sample_context(user=request.user), "Sample lead (Ada Lovelace)"
    else:
        context = template_context(contact=contact, company=contact.company, user=request.user)
        lead = f"{contact} ({contact.company.name})"
    problems = [f"Subject: {p}" for p in template_problems(subject)]
    problems += [f"Body: {p}" for p in template_problems(body)]
    rendered_subject, rendered_body = render_text(subject, context), render_text(body, context)
    checked_clean = not problems
    for label, text in (("Subject", rendered_subject), ("Body", rendered_body)):
        if text.problem and checked_clean:
            problems.append(f"{label} for this lead: {text.problem}")
    return {
        "prefix": prefix,
        "lead": lead,
        "notice": notice,
        "problems": problems,
        "subject": rendered_subject,
        "body": rendered_body,
        "empty": not subject and not body,
    }


def timeline(strategy: ContactStrategy, steps, forms_by_step: dict | None = None) -> list[dict]:
    """Each step with its delay in words and the day of the plan it falls on, counting the
    plan's start as day 1 (in business days when the strategy counts those), and what the
    history analysis says about it."""
    # A first step has no step before it to be judged after, so one step needs no analysis.
    notes = step_findings(steps) if len(steps) > 1 else {}
    entries, day, count = [], 1, len(steps)
    for index, step in enumerate(steps):
        day += step.delay_days
        entries.append(
            {
                "step": step,
                "number": index + 1,
                "first": index == 0,
                "last": index == count - 1,
                "delay": delay_words(step.delay_days, strategy.uses_business_days),
                "after": "after the start" if index == 0 else f"after step {index}",
                "day": day,
                "form": (forms_by_step or {}).get(step.pk),
                "findings": [
                    {"verdict": verdict, "label": FINDING_LABELS[verdict], "finding": finding}
                    for verdict, finding in notes.get(step.pk, ())
                ],
            }
        )
    return entries


def steps_context(request, strategy, *, forms_by_step=None, message="", **extra) -> dict:
    steps = list(step_list(strategy=strategy))
    return {
        "strategy": strategy,
        "can_edit": strategy_can_edit(request.user, strategy),
        "entries": timeline(strategy, steps, forms_by_step),
        "steps_message": message,
        **extra,
    }


def render_editor(request, strategy, *, status=200, **parts):
    """The whole editor page; ``parts`` are forms with errors to show instead of fresh ones."""
    can_edit = strategy_can_edit(request.user, strategy)
    editing = parts.pop("editing", None)
    context = steps_context(request, strategy, forms_by_step=editing)
    if can_edit:
        context["add_form"] = parts.get("add_form") or step_form(request, strategy)
        context["settings_form"] = parts.get("settings_form") or StrategySettingsForm.for_strategy(
            strategy
        )
    context["active_plans"] = strategy.plans.filter(status__in=ACTIVE_STATUSES).count()
    context["can_approve"] = strategy_can_approve_automation(request.user, strategy)
    return render(request, "web/strategies/editor.html", context, status=status)


def steps_response(request, strategy, message: str, *, section: bool = False):
    """After a change to the steps: htmx gets the re-rendered list (or the list with the add
    form), a plain post goes back to the editor."""
    if not request.htmx:
        messages.success(request, message)
        return redirect("web-strategy", pk=strategy.pk)
    if section:
        context = steps_context(
            request, strategy, message=message, add_form=step_form(request, strategy)
        )
        return render(request, "web/strategies/partials/steps_section.html", context)
    context = steps_context(request, strategy, message=message, oob_message=True)
    return render(request, "web/strategies/partials/steps_list.html", context)
