from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django_countries.fields import CountryField

from cadence.core.models import TimestampedModel, uuid_primary_key
from cadence.core.validators import validate_time_zone
from cadence.crm.choices import CompanySize, EmailStatus


class Company(TimestampedModel):
    """An organisation being sold to: the target of every lead contact plan.

    Visible to its owner, to the members of ``team`` when it is shared with one, to the managers
    of the owner's team, and to admins.
    """

    company_id = uuid_primary_key("company ID")
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=20, choices=CompanySize.choices, blank=True, default="")
    country = CountryField(blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="companies"
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="companies",
        help_text="Share with every member of this team.",
    )

    class Meta:
        db_table = "companies"
        verbose_name_plural = "companies"
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"], name="company_name_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
            models.Index(fields=["industry"], name="company_industry_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimestampedModel):
    """A person at a company whom a rep contacts; the usual target of a plan."""

    contact_id = uuid_primary_key("contact ID")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=50, blank=True, default="")
    title = models.CharField(max_length=255, blank=True, default="")
    linkedin_url = models.URLField(max_length=500, blank=True, default="")
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts"
    )
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        help_text="Share with every member of this team.",
    )
    email_status = models.CharField(
        max_length=20, choices=EmailStatus.choices, default=EmailStatus.UNKNOWN
    )
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "contacts"
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(Lower("email"), name="contact_email_lower_idx"),
            models.Index(fields=["last_name", "first_name"], name="contact_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email_status__in=EmailStatus.values),
                name="contact_email_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(opted_out=False) | models.Q(opted_out_at__isnull=False),
                name="contact_opt_out_dated",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or str(self.pk)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
