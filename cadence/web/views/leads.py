"""Contacts and companies: lists, detail pages and forms (the CSV import is ``lead_imports``).
Creating, editing and deleting work alike for both, so one view serves each, told by its URL which
kind of lead (``CONTACTS`` or ``COMPANIES``) it handles.

Every lead is fetched through the crm selectors, so one the user may not see is a 404, and every
change goes through the crm services, so the pages follow the API's rules (custody, a contact
needs a name or an email); a refusal is shown next to the field, never as a 500.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from cadence.accounts.models import Team, User
from cadence.accounts.selectors import teams_shareable_by, user_list, users_assignable_by
from cadence.activities.selectors import activity_list
from cadence.core.errors import CadenceError
from cadence.crm import services
from cadence.crm.choices import CompanySize, EmailStatus
from cadence.crm.models import Company, Contact
from cadence.crm.selectors import company_list, contact_list, lead_can_delete
from cadence.plans.selectors import is_overdue, plan_list
from cadence.suggestions.selectors import suggestions_of_lead
from cadence.web.forms import show_service_error
from cadence.web.views.responses import render_list

PAGE_SIZE = 25
REPORT_PAGE_SIZE = 50
#: Plans and activities shown on a lead's page, newest first.
HISTORY_LIMIT = 50


# -- Forms --------------------------------------------------------------------------------------


def user_label(user: User) -> str:
    return user.display_name or user.get_full_name() or user.username


@cache
def time_zone_names() -> list[str]:
    """The zones the time zone inputs suggest (the model accepts exactly these)."""
    return sorted(zoneinfo.available_timezones())


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


def _industries(viewer: User) -> list[str]:
    return list(
        company_list(viewer=viewer)
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )


class LeadFilterForm(forms.Form):
    """The filters both lists share; an invalid one is reported and left out."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    industry = forms.ChoiceField(label="Industry", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry"].choices = [("", "Any industry")] + [
            (name, name) for name in _industries(viewer)
        ]
        owners = user_list(viewer=viewer).order_by("display_name", "username")
        self.fields["owner"].choices = [("", "Anyone")] + [
            (str(user.pk), user_label(user)) for user in owners
        ]
        # Choosing a filter applies it at once (app.js submits the form; htmx swaps results).
        for form_field in self.fields.values():
            if isinstance(form_field, forms.ChoiceField):
                form_field.widget.attrs["data-autosubmit"] = ""

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class ContactFilterForm(LeadFilterForm):
    email_status = forms.ChoiceField(
        label="Email status", required=False, choices=[("", "Any status"), *EmailStatus.choices]
    )
    opted_out = forms.ChoiceField(
        label="Opt-out",
        required=False,
        choices=[("", "Either"), ("no", "Not opted out"), ("yes", "Opted out")],
    )


class CompanyFilterForm(LeadFilterForm):
    size = forms.ChoiceField(
        label="Size", required=False, choices=[("", "Any size"), *CompanySize.choices]
    )


class LeadForm(forms.Form):
    """Owner and team offer whom the user may give the lead to, plus the current ones, so a
    teammate editing a shared lead can keep them (the service refuses a change they may not
    make, next to the field)."""

    owner = UserChoiceField(label="Owner", queryset=User.objects.none(), empty_label=None)
    team = forms.ModelChoiceField(
        label="Shared with team",
        queryset=Team.objects.none(),
        required=False,
        empty_label="Not shared",
    )
    time_zone = forms.CharField(
        label="Time zone",
        required=False,
        max_length=64,
        help_text="An IANA name such as Europe/Paris.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    def __init__(self, *args, viewer: User, lead: Company | Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        owner_pk = lead.owner_id if lead else viewer.pk
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk__in=users_assignable_by(viewer=viewer).values("pk")) | Q(pk=owner_pk)
        ).order_by("display_name", "username")
        self.fields["team"].queryset = Team.objects.filter(
            Q(pk__in=teams_shareable_by(viewer=viewer).values("pk"))
            | Q(pk=lead.team_id if lead else None)
        )


class CompanyForm(LeadForm):
    name = forms.CharField(label="Name", max_length=255)
    domain = forms.CharField(
        label="Domain", required=False, max_length=255, help_text="For example acme.com."
    )
    industry = forms.CharField(
        label="Industry",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "industries"}),
    )
    size = forms.ChoiceField(
        label="Size", required=False, choices=[("", "Unknown"), *CompanySize.choices]
    )
    country = Company._meta.get_field("country").formfield(label="Country", required=False)

    field_order = ["name", "domain", "industry", "size", "country", "time_zone", "owner", "team"]


class ContactForm(LeadForm):
    company = forms.ModelChoiceField(
        label="Company",
        queryset=Company.objects.none(),
        empty_label="Choose a company",
        error_messages={"invalid_choice": "Choose one of the companies you can see."},
    )
    first_name = forms.CharField(label="First name", required=False, max_length=100)
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    email = forms.EmailField(label="Email", required=False, max_length=254)
    phone = forms.CharField(label="Phone", required=False, max_length=50)
    title = forms.CharField(label="Job title", required=False, max_length=255)
    linkedin_url = forms.URLField(
        label="LinkedIn URL", required=False, max_length=500, assume_scheme="https"
    )
    email_status = forms.ChoiceField(
        label="Email status", choices=EmailStatus.choices, initial=EmailStatus.UNKNOWN
    )

    field_order = [
        "company",
        "first_name",
        "last_name",
        "email",
        "phone",
        "title",
        "linkedin_url",
        "time_zone",
        "email_status",
        "owner",
        "team",
    ]

    def __init__(self, *args, viewer: User, lead: Contact | None = None, **kwargs):
        super().__init__(*args, viewer=viewer, lead=lead, **kwargs)
        current = lead.company_id if lead else None
        self.fields["company"].queryset = Company.objects.filter(
            Q(pk__in=company_list(viewer=viewer).values("pk")) | Q(pk=current)
        ).order_by("name", "company_id")


# -- The two kinds of lead ---------------------------------------------------------------------


@dataclass(frozen=True)
class LeadKind:
    """What the contact pages and the company pages differ in: their create, edit and delete
    views are shared, and each URL names the kind it serves."""

    form_class: type[LeadForm]
    #: The fields the edit form starts from.
    fields: tuple[str, ...]
    visible: Callable[..., QuerySet]
    create: Callable[..., Company | Contact]
    update: Callable[..., Company | Contact]
    delete: Callable[[Company | Contact], None]
    list_url: str
    new_title: str


CONTACTS = LeadKind(
    form_class=ContactForm,
    fields=services.CONTACT_FIELDS,
    visible=contact_list,
    create=services.contact_create,
    update=lambda *, actor, lead, data: services.contact_update(
        actor=actor, contact=lead, data=data
    ),
    delete=lambda lead: services.contact_delete(contact=lead),
    list_url="web-contacts",
    new_title="New contact",
)
COMPANIES = LeadKind(
    form_class=CompanyForm,
    fields=services.COMPANY_FIELDS,
    visible=company_list,
    create=services.company_create,
    update=lambda *, actor, lead, data: services.company_update(
        actor=actor, company=lead, data=data
    ),
    delete=lambda lead: services.company_delete(company=lead),
    list_url="web-companies",
    new_title="New company",
)


# -- Helpers ------------------------------------------------------------------------------------


def _search(qs, q: str, fields: tuple[str, ...]):
    """Every word must match one of ``fields``: "ada acme" finds Ada at Acme."""
    for term in q.split()[:5]:
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}__icontains": term})
        qs = qs.filter(condition)
    return qs


def _lead_form_page(request, *, form: forms.Form, save: Callable[[dict], object], context: dict):
    """Validate, save through the service, redirect to the lead; or re-render with the errors
    next to their fields (400)."""
    if request.method == "POST" and form.is_valid():
        try:
            lead = save(form.cleaned_data)
        except (CadenceError, ValidationError) as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"Saved {lead}.")
            return redirect(lead_url(lead))
    context = {
        **context,
        "form": form,
        "time_zones": time_zone_names(),
        "industries": _industries(request.user),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "web/leads/lead_form.html", context, status=status)


def lead_url(lead: Company | Contact) -> str:
    if isinstance(lead, Contact):
        return reverse("web-contact", args=[lead.pk])
    return reverse("web-company", args=[lead.pk])


def _lead_plans(viewer: User, **lookup) -> list:
    """A lead's plans the viewer may see, most pressing first, each marked when overdue."""
    now = timezone.now()
    plans = list(plan_list(viewer=viewer).filter(**lookup)[:HISTORY_LIMIT])
    for plan in plans:
        plan.overdue = is_overdue(plan, now)
    return plans


def _lead_activities(viewer: User, **lookup):
    return (
        activity_list(viewer=viewer)
        .filter(**lookup)
        .order_by("-occurred_at", "-created_at")[:HISTORY_LIMIT]
    )


# -- Contacts -----------------------------------------------------------------------------------


def filter_contacts(qs, data: dict):
    if data.get("q"):
        qs = _search(
            qs,
            data["q"],
            ("first_name", "last_name", "email", "company__name", "company__domain"),
        )
    if data.get("industry"):
        qs = qs.filter(company__industry=data["industry"])
    if data.get("owner"):
        qs = qs.filter(owner_id=data["owner"])
    if data.get("email_status"):
        qs = qs.filter(email_status=data["email_status"])
    if data.get("opted_out"):
        qs = qs.filter(opted_out=data["opted_out"] == "yes")
    return qs


@login_required
def contacts_page(request):
    """Contacts the user may see, searched and filtered; selected ones go to the assign page."""
    form = ContactFilterForm(request.GET or None, viewer=request.user)
    filters = form.filters()
    contacts = filter_contacts(contact_list(viewer=request.user), filters)
    contacts = contacts.order_by("last_name", "first_name", "contact_id")
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "q": filters.get("q", "")}
    return render_list(
        request, "web/leads/contact_list.html", "web/leads/partials/contact_results.html", context
    )


@login_required
def contact_page(request, pk):
    contact = get_object_or_404(contact_list(viewer=request.user), pk=pk)
    context = {
        "contact": contact,
        "plans": _lead_plans(request.user, contact=contact),
        "activities": _lead_activities(request.user, contact=contact),
        "can_delete": lead_can_delete(request.user, contact),
        "history_limit": HISTORY_LIMIT,
        "suggestions": suggestions_of_lead(viewer=request.user, contact=contact),
    }
    return render(request, "web/leads/contact_detail.html", context)


# -- Companies ----------------------------------------------------------------------------------


def filter_companies(qs, data: dict):
    if data.get("q"):
        qs = _search(qs, data["q"], ("name", "domain", "industry"))
    if data.get("industry"):
        qs = qs.filter(industry=data["industry"])
    if data.get("owner"):
        qs = qs.filter(owner_id=data["owner"])
    if data.get("size"):
        qs = qs.filter(size=data["size"])
    return qs


@login_required
def companies_page(request):
    form = CompanyFilterForm(request.GET or None, viewer=request.user)
    companies = filter_companies(company_list(viewer=request.user), form.filters())
    page = Paginator(companies.order_by("name", "company_id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Counted for the page's companies only (an annotation would count for every company before
    # paginating), and only the contacts the user may see: those the company's page lists.
    page.object_list = list(page.object_list)
    counts = dict(
        contact_list(viewer=request.user)
        .filter(company_id__in=[company.pk for company in page.object_list])
        .order_by()
        .values_list("company_id")
        .annotate(n=Count("pk"))
    )
    for company in page.object_list:
        company.contact_count = counts.get(company.pk, 0)
    return render_list(
        request,
        "web/leads/company_list.html",
        "web/leads/partials/company_results.html",
        {"form": form, "page": page},
    )


@login_required
def company_page(request, pk):
    company = get_object_or_404(company_list(viewer=request.user), pk=pk)
    contacts = contact_list(viewer=request.user).filter(company=company)
    contacts = contacts.order_by("last_name", "first_name", "contact_id")
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "company": company,
        "page": page,
        "plans": _lead_plans(request.user, company=company),
        "activities": _lead_activities(request.user, company=company),
        "can_delete": lead_can_delete(request.user, company),
        "history_limit": HISTORY_LIMIT,
    }
    return render(request, "web/leads/company_detail.html", context)


# -- Creating, editing and deleting either kind ---------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lead_create_page(request, kind: LeadKind):
    initial = {"owner": request.user}
    # A contact added from its company's page starts at that company (a company's form has no
    # such field and ignores it).
    company = request.GET.get("company")
    if company:
        initial["company"] = company
    form = kind.form_class(request.POST or None, viewer=request.user, initial=initial)
    return _lead_form_page(
        request,
        form=form,
        save=lambda data: kind.create(actor=request.user, **data),
        context={"title": kind.new_title, "cancel_url": reverse(kind.list_url)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit_page(request, pk, kind: LeadKind):
    lead = get_object_or_404(kind.visible(viewer=request.user), pk=pk)
    initial = {name: getattr(lead, name) for name in kind.fields}
    form = kind.form_class(request.POST or None, viewer=request.user, lead=lead, initial=initial)
    return _lead_form_page(
        request,
        form=form,
        save=lambda data: kind.update(actor=request.user, lead=lead, data=data),
        context={"title": f"Edit {lead}", "lead": lead, "cancel_url": lead_url(lead)},
    )


@login_required
@require_POST
def lead_delete_page(request, pk, kind: LeadKind):
    """Delete when allowed; either way the browser goes on (htmx by a client redirect)."""
    lead = get_object_or_404(kind.visible(viewer=request.user), pk=pk)
    if lead_can_delete(request.user, lead):
        name = str(lead)
        kind.delete(lead)
        messages.success(request, f"Deleted {name}.")
        target = reverse(kind.list_url)
    else:
        messages.error(request, "Only the owner, their manager or an admin may delete this.")
        target = lead_url(lead)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


urlpatterns = [
    path("contacts/", contacts_page, name="web-contacts"),
    path("contacts/new/", lead_create_page, {"kind": CONTACTS}, name="web-contact-new"),
    path("contacts/<uuid:pk>/", contact_page, name="web-contact"),
    path("contacts/<uuid:pk>/edit/", lead_edit_page, {"kind": CONTACTS}, name="web-contact-edit"),
    path(
        "contacts/<uuid:pk>/delete/",
        lead_delete_page,
        {"kind": CONTACTS},
        name="web-contact-delete",
    ),
    path("companies/", companies_page, name="web-companies"),
    path("companies/new/", lead_create_page, {"kind": COMPANIES}, name="web-company-new"),
    path("companies/<uuid:pk>/", company_page, name="web-company"),
    path("companies/<uuid:pk>/edit/", lead_edit_page, {"kind": COMPANIES}, name="web-company-edit"),
    path(
        "companies/<uuid:pk>/delete/",
        lead_delete_page,
        {"kind": COMPANIES},
        name="web-company-delete",
    ),
]
