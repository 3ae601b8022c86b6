from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression


def outbox_list(*, viewer: User) -> QuerySet[OutboundMessage]:
    """Automated emails the viewer sends, or (managers) their team sends, or (admins) all."""
    return OutboundMessage.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "contact", "company", "step", "user"
    )


def suppression_list(*, viewer: User) -> QuerySet[Suppression]:
    """The whole organisation's list: everyone must be able to check an address against it."""
    return Suppression.objects.select_related("created_by")


def sender_list(*, viewer: User) -> QuerySet[Sender]:
    return Sender.objects.filter(scope_by_user(viewer, field="user")).select_related("user")


def inbound_list(*, viewer: User) -> QuerySet[InboundMessage]:
    """Inbound mail about the viewer's (team's) plans; unmatched mail only for admins."""
    qs = InboundMessage.objects.select_related("contact", "plan")
    if viewer.is_admin:
        return qs
    return qs.filter(
        scope_by_user(viewer, field="plan__user")
        | scope_by_user(viewer, field="outbound_message__user")
    ).distinct()


@dataclass(frozen=True)
class CapturedMail:
    name: str
    subject: str
    from_address: str
    to: tuple[str, ...]
    date: str
    size: int


def _capture_dir() -> Path:
    return Path(settings.CADENCE_MAIL_CAPTURE_DIR)


def _read_captured(path: Path):
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)


def _visible_to(viewer: User, message) -> bool:
    if viewer.is_admin:
        return True
    if not viewer.email:
        return False
    addresses = {
        address.lower()
        for _, address in getaddresses(
            [str(message.get(h, "")) for h in ("From", "To", "Cc", "Reply-To")]
        )
    }
    return viewer.email.lower() in addresses


def captured_mail_list(*, viewer: User, limit: int = 500) -> list[CapturedMail]:
    """The embedded default's captured mail, newest first: what the viewer sent or received
    (all of it for admins)."""
    directory = _capture_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.eml"), reverse=True):
        if len(found) >= limit:
            break
        try:
            message = _read_captured(path)
        except OSError:
            continue  # removed meanwhile
        if not _visible_to(viewer, message):
            continue
        found.append(
            CapturedMail(
                name=path.stem,
                subject=str(message.get("Subject", "")),
                from_address=str(message.get("From", "")),
                to=tuple(a for _, a in getaddresses([str(message.get("To", ""))])),
                date=str(message.get("Date", "")),
                size=path.stat().st_size,
            )
        )
    return found


def captured_mail_get(*, viewer: User, name: str):
    """One captured message, parsed, or ``None`` if it does not exist or is not the viewer's."""
    if not name.replace("-", "").replace("T", "").isalnum():
        return None
    path = _capture_dir() / f"{name}.eml"
    if not path.is_file():
        return None
    message = _read_captured(path)
    return message if _visible_to(viewer, message) else None
