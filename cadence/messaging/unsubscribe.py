"""Signed unsubscribe links: one per contact, usable without signing in.

The token is the contact's ID signed with the secret key (``django.core.signing``), so it cannot
be guessed or altered; it does not expire, because a recipient may unsubscribe from an old email.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

from cadence.crm.models import Contact

_SALT = "cadence.messaging.unsubscribe"


def unsubscribe_token(contact: Contact) -> str:
    return signing.Signer(salt=_SALT).sign(contact.pk.hex)


def unsubscribe_url(contact: Contact) -> str:
    path = reverse("unsubscribe", kwargs={"token": unsubscribe_token(contact)})
    return settings.CADENCE_SITE_URL.rstrip("/") + path


def contact_for_token(token: str) -> Contact | None:
    """The contact a token names; ``None`` for a tampered token or a contact since deleted."""
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
        contact_id = uuid.UUID(hex=value)
    except (signing.BadSignature, ValueError, TypeError, AttributeError):
        return None
    return Contact.objects.filter(pk=contact_id).first()
