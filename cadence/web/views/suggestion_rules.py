"""The suggestion rules settings page: each rule kind on or off and its thresholds, per team.

Managers tune their own team's rules, admins any team's and the organisation defaults, everyone
else reads their team's. Which team may be shown is ``rule_team_choices``; which change is
allowed, and which values are, is ``suggestion_rule_set``'s to say: its refusal comes back next
to the field it is about (htmx swaps the rule's card, a plain post re-renders the page).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from cadence.accounts.models import Team
from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.suggestions import rules, services
from cadence.suggestions.selectors import (
    rule_can_tune,
    rule_list,
    rule_overrides,
    rule_team_choices,
)

DEFAULT = "default"
DEFAULT_LABEL = "Organisation defaults"


class RuleForm(forms.Form):
    """One kind's switch and parameters. Values are passed on as typed: the rule's own
    parameter definitions check them in the service, so the bounds are written once."""

    enabled = forms.BooleanField(label="On", required=False)

    def __init__(self, *args, rule: dict, **kwargs):
        kwargs.setdefault("prefix", rule["kind"])
        kwargs.setdefault("initial", {"enabled": rule["enabled"], **rule["params"]})
        super().__init__(*args, **kwargs)
        self.rule = rule
        for param in rule["definitions"]:
            if param.choices:
                widget = forms.Select(choices=[(choice, choice) for choice in param.choices])
            else:
                widget = forms.NumberInput(
                    attrs={"min": param.minimum, "max": param.maximum, "step": 1}
                )
            self.fields[param.name] = forms.CharField(
                label=param.label,
                widget=widget,
                required=False,
                help_text=(
                    f"Default {param.default}"
                    if param.choices
                    else f"{param.minimum} to {param.maximum}; default {param.default}"
                ),
            )

    def params(self) -> dict:
        return {param.name: self.cleaned_data[param.name] for param in self.rule["definitions"]}

    def show_error(self, exc: CadenceError) -> None:
        """The service names ``params`` as a whole: find the parameter its message is about by
        asking each definition, and put the message next to that one."""
        if exc.field == "params":
            for param in self.rule["definitions"]:
                try:
                    param.clean(self.cleaned_data.get(param.name))
                except ValueError:
                    self.add_error(param.name, exc.message)
                    return
        self.add_error(None, exc.message)


def _team(request: HttpRequest, raw: str | None) -> Team | None:
    """The team asked for, among those the viewer may see (another is a 404); the viewer's own
    (or the first they may see) when none is asked for."""
    choices = rule_team_choices(viewer=request.user)
    if not raw:
        if request.user.team_id and any(
            team is not None and team.pk == request.user.team_id for team in choices
        ):
            return request.user.team
        return choices[0]
    if raw == DEFAULT:
        if None in choices:
            return None
        raise Http404
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        raise Http404 from None
    for team in choices:
        if team is not None and team.pk == wanted:
            return team
    raise Http404


def _team_value(team: Team | None) -> str:
    return str(team.pk) if team is not None else DEFAULT


def _page_url(team: Team | None) -> str:
    return f"{reverse('web-suggestion-rules')}?team={_team_value(team)}"


def _cards(team: Team | None, forms_by_kind: dict | None = None) -> list[dict]:
    """Each kind's settings for the team, whether the team overrides the defaults, and its form
    (a bound one with errors in place of a fresh one)."""
    own = rule_overrides(team=team)
    return [
        {
            "rule": rule,
            "own": rule["kind"] in own,
            "form": (forms_by_kind or {}).get(rule["kind"]) or RuleForm(rule=rule),
            "values": [
                (param.label, rule["params"].get(param.name)) for param in rule["definitions"]
            ],
        }
        for rule in rule_list(team=team)
    ]


def _context(request: HttpRequest, team: Team | None, **extra) -> dict:
    return {
        "team": team,
        "team_value": _team_value(team),
        "choices": [
            {"value": _team_value(choice), "label": choice.name if choice else DEFAULT_LABEL}
            for choice in rule_team_choices(viewer=request.user)
        ],
        "can_edit": rule_can_tune(request.user, team),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def rules_page(request):
    """The rule kinds for one team (or the defaults); POST saves one kind's settings."""
    raw = request.POST.get("team") if request.method == "POST" else request.GET.get("team")
    team = _team(request, raw)
    if request.method == "GET":
        return render(
            request, "web/suggestions/rules.html", _context(request, team, cards=_cards(team))
        )
    kind = request.POST.get("kind", "")
    if kind not in rules.KINDS:
        raise Http404
    rule = next(rule for rule in rule_list(team=team) if rule["kind"] == kind)
    form = RuleForm(request.POST, rule=rule)
    form.is_valid()
    try:
        services.suggestion_rule_set(
            actor=request.user,
            team=team,
            kind=kind,
            enabled=form.cleaned_data["enabled"],
            params=form.params(),
        )
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except CadenceError as exc:
        form.show_error(exc)
    else:
        notice = f"“{rule['label']}” is saved."
        if not request.htmx:
            messages.success(request, notice)
            return redirect(_page_url(team))
        card = next(card for card in _cards(team) if card["rule"]["kind"] == kind)
        return render(
            request,
            "web/suggestions/partials/rule_card.html",
            _context(request, team, card=card, notice=notice),
        )
    if request.htmx:
        # htmx swaps only successful responses: the card with its errors comes back as a 200.
        card = next(card for card in _cards(team, {kind: form}) if card["rule"]["kind"] == kind)
        return render(
            request, "web/suggestions/partials/rule_card.html", _context(request, team, card=card)
        )
    context = _context(request, team, cards=_cards(team, {kind: form}))
    return render(request, "web/suggestions/rules.html", context, status=400)


@login_required
@require_POST
def rules_reset(request):
    """A team goes back to the organisation's settings: for one kind, or for all of them."""
    team = _team(request, request.POST.get("team"))
    kind = request.POST.get("kind", "")
    if kind and kind not in rules.KINDS:
        raise Http404
    try:
        for each in [kind] if kind else list(rules.KINDS):
            services.suggestion_rule_reset(actor=request.user, team=team, kind=each)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    except CadenceError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(team))
    label = rules.KINDS[kind].kind.label if kind else "Every rule"
    messages.success(request, f"{label} follows the organisation defaults again.")
    return redirect(_page_url(team))


urlpatterns = [
    path("settings/suggestions/", rules_page, name="web-suggestion-rules"),
    path("settings/suggestions/reset/", rules_reset, name="web-suggestion-rules-reset"),
]
