from __future__ import annotations

import email
import email.policy
import uuid
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Lower

from cadence.accounts.models import User
from cadence.accounts.selectors import can_manage_user_work, scope_by_user
from cadence.messaging.choices import OutboundStatus, SuppressionReason
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression
from cadence.notifications.models import REMINDER_EMAIL_HEADER, EmailDelivery
from cadence.strategies.models import StrategyStep
from cadence.strategies.selectors import strategies_approvable_by


def outbox_list(*, viewer: User) -> QuerySet[OutboundMessage]:
    """Automated emails the viewer sends, or (managers) their team sends, or (admins) all."""
    return OutboundMessage.objects.filter(scope_by_user(viewer, field="user")).select_related(
        "contact", "company", "step", "user"
    )


def suppression_list(*, viewer: User) -> QuerySet[Suppression]:
    """The whole organisation's list: everyone must be able to check an address against it
    (an opt-out is the organisation's), and see who added it, to ask them.

    ``note_visible`` says whether the viewer may read an entry's note: what a person wrote is
    for their team (and admins), Cadence's own notes ("Hard bounce.") for everyone."""
    return Suppression.objects.select_related("created_by", "contact__owner").annotate(
        note_visible=Case(
            When(_note_readable_by(viewer), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _note_readable_by(viewer: User) -> Q:
    if viewer.is_admin:
        return Q(pk__isnull=False)
    readable = Q(created_by__isnull=True) | Q(created_by=viewer)
    if viewer.team_id:
        readable |= Q(created_by__team=viewer.team_id)
    return readable


def _suppressions_of(addresses: list[str]) -> QuerySet[Suppression]:
    """Entries for these addresses, compared as the list keeps them: case-insensitively."""
    wanted = [address.strip().lower() for address in addresses]
    return Suppression.objects.annotate(address=Lower("email")).filter(address__in=wanted)


def suppression_find(email: str) -> Suppression | None:
    """The suppression list's entry for an address, whatever its case, or ``None``."""
    return _suppressions_of([email]).first()


def suppressed_among(addresses: list[str]) -> set[str]:
    """Which of these addresses are on the suppression list, lowercased."""
    return set(_suppressions_of(addresses).values_list("address", flat=True))


#: A recipient's own word, which only an admin may lift.
RECIPIENTS_WORD = (SuppressionReason.UNSUBSCRIBED, SuppressionReason.COMPLAINED)


def suppression_can_lift(viewer: User, suppression: Suppression) -> bool:
    """Whether ``viewer`` may allow email to the address again. Admins may lift any entry;
    managers an entry added by hand or by a bounce, when it is their team's: added by someone
    whose work they manage, or (added by Cadence) for such a person's contact. An entry that
    names nobody is the organisation's, for any manager. A recipient's own unsubscribe or
    complaint is for admins only."""
    if viewer.is_admin:
        return True
    if not viewer.is_manager or suppression.reason in RECIPIENTS_WORD:
        return False
    owner = suppression.created_by
    if owner is None and suppression.contact is not None:
        owner = suppression.contact.owner
    return owner is None or can_manage_user_work(viewer, owner)


def automation_approvals(*, viewer: User) -> dict:
    """For managers and admins: the strategies they may approve whose messages (among those the
    viewer sees) wait for approval (``pending_strategies``, each with ``awaiting_count``), and
    those whose automation is on, to stop it (``approved_strategies``). Another team's template
    that the viewer's team follows is left out: only its own team approves it."""
    if not (viewer.is_manager or viewer.is_admin):
        return {}
    awaiting = (
        outbox_list(viewer=viewer)
        .filter(strategy=OuterRef("pk"), status=OutboundStatus.AWAITING_APPROVAL)
        .order_by()
        .values("strategy")
        .annotate(n=Count("pk"))
        .values("n")
    )
    pending = (
        strategies_approvable_by(viewer=viewer)
        .annotate(awaiting_count=Subquery(awaiting, output_field=IntegerField()))
        .filter(awaiting_count__gt=0)
        .order_by("name")
    )
    automated = StrategyStep.objects.filter(strategy=OuterRef("pk"), is_automated=True)
    approved = (
        strategies_approvable_by(viewer=viewer)
        .filter(Exists(automated), automation_approved_at__isnull=False)
        .order_by("name")
    )
    return {"pending_strategies": list(pending), "approved_strategies": list(approved)}


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


#: The header ``outbox_checks.message_build`` puts the outbox row's ID in.
OUTBOX_HEADER = "X-Cadence-Outbox"
#: Captured files read per visibility check: two queries per this many files.
_CAPTURED_BATCH = 100


def _capture_dir() -> Path:
    return Path(settings.CADENCE_MAIL_CAPTURE_DIR)


def _read_captured(path: Path):
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=email.policy.default)


def _header_id(message, header: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(message.get(header, "")).strip())
    except ValueError:
        return None


def _visible(viewer: User, messages: list) -> list[bool]:
    """Which captured messages the viewer may read, decided by what each was sent for, never by
    the addresses in it (a user can set their own address to anything):

    - an automated email: whoever may see its outbox row (the plan's owner, the managers of
      their team, admins);
    - a reminder email: the user it reminded (notifications are personal), and admins;
    - anything else (mail to the server's admins, say): admins only.
    """
    if viewer.is_admin:
        return [True] * len(messages)
    outbox_ids = {_header_id(m, OUTBOX_HEADER) for m in messages} - {None}
    reminder_ids = {_header_id(m, REMINDER_EMAIL_HEADER) for m in messages} - {None}
    seen_outbox = (
        set(outbox_list(viewer=viewer).filter(pk__in=outbox_ids).values_list("pk", flat=True))
        if outbox_ids
        else set()
    )
    seen_reminders = (
        set(
            EmailDelivery.objects.filter(user=viewer, pk__in=reminder_ids).values_list(
                "pk", flat=True
            )
        )
        if reminder_ids
        else set()
    )
    return [
        _header_id(m, OUTBOX_HEADER) in seen_outbox
        or _header_id(m, REMINDER_EMAIL_HEADER) in seen_reminders
        for m in messages
    ]


def captured_mail_list(*, viewer: User, limit: int = 500) -> list[CapturedMail]:
    """The embedded default's captured mail, newest first: that of the plans the viewer may see
    and the viewer's own reminders (all of it for admins)."""
    directory = _capture_dir()
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.eml"), reverse=True)
    found: list[CapturedMail] = []
    for start in range(0, len(paths), _CAPTURED_BATCH):
        batch = []
        for path in paths[start : start + _CAPTURED_BATCH]:
            try:
                batch.append((path, _read_captured(path), path.stat().st_size))
            except OSError:
                continue  # removed meanwhile
        visible = _visible(viewer, [message for _, message, _ in batch])
        for (path, message, size), shown in zip(batch, visible, strict=True):
            if not shown:
                continue
            found.append(
                CapturedMail(
                    name=path.stem,
                    subject=str(message.get("Subject", "")),
                    from_address=str(message.get("From", "")),
                    to=tuple(a for _, a in getaddresses([str(message.get("To", ""))])),
                    date=str(message.get("Date", "")),
                    size=size,
                )
            )
            if len(found) >= limit:
                return found
    return found


def captured_mail_get(*, viewer: User, name: str):
    """One captured message, parsed, or ``None`` if it does not exist or is not the viewer's
    to read (see ``_visible``)."""
    if not name.replace("-", "").replace("T", "").isalnum():
        return None
    path = _capture_dir() / f"{name}.eml"
    if not path.is_file():
        return None
    message = _read_captured(path)
    return message if _visible(viewer, [message])[0] else None
