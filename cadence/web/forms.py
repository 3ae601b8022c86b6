"""Forms shared by the web pages. Each area keeps its own forms beside its views."""

from django import forms


class PostalAddressForm(forms.Form):
    postal_address = forms.CharField(
        label="Postal address for the footer of your automated emails",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )
