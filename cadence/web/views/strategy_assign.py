"""Assigning leads to a strategy: contacts and companies named in the address (from a contact or
company page, or the contact list's selection), and/or every contact matching a search, with a
report of who was refused and why. The rules are ``strategy_assign``'s."""

from __future__ import annotations

import datetime
import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from cadence.accounts.models import User
from cadence.core.errors import CadenceError
from cadence.crm.selectors import company_list, contact_list
from cadence.plans.assignment import strategy_assign
from cadence.strategies.selectors import strategies_plannable_by
from cadence.web.forms import show_service_error
from cadence.web.localtime import local_today, plan_start_at

#: Contacts a search on the assign page lists; the count covers them all.
SEARCH_SAMPLE = 10
#: Refusals listed after an assignment; the count covers them all.
REFUSALS_SHOWN = 500


class StrategyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} (archived)" if obj.is_archived else obj.name


class AssignForm(forms.Form):
    strategy = StrategyChoiceField(label="Strategy", queryset=None, empty_label="Choose a strategy")
    start_date = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    all_matching = forms.BooleanField(required=False)

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Archived templates are listed so that choosing one says why it takes no plans.
        self.fields["strategy"].queryset = (
            strategies_plannable_by(viewer=viewer)
            .filter(is_template=True)
            .order_by(F("archived_at").asc(nulls_first=True), "name")
        )
        self.today = local_today(viewer)

    def clean_start_date(self) -> datetime.date:
        day = self.cleaned_data["start_date"]
        if day < self.today:
            raise ValidationError("Choose today or a later day.")
        return day


# -- Assigning leads -----------------------------------------------------------------------------


def _ids(values: list[str], key: str, missing: list) -> list[uuid.UUID]:
    """The valid IDs among ``values``; the others are noted as missing (reported, not fatal)."""
    found = []
    for value in values[:10_000]:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            missing.append((key, value))
    return found


def _leads(viewer: User, contact_values: list, company_values: list):
    """The contacts and companies named, among those the viewer may see; the rest are missing."""
    missing: list = []
    contact_ids = _ids(contact_values, "contact_id", missing)
    company_ids = _ids(company_values, "company_id", missing)
    contacts = list(contact_list(viewer=viewer).filter(pk__in=contact_ids)) if contact_ids else []
    companies = list(company_list(viewer=viewer).filter(pk__in=company_ids)) if company_ids else []
    seen = {c.pk for c in contacts} | {c.pk for c in companies}
    missing += [("contact_id", i) for i in dict.fromkeys(contact_ids) if i not in seen]
    missing += [("company_id", i) for i in dict.fromkeys(company_ids) if i not in seen]
    return contacts, companies, missing


def matching_contacts(viewer: User, search: str):
    """The viewer's contacts whose name, email or company name contain every word searched."""
    qs = contact_list(viewer=viewer)
    for term in search.split()[:5]:
        qs = qs.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
            | Q(company__name__icontains=term)
        )
    return qs.order_by("last_name", "first_name", "contact_id")


def _refusals(result, contacts, companies) -> list[dict]:
    names = {c.pk: (f"{c} ({c.company.name})", "Contact") for c in contacts}
    names.update({c.pk: (c.name, "Company") for c in companies})
    rows = []
    for skipped in result.skipped[:REFUSALS_SHOWN]:
        lead_id = skipped.get("contact_id") or skipped.get("company_id")
        kind = "Contact" if "contact_id" in skipped else "Company"
        name, kind = names.get(lead_id, (str(lead_id), kind))
        rows.append({"kind": kind, "name": name, "reason": skipped["reason"]})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def strategy_assign_page(request, pk=None):
    """Enroll leads in a template: contacts and companies named in the address (from a contact
    or company page), and/or every contact matching a search; reports who was refused and why."""
    user = request.user
    params = request.POST if request.method == "POST" else request.GET
    initial = {"start_date": local_today(user)}
    if pk is not None:
        plannable = strategies_plannable_by(viewer=user).filter(is_template=True)
        initial["strategy"] = get_object_or_404(plannable, pk=pk).pk
    elif request.GET.get("strategy"):
        initial["strategy"] = request.GET["strategy"]
    form = AssignForm(request.POST or None, viewer=user, initial=initial)
    contacts, companies, missing = _leads(
        user, params.getlist("contact"), params.getlist("company")
    )
    search = params.get("search", "").strip()[:200]
    matching = matching_contacts(user, search) if search else None
    result = None
    if request.method == "POST" and form.is_valid():
        chosen = list(contacts)
        if search and form.cleaned_data["all_matching"]:
            known = {c.pk for c in chosen}
            chosen += [c for c in matching if c.pk not in known]
        if not chosen and not companies and not missing:
            form.add_error(None, "Choose at least one contact or company to enroll.")
        else:
            try:
                outcome = strategy_assign(
                    strategy=form.cleaned_data["strategy"],
                    user=user,
                    contacts=chosen,
                    companies=companies,
                    plan_start_date=plan_start_at(user, form.cleaned_data["start_date"]),
                    missing=missing,
                )
            except (CadenceError, ValidationError) as exc:
                show_service_error(
                    form, exc, {"strategy_id": "strategy", "plan_start_date": "start_date"}
                )
            else:
                result = {
                    "strategy": form.cleaned_data["strategy"],
                    "enrolled": len(outcome.enrolled),
                    "refused_count": len(outcome.skipped),
                    "refused": _refusals(outcome, chosen, companies),
                }
    match_count = matching.count() if matching is not None else 0
    sample = list(matching[:SEARCH_SAMPLE]) if match_count else []
    context = {
        "form": form,
        "contacts": contacts,
        "companies": companies,
        "missing_count": len(missing),
        "search": search,
        "match_count": match_count,
        "match_sample": sample,
        "match_more": match_count - len(sample),
        "result": result,
        "preselected": pk,
    }
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "web/strategies/assign.html", context, status=status)


urlpatterns = [
    path("strategies/assign/", strategy_assign_page, name="web-strategy-assign"),
    path("strategies/<uuid:pk>/assign/", strategy_assign_page, name="web-strategy-assign-to"),
]
