"""Reports mail systems send about an email: bounces (delivery status notifications, RFC 3464,
and the free-text notices some servers write for people), spam complaints (ARF, RFC 5965) and
read receipts (RFC 8098). What failed, whether for good, and which email it was.

Like the rest of the parser (see ``inbound_parse``), nothing here raises on bad input.
"""

from __future__ import annotations

import email
import re
from email.message import Message
from email.utils import collapse_rfc2231_value

from cadence.messaging.choices import InboundKind
from cadence.messaging.inbound_body import (
    MAX_SCAN,
    content_type,
    leaves,
    part_text,
    sub_message,
    texts,
)
from cadence.messaging.inbound_headers import (
    ADDRESS,
    addresses_in,
    first_header,
    header_values,
    ids_in,
    normalise_message_id,
)

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)
_BOUNCE_SENDER = re.compile(
    r"(?:mailer-daemon|mail-daemon|maildaemon|postmaster|microsoftexchange[0-9a-f]*)@", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery (?:has )?failed|"
    r"delivery (?:failure|incomplete|delayed)|failure notice|returned mail|mail delivery|"
    r"could ?n[o']t be delivered|was ?n[o']t delivered|not delivered|unzustellbar|"
    r"nicht zugestellt|non remis|non distribuable|no se (?:puede|pudo) entregar|"
    r"warning: could not send",
    re.I,
)
_DELAY_SUBJECT = re.compile(r"\bdelay|incomplete|warning|verzögert|retard", re.I)
# Bounce text ends where the copy of the original starts; addresses past it are not failures.
_COPY_MARKER = re.compile(
    r"^[ \t>*_-]*(?:(?:the )?original (?:message|headers)|original message headers|"
    r"below this line is a copy|this is a copy of|ursprüngliche nachricht|"
    r"(?:received|return-path|dkim-signature|message-id|x-[\w-]+)\s*:)",
    re.I | re.M,
)
_TEXT_MESSAGE_ID = re.compile(r"Message-ID\s*:\s*(<[^<>\s]+>)", re.I)


def _report_type(msg: Message) -> str:
    if content_type(msg) != "multipart/report":
        return ""
    try:
        value = msg.get_param("report-type")
    except Exception:
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return str(value or "").strip().lower()


def _find_part(msg: Message, types: tuple[str, ...]) -> Message | None:
    return next((part for part in leaves(msg) if content_type(part) in types), None)


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part, parsed or left as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = part_text(part).replace("\r\n", "\n")
    return [email.message_from_string(chunk) for chunk in re.split(r"\n[ \t]*\n", text)]


def _dsn_address(value: str) -> str:
    address = value.rpartition(";")[2].strip().strip("<>").strip().lower()
    return address if ADDRESS.fullmatch(address) else ""


def _dsn_outcome(part: Message) -> tuple[list[str], bool, bool] | None:
    """(failed recipients, permanent, delayed) from the per-recipient fields, or None if none.

    A failure is permanent unless its status is 4.x.x: an MTA giving up after days of
    temporary errors reports "failed", but the address itself may well be fine.
    """
    failed: list[str] = []
    permanent = delayed = seen = False
    for block in _field_blocks(part):
        action = first_header(block, "Action").lower()
        status = first_header(block, "Status")
        addresses = [
            found
            for found in map(
                _dsn_address,
                header_values(block, "Original-Recipient")
                + header_values(block, "Final-Recipient"),
            )
            if found
        ]
        if not action and not addresses:
            continue  # the per-message block
        seen = True
        if action == "failed" or (not action and status.startswith("5")):
            failed += [found for found in dict.fromkeys(addresses) if found not in failed]
            permanent = permanent or not status.startswith("4")
        elif action == "delayed" or status.startswith("4"):
            delayed = True
    return (failed, permanent, delayed) if seen else None


def _own_addresses(msg: Message) -> set[str]:
    names = ("From", "To", "Cc", "Reply-To", "Sender", "Return-Path", "Delivered-To")
    return set(addresses_in([value for name in names for value in header_values(msg, name)]))


def _text_recipients(msg: Message) -> list[str]:
    """Failed addresses named in a bounce written for people: whatever address the notice
    mentions before its copy of the original, except the bounce's own parties."""
    excluded = _own_addresses(msg)
    found: list[str] = []
    for text in texts(msg, attachments=False):
        notice = _COPY_MARKER.split(text[:MAX_SCAN], 1)[0]
        for match in ADDRESS.finditer(notice):
            address = match.group(0).lower()
            if address in excluded or address in found or _BOUNCE_SENDER.match(address):
                continue
            found.append(address)
    return found


def original_id(msg: Message, own_id: str) -> str:
    """The Message-ID of the mail a bounce or complaint is about: from its embedded copy or,
    failing that (bounces written for people), from a "Message-ID:" line in the text."""
    part = _find_part(msg, _ORIGINAL_TYPES)
    original = sub_message(part) if part is not None else None
    for value in header_values(original, "Message-ID"):
        for found in ids_in(value):
            return found
    for text in texts(msg, attachments=True):
        for match in _TEXT_MESSAGE_ID.finditer(text[:MAX_SCAN]):
            found = normalise_message_id(match.group(1))
            if found and found != own_id:
                return found
    return ""


def _complaint_recipients(msg: Message) -> list[str]:
    part = _find_part(msg, ("message/feedback-report",))
    report = sub_message(part) if part is not None else None
    found = addresses_in(header_values(report, "Original-Rcpt-To"))
    if not found:
        part = _find_part(msg, _ORIGINAL_TYPES)
        original = sub_message(part) if part is not None else None
        found = addresses_in(header_values(original, "To"))
    return found


def classify_report(
    msg: Message, subject: str, sender: str
) -> tuple[InboundKind, list[str], bool] | None:
    """(kind, recipients, permanent) when ``msg`` is a complaint, a read receipt or a bounce;
    ``None`` when it is none of these."""
    feedback = _find_part(msg, ("message/feedback-report",))
    if _report_type(msg) == "feedback-report" or feedback is not None:
        return InboundKind.COMPLAINT, _complaint_recipients(msg), False
    # A read receipt (RFC 8098) says the email was opened: not a reply, and no reason to act.
    receipt = _find_part(msg, ("message/disposition-notification",))
    if _report_type(msg) == "disposition-notification" or receipt is not None:
        return InboundKind.RECEIPT, [], False
    dsn = _find_part(msg, _DSN_TYPES)
    is_dsn = dsn is not None or _report_type(msg) == "delivery-status"
    if not is_dsn and not (_BOUNCE_SENDER.match(sender) and _BOUNCE_SUBJECT.search(subject)):
        return None
    outcome = _dsn_outcome(dsn) if dsn is not None else None
    if outcome is not None:
        # A success notice (Action: delivered/relayed) is reported as a non-permanent bounce:
        # nothing failed, and it is no reason to pause or end anything.
        failed, permanent, _delayed = outcome
        return InboundKind.BOUNCE, failed, permanent and bool(failed)
    return InboundKind.BOUNCE, _text_recipients(msg), not _DELAY_SUBJECT.search(subject)
