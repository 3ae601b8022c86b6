"""Admin for companies and contacts.

Both tables grow to hundreds of thousands of rows, so foreign keys to them are chosen through
autocomplete, the changelists join what they show, and the unfiltered COUNT(*) that Django runs
on every changelist page is skipped.
"""

from django.contrib import admin
from django.db import models

from cadence.crm.models import Company, Contact

TIMESTAMPS = ("created_at", "updated_at")


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "domain",
        "industry",
        "size",
        "country",
        "owner",
        "team",
        "created_at",
    )
    list_filter = ("size", "team")
    list_select_related = ("owner", "team")
    search_fields = ("name", "domain")
    autocomplete_fields = ("owner", "team")
    readonly_fields = TIMESTAMPS
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("name", "domain", "industry", "size")}),
        ("Location", {"fields": ("country", "time_zone")}),
        ("Ownership", {"fields": ("owner", "team")}),
        ("History", {"fields": TIMESTAMPS}),
    )


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "email",
        "title",
        "company",
        "owner",
        "email_status",
        "opted_out",
        "created_at",
    )
    list_filter = ("email_status", "opted_out", "team")
    list_select_related = ("company", "owner", "team")
    search_fields = ("first_name", "last_name", "email", "company__name")
    autocomplete_fields = ("company", "owner", "team")
    # An opt-out also ends the contact's plans and suppresses the address: it is recorded by
    # the unsubscribe link, an Unsubscribed activity or inbound mail, not a tick box here.
    readonly_fields = ("opted_out", "opted_out_at", *TIMESTAMPS)
    show_full_result_count = False
    # A LinkedIn URL typed without a scheme is an https one (and Django 6 will assume so).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), "title", "company")}),
        ("Reaching them", {"fields": ("email", "email_status", "phone", "linkedin_url")}),
        ("Location", {"fields": ("time_zone",)}),
        ("Opt-out", {"fields": ("opted_out", "opted_out_at")}),
        ("Ownership", {"fields": ("owner", "team")}),
        ("History", {"fields": TIMESTAMPS}),
    )
