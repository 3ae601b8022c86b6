"""The plans pages: the list of plans, one plan's timeline and actions, and the custom plan
builder.

Every change goes through the plans services and every plan is fetched through ``plan_list``, so
the web pages follow the API's rules: a plan the user may not see is a 404, an illegal move is
the service's message shown to the user, never a 500.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cadence.accounts.models import User
from cadence.accounts.selectors import user_list
from cadence.activities.choices import ActivityType, Outcome
from cadence.core.errors import CadenceError
from cadence.crm.selectors import contact_list
from cadence.plans import services
from cadence.plans.choices import (
    ABORT_REASONS,
    ACTIVE_STATUSES,
    RUNNING_STATUSES,
    ExitReason,
    PlanStatus,
)
from cadence.plans.models import LeadContactPlan
from cadence.plans.selectors import is_overdue, overdue_q, plan_list
from cadence.scheduling.due import local_day_bounds
from cadence.strategies.rendering import template_problems
from cadence.strategies.selectors import step_list, strategy_list
from cadence.suggestions.selectors import suggestions_of_lead
from cadence.web.forms import show_service_error
from cadence.web.localtime import day_start, local_today, plan_start_at
from cadence.web.views.dashboard import (
    activity_type_of,
    step_subject,
)

PAGE_SIZE = 25
#: The custom plan builder offers this many step rows; blank ones are ignored.
BUILDER_ROWS = 5


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# -- Forms ---------------------------------------------------------------------------------------


class PlanFilterForm(forms.Form):
    q = forms.CharField(label="Search contact or company", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *PlanStatus.choices]
    )
    strategy = forms.ChoiceField(label="Strategy", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[
            ("", "Any time"),
            ("overdue", "Overdue"),
            ("today", "Due today"),
            ("week", "Due this week"),
            ("none", "No due date"),
        ],
    )

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        templates = strategy_list(viewer=viewer).filter(is_template=True).order_by("name")
        self.fields["strategy"].choices = [
            ("", "All strategies"),
            ("custom", "Custom plans"),
            *((str(pk), name) for pk, name in templates.values_list("pk", "name")),
        ]
        self.fields["owner"].choices = [
            ("", "Everyone"),
            *((str(user.pk), str(user)) for user in user_list(viewer=viewer)),
        ]
        self.fields["q"].widget.attrs.update({"type": "search", "id": "plan-q"})
        for name in ("status", "strategy", "owner", "due"):
            self.fields[name].widget.attrs["data-autosubmit"] = ""


class PlanLogForm(forms.Form):
    """Log an activity on a plan, by default as done for its current step."""

    step = forms.UUIDField(required=False, widget=forms.HiddenInput)
    completes_step = forms.BooleanField(label="This completes the current step", required=False)
    activity_type = forms.ChoiceField(label="Activity type", choices=ActivityType.choices)
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "No outcome"), *Outcome.choices]
    )
    subject = forms.CharField(label="Subject", required=False, max_length=255)
    description = forms.CharField(
        label="Notes", required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class PauseForm(forms.Form):
    until = forms.DateField(
        label="Resume automatically on",
        required=False,
        help_text="Optional: the plan resumes by itself at the start of your working day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class AbortForm(forms.Form):
    """Why the plan is aborted; none given means "ended manually", as in the API."""

    reason = forms.ChoiceField(
        label="Abort reason",
        required=False,
        choices=[(reason.value, reason.label) for reason in ABORT_REASONS],
        initial=ExitReason.MANUAL,
    )


class StepForm(forms.Form):
    """One row of the custom plan builder; a row with no type, subject or description is blank
    and ignored."""

    activity_type = forms.ChoiceField(
        label="Activity type", required=False, choices=[("", "(none)"), *ActivityType.choices]
    )
    delay_days = forms.IntegerField(
        label="Delay (days)",
        required=False,
        min_value=0,
        max_value=365,
        widget=forms.NumberInput(attrs={"placeholder": "0"}),
    )
    subject = forms.CharField(label="Subject", required=False, max_length=255)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        filled = any(data.get(name) for name in ("activity_type", "subject", "description"))
        data["blank"] = not filled
        if filled and not data.get("activity_type"):
            self.add_error("activity_type", "Choose the activity type of this step.")
        for name in ("subject", "description"):
            for problem in template_problems(data.get(name)):
                self.add_error(name, problem)
        return data

    def as_step(self) -> dict:
        data = self.cleaned_data
        return {
            "activity_type": data["activity_type"],
            "delay_days": data.get("delay_days") or 0,
            "subject_template": data.get("subject", ""),
            "description_template": data.get("description", ""),
        }


class BaseStepFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(not form.cleaned_data.get("blank", True) for form in self.forms):
            raise ValidationError("Add at least one step: choose its activity type.")

    def steps(self) -> list[dict]:
        return [form.as_step() for form in self.forms if not form.cleaned_data.get("blank", True)]


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=BUILDER_ROWS, max_num=BUILDER_ROWS, absolute_max=20
)


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.company.name})"


class CustomPlanForm(forms.Form):
    contact = ContactChoiceField(label="Contact", queryset=None, empty_label="Choose a contact")
    start_date = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label="Plan name", required=False, max_length=255, help_text="Optional.")

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contact_list(viewer=viewer).order_by(
            "last_name", "first_name", "contact_id"
        )


# -- Plans list ----------------------------------------------------------------------------------


def filter_plans(qs, data: dict, *, user: User, now: datetime.datetime):
    """Narrow visible plans by the list's filters (each already validated)."""
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("strategy") == "custom":
        qs = qs.filter(Q(strategy__isnull=True) | Q(strategy__is_template=False))
    elif data.get("strategy"):
        qs = qs.filter(strategy_id=data["strategy"])
    if data.get("owner"):
        qs = qs.filter(user_id=data["owner"])
    due = data.get("due")
    if due == "none":
        qs = qs.filter(next_step_due_date__isnull=True)
    elif due == "overdue":
        qs = qs.filter(overdue_q(now))
    elif due in ("today", "week"):
        start, end = local_day_bounds(now, time_zone=user.time_zone)
        if due == "week":
            end = start + datetime.timedelta(days=7)
        qs = qs.filter(next_step_due_date__gte=start, next_step_due_date__lt=end)
    # Each word must match the contact's name or email, or the company's name, so
    # "ada acme" finds Ada at Acme.
    for term in (data.get("q") or "").split()[:5]:
        qs = qs.filter(
            Q(contact__first_name__icontains=term)
            | Q(contact__last_name__icontains=term)
            | Q(contact__email__icontains=term)
            | Q(company__name__icontains=term)
        )
    return qs


@login_required
def plan_list_page(request):
    """All plans the user may see, filtered and paginated; htmx gets only the results."""
    now = timezone.now()
    form = PlanFilterForm(request.GET or None, viewer=request.user)
    # An invalid filter (a strategy since deleted, a made-up status) is shown as an error and
    # left out, while the valid filters still apply.
    data = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
    plans = filter_plans(
        plan_list(viewer=request.user).select_related("user"), data, user=request.user, now=now
    )
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    for plan in page:
        plan.overdue = is_overdue(plan, now)
    context = {
        "form": form,
        "page": page,
        "show_owner_filter": request.user.is_admin or request.user.is_manager,
    }
    if request.htmx:
        return render(request, "web/plans/partials/plan_table.html", context)
    return render(request, "web/plans/list.html", context)


# -- One plan ------------------------------------------------------------------------------------


def plan_timeline(plan: LeadContactPlan) -> list[dict]:
    """Each step of the plan with what became of it: completed or skipped (when, and the
    outcome of the activity that did it), current (with its due date), upcoming, or not done
    (the plan ended first). Steps deleted from the strategy after they were done are kept."""
    steps = list(step_list(strategy=plan.strategy)) if plan.strategy_id else []
    results = list(plan.results.select_related("activity").order_by("completed_at"))
    by_step = {result.step_id: result for result in results if result.step_id}
    entries = []
    for step in steps:
        result = by_step.get(step.pk)
        entry = {
            "number": step.step_number,
            "step": step,
            "activity_type": step.activity_type,
            "delay_days": step.delay_days,
            "subject": step_subject(plan, step),
            "result": result,
        }
        if result is not None:
            entry["state"] = result.result
        elif step.pk == plan.current_step_id and plan.is_active:
            entry["state"] = "current"
        elif plan.is_active:
            entry["state"] = "upcoming"
        else:
            entry["state"] = "not-done"
        entries.append(entry)
    for result in results:
        if result.step_id is None:
            entries.append(
                {
                    "number": result.step_number,
                    "activity_type": "",
                    "subject": "",
                    "removed": True,
                    "result": result,
                    "state": result.result,
                }
            )
    return entries


def allowed_actions(plan: LeadContactPlan) -> dict[str, bool]:
    running = plan.status in RUNNING_STATUSES
    return {
        "start": plan.status == PlanStatus.NOT_STARTED,
        "pause": running,
        "resume": plan.status == PlanStatus.PAUSED,
        "skip": running and plan.current_step_id is not None,
        "abort": plan.status in ACTIVE_STATUSES,
        "log_step": running and plan.current_step_id is not None,
    }


def _plan_for(request, pk) -> LeadContactPlan:
    return get_object_or_404(plan_list(viewer=request.user).select_related("user"), pk=pk)


def _render_plan(
    request, plan: LeadContactPlan, *, log_form: PlanLogForm | None = None, status=200
):
    actions = allowed_actions(plan)
    if log_form is None:
        step = plan.current_step if actions["log_step"] else None
        log_form = PlanLogForm(
            initial={
                "step": step.pk if step else None,
                "completes_step": step is not None,
                "activity_type": activity_type_of(step) if step else ActivityType.CALL,
                "subject": step_subject(plan, step) if step else "",
            }
        )
    context = {
        "plan": plan,
        "actions": actions,
        "timeline": plan_timeline(plan),
        "activities": plan.activities.select_related("user", "step").order_by("-occurred_at")[:100],
        "log_form": log_form,
        "pause_form": PauseForm(auto_id="pause-%s"),
        "abort_form": AbortForm(auto_id="abort-%s"),
        "overdue": is_overdue(plan, timezone.now()),
        "suggestions": suggestions_of_lead(viewer=request.user, plan=plan),
    }
    template = "web/plans/partials/plan_detail.html" if request.htmx else "web/plans/detail.html"
    return render(request, template, context, status=status)


@login_required
def plan_page(request, pk):
    """A plan's lead, timeline of steps, activities, and the actions its state allows."""
    return _render_plan(request, _plan_for(request, pk))


def _after_action(request, plan: LeadContactPlan):
    """htmx swaps in the refreshed plan (200, so htmx swaps it even after a refusal); a plain
    form post goes back to the plan page."""
    if request.htmx:
        return _render_plan(request, _plan_for(request, plan.pk))
    return redirect("web-plan", pk=plan.pk)


def _current_step_matches(request, plan: LeadContactPlan) -> bool:
    """The step the page showed is still the current one: a double click, or a second tab,
    must not skip or complete the next step as well."""
    shown = request.POST.get("step")
    return not shown or str(plan.current_step_id) == shown


def _run_action(request, plan: LeadContactPlan, action: str) -> str:
    """Run one plan action; returns the message to show on success."""
    if action == "start":
        services.plan_start(plan=plan)
        return "The plan has started."
    if action == "pause":
        form = PauseForm(request.POST)
        if not form.is_valid():
            raise CadenceError(
                f"Resume automatically on: {' '.join(form.errors['until'])}", field="until"
            )
        until = form.cleaned_data["until"]
        if until is not None:
            until = day_start(request.user, until)
        services.plan_pause(plan=plan, until=until)
        return "The plan is paused."
    if action == "resume":
        services.plan_resume(plan=plan)
        return "The plan has resumed."
    if action == "skip":
        if not _current_step_matches(request, plan):
            raise CadenceError("That step is no longer the current one; nothing was skipped.")
        services.plan_skip(plan=plan, actor=request.user)
        return "The step was skipped."
    form = AbortForm(request.POST)
    if not form.is_valid():
        raise CadenceError("Choose one of the reasons offered.", field="reason")
    services.plan_abort(plan=plan, reason=form.cleaned_data["reason"] or ExitReason.MANUAL)
    return "The plan was aborted."


@login_required
@require_POST
def plan_action(request, pk, action: str):
    """Start, pause, resume, skip the current step of, or abort a plan."""
    plan = _plan_for(request, pk)
    try:
        message = _run_action(request, plan, action)
    except CadenceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return _after_action(request, plan)


@login_required
@require_POST
def plan_log(request, pk):
    """Log an activity on the plan; marked as completing the current step, it advances it."""
    plan = _plan_for(request, pk)
    form = PlanLogForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        step = None
        if data["completes_step"]:
            if plan.current_step_id is None or not _current_step_matches(request, plan):
                form.add_error(None, "That step is no longer the current one; reload the plan.")
            else:
                step = plan.current_step
        if not form.errors:
            try:
                services.activity_log(
                    actor=request.user,
                    plan=plan,
                    step=step,
                    activity_type=data["activity_type"],
                    outcome=data["outcome"],
                    subject=data["subject"],
                    description=data["description"],
                )
            except CadenceError as exc:
                show_service_error(form, exc, {"outcome": "outcome"})
            except ValidationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, "The activity is logged.")
                return _after_action(request, plan)
    # htmx swaps only successful responses, so its re-render with errors is a 200.
    return _render_plan(
        request, _plan_for(request, pk), log_form=form, status=200 if request.htmx else 400
    )


# -- Custom plan builder -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan_custom(request):
    """Build a one-off plan with its own steps for one contact, run by the signed-in user."""
    user = request.user
    now = timezone.now()
    initial = {"start_date": local_today(user, now)}
    if request.method == "GET" and request.GET.get("contact"):
        initial["contact"] = request.GET["contact"]
    posted = request.POST if request.method == "POST" else None
    form = CustomPlanForm(posted, viewer=user, initial=initial)
    steps = StepFormSet(posted, prefix="steps")
    steps_error = ""
    if request.method == "POST":
        valid = form.is_valid()
        valid = steps.is_valid() and valid
        if valid:
            data = form.cleaned_data
            contact = data["contact"]
            start = data["start_date"]
            start_at = plan_start_at(user, start, now)
            try:
                plan = services.plan_create_custom(
                    actor=user,
                    user=user,
                    contact=contact,
                    company=contact.company,
                    name=data["name"],
                    steps=steps.steps(),
                    plan_start_date=start_at,
                )
            except CadenceError as exc:
                if exc.field in ("steps", "step_number"):
                    steps_error = exc.message
                else:
                    show_service_error(
                        form,
                        exc,
                        {
                            "contact_id": "contact",
                            "company_id": "contact",
                            "name": "name",
                            "plan_start_date": "start_date",
                        },
                    )
            except ValidationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, "The custom plan is created.")
                return redirect("web-plan", pk=plan.pk)
    context = {"form": form, "steps": steps, "steps_error": steps_error}
    return render(
        request,
        "web/plans/custom.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("plans/", plan_list_page, name="web-plans"),
    path("plans/new/", plan_custom, name="web-plan-custom"),
    path("plans/<uuid:pk>/", plan_page, name="web-plan"),
    path("plans/<uuid:pk>/log/", plan_log, name="web-plan-log"),
    *(
        path(
            f"plans/<uuid:pk>/{action}/", plan_action, {"action": action}, name=f"web-plan-{action}"
        )
        for action in ("start", "pause", "resume", "skip", "abort")
    ),
]
