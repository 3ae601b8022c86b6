"""Reading the reps' own mailboxes: what lands in their inbox goes through the inbound pipeline,
so that a reply stops the plan by itself.

A sync holds its mailbox (``mailbox_claim_sync``: one sync at a time per mailbox, whichever
worker runs it), reads the inbox's new messages without changing them (``mailboxes.reading``),
and hands each message that concerns a lead to ``inbound_receive``: a reply to an email Cadence
sent or a rep logged, mail from a contact's address, a bounce of one of our emails. The rest of
the rep's mail is not Cadence's business and is not stored. ``inbound_receive`` records each
Message-ID once, whichever way it came in (webhook, raw API, mailbox). A refused login counts
towards the mailbox being broken, which its owner is told of.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cadence.mailboxes import services as mailbox_services
from cadence.mailboxes.choices import MailboxStatus
from cadence.mailboxes.connection import MailboxError
from cadence.mailboxes.models import Mailbox
from cadence.mailboxes.reading import FolderState, folder_search_from, folders_read
from cadence.messaging.inbound import inbound_receive
from cadence.messaging.inbound_match import InboundScope
from cadence.messaging.inbound_parse import parse_message
from cadence.messaging.mailbox_sent import is_own_mail, sent_by_hand_record
from cadence.notifications.services import notification_create

logger = logging.getLogger(__name__)

INBOX = "INBOX"
#: How long a sync may hold its mailbox; a worker that dies frees it after this.
SYNC_LEASE = datetime.timedelta(minutes=10)
#: Messages read per folder and sync; the next sync reads on.
BATCH = 500


@dataclass(frozen=True)
class SyncResult:
    mailbox_id: object
    read: int = 0
    applied: int = 0
    logged: int = 0
    skipped: bool = False
    error: str = ""


def concerns_a_lead(raw: bytes, *, mailbox: Mailbox) -> bool:
    """Whether a message in the owner's inbox is about their leads: it answers or bounces an
    email Cadence sent or a rep logged, or comes from a contact's address, within the owner's
    scope. Only those are recorded. The owner's own mail never is (``is_own_mail``)."""
    parsed = parse_message(raw, today=timezone.now().date())
    if is_own_mail(parsed.from_address, mailbox):
        return False
    scope = InboundScope(mailbox.user)
    sent = scope.sent_message(parsed)
    if sent is not None:
        return True
    contact, _, _ = scope.lead(parsed, None)
    return contact is not None


def mailbox_sync(*, mailbox: Mailbox, now: datetime.datetime | None = None) -> SyncResult:
    """Read the mailbox's new messages, in its Sent folder and its inbox, in one session: the
    rep's own emails to leads are logged (``sent_by_hand_record``), then the inbox's messages
    about leads are applied. Returns what was done (``skipped`` when another sync holds the
    mailbox, it is broken, or failed syncs put this one off)."""
    now = now or timezone.now()
    if not mailbox_services.mailbox_claim_sync(mailbox=mailbox, now=now, lease=SYNC_LEASE):
        return SyncResult(mailbox.pk, skipped=True)
    # The Sent folder first: a lead's answer to an email the rep wrote by hand is matched to it.
    extra = settings.CADENCE_MAILBOX_FOLDERS
    inboxes = [INBOX, *(name for name in extra if name not in (INBOX, mailbox.sent_folder))]
    states = [
        _state(mailbox, name, optional=name not in (INBOX, mailbox.sent_folder))
        for name in ([mailbox.sent_folder] if mailbox.sent_folder else []) + inboxes
    ]
    try:
        imap, _ = mailbox_services.mailbox_endpoints(mailbox)
        reads = folders_read(imap, states, since=_first_day(mailbox), limit=BATCH)
    except MailboxError as exc:
        return _failed(mailbox, exc, now)
    found = {
        state.name: read for state, read in zip(states, reads, strict=True) if read is not None
    }
    logged = 0
    if mailbox.sent_folder:
        logged = _log_sent(mailbox, found[mailbox.sent_folder].messages, now=now)
    applied = sum(
        _apply(mailbox, found[name].messages, now=now) for name in inboxes if name in found
    )
    for name, read in found.items():
        mailbox_services.mailbox_folder_advance(
            mailbox=mailbox, name=name, uid_validity=read.uid_validity, last_uid=read.last_uid
        )
    seen = sum(len(read.messages) for read in found.values())
    mailbox_services.mailbox_sync_finished(mailbox=mailbox, now=now, seen=seen)
    return SyncResult(mailbox.pk, read=seen, applied=applied, logged=logged)


def _state(mailbox: Mailbox, name: str, *, optional: bool) -> FolderState:
    state = mailbox_services.mailbox_folder_state(mailbox=mailbox, name=name)
    if state is None:
        return FolderState(name, None, 0, optional=optional)
    return FolderState(name, state.uid_validity, state.last_uid, optional=optional)


def _first_day(mailbox: Mailbox) -> datetime.date:
    """Where reading starts without state (or after a renumbering): the day before the last
    sync, or before the mailbox was connected."""
    return ((mailbox.last_sync_at or mailbox.created_at) - datetime.timedelta(days=1)).date()


def _apply(mailbox: Mailbox, messages: list[tuple[int, bytes]], *, now) -> int:
    """Hand the messages about leads to the inbound pipeline; returns how many."""
    applied = 0
    for uid, raw in messages:
        try:
            if concerns_a_lead(raw, mailbox=mailbox):
                with transaction.atomic():
                    inbound_receive(raw=raw, source="mailbox", now=now, viewer=mailbox.user)
                applied += 1
        except Exception:
            # One message Cadence cannot apply must not stop the mailbox from being read: it is
            # logged and passed over, and the sync reads on.
            logger.exception("Mailbox %s: message UID %s could not be applied", mailbox.pk, uid)
    return applied


def _log_sent(mailbox: Mailbox, messages: list[tuple[int, bytes]], *, now) -> int:
    logged = 0
    for uid, raw in messages:
        try:
            with transaction.atomic():
                logged += sent_by_hand_record(mailbox=mailbox, raw=raw, now=now)
        except Exception:
            logger.exception("Mailbox %s: sent message UID %s could not be logged", mailbox.pk, uid)
    return logged


def mailbox_check_before_send(
    *, mailbox: Mailbox, addresses: list[str], now: datetime.datetime | None = None
) -> int:
    """The check just before sending: look in the owner's inbox for mail from these leads that
    no sync has read yet, and apply it now, so that a reply that landed a minute ago ends its
    plan before the next step goes out. Returns how many messages were applied; raises
    ``MailboxError`` when the inbox cannot be read (the caller's emails then wait). The sync
    reads them again later; the inbound records, one per Message-ID, keep them from counting
    twice."""
    now = now or timezone.now()
    state = mailbox_services.mailbox_folder_state(mailbox=mailbox, name=INBOX)
    imap, _ = mailbox_services.mailbox_endpoints(mailbox)
    found = folder_search_from(
        imap,
        folder=INBOX,
        uid_validity=state.uid_validity if state else None,
        last_uid=state.last_uid if state else 0,
        since=_first_day(mailbox),
        addresses=sorted(set(addresses)),
    )
    return _apply(mailbox, found, now=now)


def _failed(mailbox: Mailbox, exc: MailboxError, now: datetime.datetime) -> SyncResult:
    logger.warning("Mailbox %s: sync failed: %s", mailbox.pk, exc.message)
    was_broken = mailbox.status == MailboxStatus.BROKEN
    mailbox = mailbox_services.mailbox_sync_finished(
        mailbox=mailbox, now=now, seen=0, error=exc.message, auth=exc.authentication
    )
    mailbox_trouble_tell(mailbox, was_broken=was_broken, reason=exc.message)
    return SyncResult(mailbox.pk, error=exc.message)


def mailbox_trouble_tell(mailbox: Mailbox, *, was_broken: bool, reason: str) -> None:
    """Tell the owner once, when their mailbox has just become broken (by a sync or a send):
    until they fix it, it is not read and their automated emails wait."""
    if mailbox.status == MailboxStatus.BROKEN and not was_broken:
        notification_create(
            user_id=mailbox.user_id,
            title="Your mailbox cannot be read",
            body=(
                f"{mailbox.email_address}: {reason} Until you update it on your settings "
                "page, it is not read and your automated emails wait."
            ),
            url="/settings/#mailbox",
        )


def mailboxes_due_for_sync(*, now: datetime.datetime):
    """The mailboxes to sync now: not broken, and not put off by failed syncs."""
    return Mailbox.objects.exclude(status=MailboxStatus.BROKEN).filter(
        Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)
    )


def mailboxes_sync_all(*, now: datetime.datetime | None = None) -> list[SyncResult]:
    """Sync every mailbox due, one after the other (the task fans them out)."""
    results = []
    for mailbox in mailboxes_due_for_sync(now=now or timezone.now()).select_related("user"):
        results.append(mailbox_sync(mailbox=mailbox, now=now))
    return results
