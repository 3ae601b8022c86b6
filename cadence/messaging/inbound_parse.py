"""Classify an inbound email: a human reply, an auto-reply, a bounce or a spam complaint.

No database and no settings (Django only for the names of the kinds, ``InboundKind``), so every
ingestion path (raw API, management command, provider webhook) shares one parser and the tests
need no fixtures. Inbound mail is hostile and messy, so nothing in the parser raises on bad
input: each helper degrades to an empty value, because one undecodable message must never stop a
mailbox sync.

The parser reads in topics, one module each: ``inbound_headers`` (decoded headers, addresses,
Message-IDs), ``inbound_body`` (MIME parts, the writer's own words), ``inbound_reports``
(bounces, complaints, read receipts) and ``inbound_auto_reply`` (out-of-office answers and their
return dates). This module puts them together.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage, Message

from cadence.messaging.choices import InboundKind
from cadence.messaging.inbound_auto_reply import find_return_date, is_auto_reply, return_date
from cadence.messaging.inbound_body import body_text, strip_quoted
from cadence.messaging.inbound_headers import (
    addresses_in,
    first_header,
    header_values,
    normalise_message_id,
    subject_of,
    thread_ids,
)
from cadence.messaging.inbound_reports import classify_report, original_id

logger = logging.getLogger(__name__)

# What the ingestion paths and the tests read from the parser, wherever it is written.
__all__ = [
    "ParsedInbound",
    "find_return_date",
    "is_auto_reply",
    "normalise_message_id",
    "parse_message",
]

MAX_TEXT = 10_000


@dataclass(frozen=True)
class ParsedInbound:
    """What Cadence needs from an inbound email.

    Message-IDs are normalised by :func:`normalise_message_id` (case kept: they are matched
    exactly against the ones we sent); addresses are bare and lowercased.
    """

    # complaint, receipt, bounce, auto-reply or reply, in that order of precedence
    kind: InboundKind
    message_id: str  # "" when absent or unusable
    from_address: str
    subject: str  # RFC 2047 decoded, whitespace collapsed
    text: str  # the sender's own words, quoted history removed, at most MAX_TEXT characters
    # In-Reply-To, References newest first, then (bounces, complaints) the original's id.
    referenced_ids: tuple[str, ...] = ()
    # Bounces: the failed recipients; complaints: the complaining recipient.
    bounced_recipients: tuple[str, ...] = ()
    # False for delay notices, success notices and failures with a 4.x.x status.
    bounce_permanent: bool = False
    return_date: date | None = None  # auto-replies: the first day back, when the text says


def _to_message(raw: bytes | str | Message) -> Message:
    if isinstance(raw, Message):
        return raw
    try:
        if isinstance(raw, bytes | bytearray | memoryview):
            return email.message_from_bytes(bytes(raw), policy=email.policy.default)
        if isinstance(raw, str):
            return email.message_from_string(raw, policy=email.policy.default)
    except Exception:  # the parser is lenient, but pathological nesting can still blow up
        pass
    return EmailMessage()


def _parse(msg: Message, today: date) -> ParsedInbound:
    subject = subject_of(msg)
    senders = addresses_in(header_values(msg, "From") or header_values(msg, "Sender"))
    sender = senders[0] if senders else ""
    message_id = normalise_message_id(first_header(msg, "Message-ID"))
    text = strip_quoted(body_text(msg))[:MAX_TEXT].strip()
    references = thread_ids(msg)
    report = classify_report(msg, subject, sender)
    back = None
    if report is not None:
        kind, recipients, permanent = report
        references.append(original_id(msg, message_id))
    else:
        recipients, permanent = [], False
        if is_auto_reply(msg):
            kind = InboundKind.AUTO_REPLY
            back = return_date(text=text, subject=subject, today=today)
        else:
            kind = InboundKind.REPLY
    unique = dict.fromkeys(found for found in references if found and found != message_id)
    return ParsedInbound(
        kind=kind,
        message_id=message_id,
        from_address=sender,
        subject=subject,
        text=text,
        referenced_ids=tuple(unique),
        bounced_recipients=tuple(recipients),
        bounce_permanent=permanent,
        return_date=back,
    )


def parse_message(raw: bytes | str | Message, *, today: date) -> ParsedInbound:
    """Parse and classify one inbound email; never raises.

    ``today`` anchors year-less return dates. ``raw`` may be bytes, text or an already parsed
    message of either policy.
    """
    try:
        return _parse(_to_message(raw), today)
    except Exception:
        # Last resort for a bug meeting odd input: a reply is the cautious reading, since it
        # stops outreach instead of mailing on, and the caller still records the message.
        logger.exception("Could not parse an inbound email; treating it as a reply")
        return ParsedInbound(
            kind=InboundKind.REPLY, message_id="", from_address="", subject="", text=""
        )
