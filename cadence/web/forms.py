"""Forms shared by the web pages. Each area keeps its own forms beside its views."""

from django import forms
from django.core.exceptions import ValidationError

from cadence.core.errors import CadenceError


class PostalAddressForm(forms.Form):
    postal_address = forms.CharField(
        label="Postal address for the footer of your automated emails",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )


def show_service_error(
    form: forms.Form, exc: CadenceError | ValidationError, fields: dict[str, str] | None = None
) -> None:
    """Show a service's refusal next to the form field it names, or above the form. ``fields``
    maps the services' field names to the form's where they differ; otherwise ``owner_id``
    reads as ``owner``. A name the form has no field for goes above the form."""
    if isinstance(exc, CadenceError):
        name = exc.field or ""
        name = (fields or {}).get(name, name.removesuffix("_id"))
        form.add_error(name if name in form.fields else None, exc.message)
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
