"""The strategies pages: the list of templates, and in the visual editor the strategy itself (its
settings, automation, copying and archiving). The editor's steps and live preview are in
``strategy_steps``, what both share in ``strategy_editor``; assigning leads is in
``strategy_assign``.

Every write goes through the strategies, messaging and plans services, and every strategy is
fetched through ``strategy_list``: a strategy the user may not see is a 404, one they may see but
not change refuses changes with a 403, and a rule a service enforces comes back as its message
next to the field, never a 500. htmx requests get the changed part of the page; the same forms
also work as plain posts, which redirect back to the editor.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.messaging import services as messaging_services
from cadence.plans.selectors import active_plan_counts
from cadence.strategies import services
from cadence.strategies.selectors import template_list
from cadence.web.forms import show_service_error
from cadence.web.views.strategy_editor import (
    StrategySettingsForm,
    editable_strategy,
    render_editor,
    strategy_for,
)

PAGE_SIZE = 50


# -- Forms ---------------------------------------------------------------------------------------


class StrategyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


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
    page.object_list = list(page.object_list)
    active = active_plan_counts(strategy_ids=[strategy.pk for strategy in page.object_list])
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
    return render_editor(request, strategy_for(request, pk))


@login_required
@require_POST
def strategy_settings(request, pk):
    strategy = editable_strategy(request, pk)
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
    return render_editor(request, strategy_for(request, pk), settings_form=form, status=400)


@login_required
@require_POST
def strategy_automation(request, pk, approve: bool):
    """Approve or stop automated sending: for the managers of the strategy's team and admins
    (``strategy_can_approve_automation``, which the service checks)."""
    strategy = strategy_for(request, pk)
    try:
        messaging_services.strategy_automation_decide(
            strategy=strategy, actor=request.user, approve=approve
        )
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
    original = strategy_for(request, pk)
    copy = services.strategy_duplicate(strategy=original, actor=request.user)
    messages.success(request, f"This is your copy of {original.name}.")
    return redirect("web-strategy", pk=copy.pk)


@login_required
@require_POST
def strategy_archive(request, pk):
    strategy = editable_strategy(request, pk)
    archived = request.POST.get("archived") == "1"
    services.strategy_archive(strategy=strategy, archived=archived)
    messages.success(
        request,
        "The strategy is archived: its plans go on, it takes no new ones."
        if archived
        else "The strategy is back in use.",
    )
    return redirect("web-strategy", pk=strategy.pk)


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
]
