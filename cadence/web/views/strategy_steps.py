"""The strategy editor's steps: adding, editing, deleting and reordering them on the timeline,
and the live preview of a step's templates with its placeholder picker. The forms and the page
parts are ``strategy_editor``'s; the rules are the strategies services'.
"""

from __future__ import annotations

import re
import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from cadence.core.errors import CadenceError
from cadence.strategies import services
from cadence.strategies.models import StrategyStep
from cadence.strategies.selectors import step_list, strategy_can_edit
from cadence.web.forms import show_service_error
from cadence.web.views.strategy_editor import (
    PLACEHOLDER_VALUES,
    TEMPLATE_FIELDS,
    editable_strategy,
    render_editor,
    step_form,
    steps_context,
    steps_response,
    strategy_for,
    template_preview,
    timeline,
)

#: Step forms are prefixed "new" (the add form) or "s<step id>" (an edit form), so several can
#: share the page; the preview and placeholder endpoints accept only these.
_PREFIX = re.compile(r"new|s[0-9a-f]{32}")


# -- Steps ---------------------------------------------------------------------------------------


@login_required
@require_POST
def steps_reorder(request, pk):
    """Save the order of the steps at once (posted as repeated ``ids`` after a drag or a move
    button); the list comes back renumbered, or in its saved order after a refusal."""
    strategy = editable_strategy(request, pk)
    try:
        step_ids = [uuid.UUID(value) for value in request.POST.getlist("ids")]
        services.steps_reorder(strategy=strategy, step_ids=step_ids)
    except ValueError:
        message = "The new order names a step that does not exist; the order is unchanged."
    except CadenceError as exc:
        message = f"{exc.message} The order is unchanged."
    else:
        message = "The new order is saved."
    return steps_response(request, strategy, message)


@login_required
@require_POST
def step_add(request, pk):
    strategy = editable_strategy(request, pk)
    form = step_form(request, strategy, data=request.POST)
    if form.is_valid():
        try:
            step = services.step_create(strategy=strategy, **form.step_data())
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {name: name for name in form.fields})
        else:
            return steps_response(
                request, strategy, f"Step {step.step_number} is added.", section=True
            )
    if request.htmx:
        context = steps_context(request, strategy, add_form=form)
        return render(request, "web/strategies/partials/steps_section.html", context)
    return render_editor(request, strategy, add_form=form, status=400)


def _step_for(strategy, step_pk) -> StrategyStep:
    return get_object_or_404(step_list(strategy=strategy).select_related("strategy"), pk=step_pk)


def _entry_for(strategy, step, form=None) -> dict:
    entries = timeline(strategy, list(step_list(strategy=strategy)), {step.pk: form})
    return next(entry for entry in entries if entry["step"].pk == step.pk)


@login_required
def step_card(request, pk, step_pk):
    """One step's card (what Cancel puts back in place of its edit form)."""
    strategy = strategy_for(request, pk)
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
    strategy = editable_strategy(request, pk)
    step = _step_for(strategy, step_pk)
    data = request.POST if request.method == "POST" else None
    form = step_form(request, strategy, step=step, data=data)
    if data is not None and form.is_valid():
        try:
            services.step_update(step=step, data=form.step_data())
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc, {name: name for name in form.fields})
        else:
            response = steps_response(request, strategy, f"Step {step.step_number} is saved.")
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
    return render_editor(request, strategy, editing={step.pk: form}, status=status)


@login_required
@require_POST
def step_delete(request, pk, step_pk):
    strategy = editable_strategy(request, pk)
    step = _step_for(strategy, step_pk)
    number = step.step_number
    services.step_delete(step=step)
    return steps_response(request, strategy, f"Step {number} is deleted.")


# -- Live preview --------------------------------------------------------------------------------


def _step_prefix(request) -> str | None:
    prefix = request.POST.get("form_prefix", "")
    return prefix if _PREFIX.fullmatch(prefix) else None


@login_required
@require_POST
def strategy_preview(request, pk):
    """The live preview of a step form's templates (posted as the user types)."""
    strategy_for(request, pk)
    prefix = _step_prefix(request)
    if prefix is None:
        return HttpResponseBadRequest("Unknown form.")
    values = [
        request.POST.get(f"{prefix}-{name}", "")
        for name in ("subject_template", "description_template", "preview_contact")
    ]
    preview = template_preview(request, prefix, *values)
    return render(request, "web/strategies/partials/preview.html", {"preview": preview})


@login_required
@require_POST
def strategy_placeholder(request, pk):
    """Append the chosen placeholder to the subject or body: returns that input with its new
    value, and the preview refreshed out of band (no script may edit the text in place)."""
    strategy = strategy_for(request, pk)
    prefix = _step_prefix(request)
    into = request.POST.get("into")
    placeholder = request.POST.get(f"{prefix}-placeholder")
    if prefix is None or into not in TEMPLATE_FIELDS or placeholder not in PLACEHOLDER_VALUES:
        return HttpResponseBadRequest("Choose a placeholder and where to insert it.")
    data = request.POST.copy()
    key = f"{prefix}-{into}"
    current = data.get(key, "")
    joiner = "" if not current or current[-1].isspace() else " "
    data[key] = f"{current}{joiner}{placeholder}"
    step = None
    if prefix != "new":
        step = get_object_or_404(step_list(strategy=strategy), pk=uuid.UUID(prefix[1:]))
    form = step_form(request, strategy, step=step, data=data)
    context = {"field": form[into], "preview": form.preview}
    return render(request, "web/strategies/partials/placeholder_field.html", context)


urlpatterns = [
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
