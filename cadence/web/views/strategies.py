"""The strategies pages: the list of templates and the visual editor (steps on a timeline, the
strategy's settings, a live template preview). Assigning leads is in ``strategy_assign``.

Every write goes through the strategies, messaging and plans services, and every strategy is
fetched through ``strategy_list``: a strategy the user may not see is a 404, one they may see but
not change refuses changes with a 403, and a rule a service enforces comes back as its message
next to the field, never a 500. htmx requests get the changed part of the page; the same forms
also work as plain posts, which redirect back to the editor.
"""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from cadence.activities.choices import ActivityType
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.selectors import contact_list
from cadence.messaging import services as messaging_services
from cadence.plans.choices import ACTIVE_STATUSES
from cadence.plans.models import LeadContactPlan
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
    template_list,
)
from cadence.suggestions.selectors import ALTERNATIVE, CONTRADICTS, SUPPORTS, step_findings
from cadence.web.forms import show_service_error

PAGE_SIZE = 50
#: The preview's contact select offers this many of the user's contacts (a select of thousands
#: helps nobody); the sample lead is always there.
PREVIEW_CONTACTS = 200
#: Step forms are prefixed "new" (the add form) or "s<step id>" (an edit form), so several can
#: share the page; the preview and placeholder endpoints accept only these.
_PREFIX = re.compile(r"new|s[0-9a-f]{32}")
_TEMPLATE_FIELDS = ("subject_template", "description_template")
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


class StrategyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


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
        for name in _TEMPLATE_FIELDS:
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


def _strategy_for(request, pk) -> ContactStrategy:
    return get_object_or_404(strategy_list(viewer=request.user), pk=pk)


def _editable_strategy(request, pk) -> ContactStrategy:
    strategy = _strategy_for(request, pk)
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


def _step_form(request, strategy, step=None, data=None) -> StepForm:
    kwargs = {"contact_choices": _contact_choices(request)}
    if data is None and step is not None:
        form = StepForm.for_step(step, **kwargs)
    else:
        form = StepForm(data, strategy=strategy, step=step, **kwargs)
    form.preview = _preview(
        request,
        form.prefix,
        _form_value(form, "subject_template"),
        _form_value(form, "description_template"),
        _form_value(form, "preview_contact"),
    )
    return form


def _form_value(form: forms.Form, name: str) -> str:
    return form[name].value() or ""


def _preview(request, prefix: str, subject: str, body: str, contact_id: str) -> dict:
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


def _steps_context(request, strategy, *, forms_by_step=None, message="", **extra) -> dict:
    steps = list(step_list(strategy=strategy))
    return {
        "strategy": strategy,
        "can_edit": strategy_can_edit(request.user, strategy),
        "entries": timeline(strategy, steps, forms_by_step),
        "steps_message": message,
        **extra,
    }


def _render_editor(request, strategy, *, status=200, **parts):
    """The whole editor page; ``parts`` are forms with errors to show instead of fresh ones."""
    can_edit = strategy_can_edit(request.user, strategy)
    editing = parts.pop("editing", None)
    context = _steps_context(request, strategy, forms_by_step=editing)
    if can_edit:
        context["add_form"] = parts.get("add_form") or _step_form(request, strategy)
        context["settings_form"] = parts.get("settings_form") or StrategySettingsForm.for_strategy(
            strategy
        )
    context["active_plans"] = strategy.plans.filter(status__in=ACTIVE_STATUSES).count()
    context["can_approve"] = strategy_can_approve_automation(request.user, strategy)
    return render(request, "web/strategies/editor.html", context, status=status)


def _steps_response(request, strategy, message: str, *, section: bool = False):
    """After a change to the steps: htmx gets the re-rendered list (or the list with the add
    form), a plain post goes back to the editor."""
    if not request.htmx:
        messages.success(request, message)
        return redirect("web-strategy", pk=strategy.pk)
    if section:
        context = _steps_context(
            request, strategy, message=message, add_form=_step_form(request, strategy)
        )
        return render(request, "web/strategies/partials/steps_section.html", context)
    context = _steps_context(request, strategy, message=message, oob_message=True)
    return render(request, "web/strategies/partials/steps_list.html", context)


# -- Strategies list -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def strategy_list_page(request):
    """The team's templates with their step count and how many plans follow each; a new
    strategy is created here and opened in the editor."""
    form = StrategyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            strategy = services.strategy_create(created_by=request.user, **form.cleaned_data)
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {"name": "name", "description": "description"})
        else:
            messages.success(request, "The strategy is created: add its steps.")
            return redirect("web-strategy", pk=strategy.pk)
    strategies = template_list().order_by(F("archived_at").asc(nulls_first=True), "name")
    query = request.GET.get("q", "").strip()[:200]
    if query:
        strategies = strategies.filter(Q(name__icontains=query) | Q(description__icontains=query))
    page = Paginator(strategies, PAGE_SIZE).get_page(request.GET.get("page"))
    # Counted for the page's strategies in one query after paginating: as an annotation, the
    # count ran once per joined step row, which took most of a second with 100,000 plans.
    page.object_list = list(page.object_list)
    active = dict(
        LeadContactPlan.objects.filter(
            strategy_id__in=[strategy.pk for strategy in page.object_list],
            status__in=ACTIVE_STATUSES,
        )
        .order_by()
        .values_list("strategy_id")
        .annotate(n=Count("pk"))
    )
    for strategy in page.object_list:
        strategy.active_plans = active.get(strategy.pk, 0)
    context = {"form": form, "page": page, "q": query}
    status = 400 if request.method == "POST" else 200
    return render(request, "web/strategies/list.html", context, status=status)


# -- Editor --------------------------------------------------------------------------------------


@login_required
def strategy_page(request, pk):
    """The visual editor: steps on a timeline, settings, automation; read-only for those who
    may see the strategy but not change it."""
    return _render_editor(request, _strategy_for(request, pk))


@login_required
@require_POST
def strategy_settings(request, pk):
    strategy = _editable_strategy(request, pk)
    form = StrategySettingsForm(request.POST)
    if form.is_valid():
        try:
            services.strategy_update(strategy=strategy, data=dict(form.cleaned_data))
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {name: name for name in form.fields})
        else:
            messages.success(request, "The settings are saved.")
            return redirect("web-strategy", pk=strategy.pk)
    # The failed update may have set fields on the instance: show the saved strategy.
    return _render_editor(request, _strategy_for(request, pk), settings_form=form, status=400)


@login_required
@require_POST
def strategy_automation(request, pk, approve: bool):
    """Approve or stop automated sending: for the managers of the strategy's team and admins
    (``strategy_can_approve_automation``, which the service checks)."""
    strategy = _strategy_for(request, pk)
    try:
        if approve:
            messaging_services.strategy_approve_automation(strategy=strategy, actor=request.user)
        else:
            messaging_services.strategy_revoke_automation(strategy=strategy, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(
        request,
        "Automation is approved: automated steps will be sent."
        if approve
        else "Automation is stopped: automated steps wait for a new approval.",
    )
    return redirect("web-strategy", pk=strategy.pk)


@login_required
@require_POST
def strategy_duplicate(request, pk):
    """Anyone who may see a strategy may copy it into a template of their own."""
    original = _strategy_for(request, pk)
    copy = services.strategy_duplicate(strategy=original, actor=request.user)
    messages.success(request, f"This is your copy of {original.name}.")
    return redirect("web-strategy", pk=copy.pk)


@login_required
@require_POST
def strategy_archive(request, pk):
    strategy = _editable_strategy(request, pk)
    archived = request.POST.get("archived") == "1"
    services.strategy_archive(strategy=strategy, archived=archived)
    messages.success(
        request,
        "The strategy is archived: its plans go on, it takes no new ones."
        if archived
        else "The strategy is back in use.",
    )
    return redirect("web-strategy", pk=strategy.pk)


# -- Steps ---------------------------------------------------------------------------------------


@login_required
@require_POST
def steps_reorder(request, pk):
    """Save the order of the steps at once (posted as repeated ``ids`` after a drag or a move
    button); the list comes back renumbered, or in its saved order after a refusal."""
    strategy = _editable_strategy(request, pk)
    try:
        step_ids = [uuid.UUID(value) for value in request.POST.getlist("ids")]
        services.steps_reorder(strategy=strategy, step_ids=step_ids)
    except ValueError:
        message = "The new order names a step that does not exist; the order is unchanged."
    except CadenceError as exc:
        message = f"{exc.message} The order is unchanged."
    else:
        message = "The new order is saved."
    return _steps_response(request, strategy, message)


@login_required
@require_POST
def step_add(request, pk):
    strategy = _editable_strategy(request, pk)
    form = _step_form(request, strategy, data=request.POST)
    if form.is_valid():
        try:
            step = services.step_create(strategy=strategy, **form.step_data())
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {name: name for name in form.fields})
        else:
            return _steps_response(
                request, strategy, f"Step {step.step_number} is added.", section=True
            )
    if request.htmx:
        context = _steps_context(request, strategy, add_form=form)
        return render(request, "web/strategies/partials/steps_section.html", context)
    return _render_editor(request, strategy, add_form=form, status=400)


def _step_for(strategy, step_pk) -> StrategyStep:
    return get_object_or_404(step_list(strategy=strategy).select_related("strategy"), pk=step_pk)


def _entry_for(strategy, step, form=None) -> dict:
    entries = timeline(strategy, list(step_list(strategy=strategy)), {step.pk: form})
    return next(entry for entry in entries if entry["step"].pk == step.pk)


@login_required
def step_card(request, pk, step_pk):
    """One step's card (what Cancel puts back in place of its edit form)."""
    strategy = _strategy_for(request, pk)
    step = _step_for(strategy, step_pk)
    if not request.htmx:
        return redirect("web-strategy", pk=strategy.pk)
    context = {
        "strategy": strategy,
        "can_edit": strategy_can_edit(request.user, strategy),
        "entry": _entry_for(strategy, step),
    }
    return render(request, "web/strategies/partials/step_card.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request, pk, step_pk):
    """The step's card turned into a form; saving re-renders the whole list, whose days and
    delays follow from this step's."""
    strategy = _editable_strategy(request, pk)
    step = _step_for(strategy, step_pk)
    data = request.POST if request.method == "POST" else None
    form = _step_form(request, strategy, step=step, data=data)
    if data is not None and form.is_valid():
        try:
            services.step_update(step=step, data=form.step_data())
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {name: name for name in form.fields})
        else:
            response = _steps_response(request, strategy, f"Step {step.step_number} is saved.")
            if request.htmx:
                response["HX-Retarget"] = "#steps-wrap"
                response["HX-Reswap"] = "outerHTML"
            return response
    if request.htmx:
        context = {
            "strategy": strategy,
            "can_edit": True,
            "entry": _entry_for(strategy, step, form),
        }
        return render(request, "web/strategies/partials/step_form.html", context)
    status = 400 if data is not None else 200
    return _render_editor(request, strategy, editing={step.pk: form}, status=status)


@login_required
@require_POST
def step_delete(request, pk, step_pk):
    strategy = _editable_strategy(request, pk)
    step = _step_for(strategy, step_pk)
    number = step.step_number
    services.step_delete(step=step)
    return _steps_response(request, strategy, f"Step {number} is deleted.")


def _step_prefix(request) -> str | None:
    prefix = request.POST.get("form_prefix", "")
    return prefix if _PREFIX.fullmatch(prefix) else None


@login_required
@require_POST
def strategy_preview(request, pk):
    """The live preview of a step form's templates (posted as the user types)."""
    _strategy_for(request, pk)
    prefix = _step_prefix(request)
    if prefix is None:
        return HttpResponseBadRequest("Unknown form.")
    values = [
        request.POST.get(f"{prefix}-{name}", "")
        for name in ("subject_template", "description_template", "preview_contact")
    ]
    preview = _preview(request, prefix, *values)
    return render(request, "web/strategies/partials/preview.html", {"preview": preview})


@login_required
@require_POST
def strategy_placeholder(request, pk):
    """Append the chosen placeholder to the subject or body: returns that input with its new
    value, and the preview refreshed out of band (no script may edit the text in place)."""
    strategy = _strategy_for(request, pk)
    prefix = _step_prefix(request)
    into = request.POST.get("into")
    placeholder = request.POST.get(f"{prefix}-placeholder")
    if prefix is None or into not in _TEMPLATE_FIELDS or placeholder not in PLACEHOLDER_VALUES:
        return HttpResponseBadRequest("Choose a placeholder and where to insert it.")
    data = request.POST.copy()
    key = f"{prefix}-{into}"
    current = data.get(key, "")
    joiner = "" if not current or current[-1].isspace() else " "
    data[key] = f"{current}{joiner}{placeholder}"
    step = None
    if prefix != "new":
        step = get_object_or_404(step_list(strategy=strategy), pk=uuid.UUID(prefix[1:]))
    form = _step_form(request, strategy, step=step, data=data)
    context = {"field": form[into], "preview": form.preview}
    return render(request, "web/strategies/partials/placeholder_field.html", context)


urlpatterns = [
    path("strategies/", strategy_list_page, name="web-strategies"),
    path("strategies/<uuid:pk>/", strategy_page, name="web-strategy"),
    path("strategies/<uuid:pk>/settings/", strategy_settings, name="web-strategy-settings"),
    path(
        "strategies/<uuid:pk>/automation/approve/",
        strategy_automation,
        {"approve": True},
        name="web-strategy-approve",
    ),
    path(
        "strategies/<uuid:pk>/automation/stop/",
        strategy_automation,
        {"approve": False},
        name="web-strategy-stop",
    ),
    path("strategies/<uuid:pk>/duplicate/", strategy_duplicate, name="web-strategy-duplicate"),
    path("strategies/<uuid:pk>/archive/", strategy_archive, name="web-strategy-archive"),
    path("strategies/<uuid:pk>/preview/", strategy_preview, name="web-strategy-preview"),
    path(
        "strategies/<uuid:pk>/placeholder/", strategy_placeholder, name="web-strategy-placeholder"
    ),
    path("strategies/<uuid:pk>/steps/add/", step_add, name="web-strategy-step-add"),
    path("strategies/<uuid:pk>/steps/reorder/", steps_reorder, name="web-strategy-steps-reorder"),
    path("strategies/<uuid:pk>/steps/<uuid:step_pk>/", step_card, name="web-strategy-step"),
    path(
        "strategies/<uuid:pk>/steps/<uuid:step_pk>/edit/", step_edit, name="web-strategy-step-edit"
    ),
    path(
        "strategies/<uuid:pk>/steps/<uuid:step_pk>/delete/",
        step_delete,
        name="web-strategy-step-delete",
    ),
]
