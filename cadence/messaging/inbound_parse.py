"""Classify an inbound email: a human reply, an auto-reply, a bounce or a spam complaint.

Pure standard library (no Django, no database), so every ingestion path (raw API, management
command, provider webhook) shares one parser and the tests need no fixtures. Inbound mail is
hostile and messy, so nothing here raises on bad input: each helper degrades to an empty value,
because one undecodable message must never stop a mailbox sync.

Messages come either from ``email.policy.default`` (when we parse bytes ourselves) or from the
compat32 policy (django-anymail's ``AnymailInboundMessage``). Headers are therefore read raw via
``raw_items()`` and decoded here: the policies' header objects differ, and the modern ones raise
on some malformed values.
"""

from __future__ import annotations

import email
import email.policy
import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.header import decode_header
from email.message import EmailMessage, Message
from email.utils import collapse_rfc2231_value, getaddresses

logger = logging.getLogger(__name__)

__all__ = [
    "ParsedInbound",
    "find_return_date",
    "is_auto_reply",
    "normalise_message_id",
    "parse_message",
]

MAX_TEXT = 10_000
# Regexes run on untrusted bodies; a cap keeps the worst case cheap whatever gets sent.
_MAX_SCAN = 200_000
_MAX_DEPTH = 30
_WINDOW = 40  # how far after "back on", "until"... a date may start and still belong to it
_HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class ParsedInbound:
    """What Cadence needs from an inbound email.

    Message-IDs are normalised by :func:`normalise_message_id` (case kept: they are matched
    exactly against the ones we sent); addresses are bare and lowercased.
    """

    # "complaint", "receipt", "bounce", "auto_reply" or "reply", in that order of precedence
    kind: str
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


# --- headers -------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bounded, and anchored after a non-address character: an unanchored pattern rescans a long
# run of address characters from every position, which is quadratic on hostile input.
_ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
    r"(?![\w-])"
)
_MAX_HEADER = 10_000  # no real subject or address list is longer; garbage is cut before parsing
_ID_CHARS = re.compile(r"[!-;=?-~]+")  # printable ASCII except "<" and ">"


def _recover_8bit(text: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit bytes, reading them as UTF-8."""
    if not re.search("[\ud800-\udfff]", text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _header_values(msg: Message | None, name: str) -> list[str]:
    """Every value of header ``name``, unfolded, undecoded (RFC 2047 words left as they are)."""
    values: list[str] = []
    if msg is None:
        return values
    try:
        for key, value in msg.raw_items():
            if str(key).lower() == name.lower():
                text = _recover_8bit(str(value))
                values.append(re.sub(r"[\r\n]+", "", text).strip())
    except Exception:  # a broken or foreign header store: treat as absent
        pass
    return values


def _first_header(msg: Message | None, name: str) -> str:
    values = _header_values(msg, name)
    return values[0] if values else ""


def _decode_bytes(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8")
    except Exception:  # unknown or lying charset, or a non-text codec named as one
        return data.decode("utf-8", "replace")


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets."""
    try:
        chunks = decode_header(value)
    except Exception:
        return value
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:  # decode_header encodes plain runs with raw-unicode-escape
            out.append(_decode_bytes(chunk, "raw-unicode-escape"))
        else:
            out.append(_decode_bytes(chunk, charset))
    return "".join(out)


def _clean_line(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def _subject(msg: Message) -> str:
    return _clean_line(_decode_words(_first_header(msg, "Subject")[:_MAX_HEADER]))


def _addresses(values: list[str]) -> list[str]:
    """Bare, lowercased addresses in address headers, falling back to a plain scan."""
    found: list[str] = []
    values = [value[:_MAX_HEADER] for value in values]
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = []
    for _, address in pairs:
        address = address.strip().strip("<>").lower()
        if _ADDRESS.fullmatch(address) and address not in found:
            found.append(address)
    if not found:
        for value in values:
            for match in _ADDRESS.finditer(value):
                if match.group(0).lower() not in found:
                    found.append(match.group(0).lower())
    return found


def normalise_message_id(value: str) -> str:
    """``<local@domain>`` with case kept, or "" for anything that cannot be a Message-ID.

    Case is kept because Message-IDs are matched exactly against the ones we sent.
    """
    if not isinstance(value, str):
        return ""
    bracketed = re.search(r"<([^<>]*)>", value)
    if bracketed:
        core = bracketed.group(1)
    else:
        core = value[:_MAX_HEADER]
        for _ in range(5):  # innermost comments first, so nested ones go too
            core = re.sub(r"\([^()]*\)", "", core)
    core = re.sub(r"\s+", "", core)
    if len(core) > 995 or not _ID_CHARS.fullmatch(core) or "@" not in core[1:-1]:
        return ""
    return f"<{core}>"


def _ids_in(value: str) -> list[str]:
    """Message-IDs in a header that may carry several, or junk text around one."""
    tokens = re.findall(r"<[^<>]*>", value)
    ids = (
        [normalise_message_id(token) for token in tokens]
        if tokens
        else [normalise_message_id(value)]
    )
    return [found for found in ids if found]


def _thread_ids(msg: Message) -> list[str]:
    """In-Reply-To, then References newest first: the nearest ancestor is the best match."""
    ids = [found for value in _header_values(msg, "In-Reply-To") for found in _ids_in(value)]
    references = [found for value in _header_values(msg, "References") for found in _ids_in(value)]
    return ids + references[::-1]


# --- MIME parts ----------------------------------------------------------------------------


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def _leaves(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Leaf parts in document order. message/* parts are leaves: what they hold is someone
    else's mail (the original of a bounce, a forwarded message), not this one's content."""
    if depth > _MAX_DEPTH:
        return
    if msg.is_multipart() and not _content_type(msg).startswith("message/"):
        payload = msg.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _leaves(sub, depth + 1)
        return
    yield msg


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload() if not part.is_multipart() else ""
        return _recover_8bit(raw[:_MAX_SCAN]) if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _decode_bytes(payload[:_MAX_SCAN], charset)


def _sub_message(part: Message) -> Message | None:
    """The message inside a message/* or text/rfc822-headers part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    text = _part_text(part)
    try:
        return email.message_from_string(text) if text.strip() else None
    except Exception:
        return None


# "[^<>]" rather than "[^>]" throughout: with many unclosed "<", the latter is quadratic.
_HTML_QUOTE = re.compile(
    r"<blockquote\b|<div[^<>]*\b(?:class|id)\s*=\s*[\"']?"
    r"(?:gmail_quote|divRplyFwdMsg|appendonsend|moz-cite-prefix|yahoo_quoted)",
    re.I,
)
_HTML_HIDDEN = re.compile(r"<(head|style|script|title)\b|<!--", re.I)
_HTML_HIDDEN_END = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("head", "style", "script", "title")
}
_HTML_BREAK = re.compile(r"<br\b[^<>]*>|</(?:p|div|tr|li|h[1-6]|table|ul|ol)\s*>", re.I)


def _drop_hidden(markup: str) -> str:
    """Remove head, style, script and comments. A scan rather than one lazy regex, which
    would rescan to the end from every unclosed opening tag."""
    kept, pos = [], 0
    while match := _HTML_HIDDEN.search(markup, pos):
        kept.append(markup[pos : match.start()])
        if match.group(1):
            end = _HTML_HIDDEN_END[match.group(1).lower()].search(markup, match.end())
            pos = end.end() if end else len(markup)
        else:
            end_index = markup.find("-->", match.end())
            pos = end_index + 3 if end_index >= 0 else len(markup)
    kept.append(markup[pos:])
    return "".join(kept)


def _html_to_text(markup: str, *, cut_quotes: bool) -> str:
    if cut_quotes:
        # In HTML the history is structural, which is more reliable than any text pattern.
        markup = _HTML_QUOTE.split(markup, 1)[0]
    markup = _HTML_BREAK.sub("\n", _drop_hidden(markup))
    text = html.unescape(re.sub(r"<[^<>]*>", "", markup)).replace("\xa0", " ")
    return "\n".join(line.strip() for line in text.splitlines())


def _body(msg: Message) -> str:
    """The message's own words: its first non-empty inline text/plain, else its HTML."""
    html_part = None
    for part in _leaves(msg):
        if _is_attachment(part):
            continue
        ctype = _content_type(part)
        if ctype == "text/plain":
            text = _part_text(part)
            if text.strip():
                return text
        elif ctype == "text/html" and html_part is None:
            html_part = part
    if html_part is not None:
        return _html_to_text(_part_text(html_part), cut_quotes=True)
    if _content_type(msg).startswith("multipart/") and not msg.is_multipart():
        return _part_text(msg)  # multipart in name only (no usable boundary): best effort
    return ""


def _texts(msg: Message, *, attachments: bool) -> Iterator[str]:
    """Every human-readable text part, for the searches that look past the body."""
    for part in _leaves(msg):
        ctype = _content_type(part)
        if not ctype.startswith("text/") or (not attachments and _is_attachment(part)):
            continue
        text = _part_text(part)
        yield _html_to_text(text, cut_quotes=False) if ctype == "text/html" else text


# --- quoted history ------------------------------------------------------------------------

# German names the writer after the verb ("Am ... schrieb Name <address>:").
_ATTRIBUTION = re.compile(
    r"(?:on|am|le|el)\s.{0,400}?(?:wrote|schrieb|a\s+écrit|escribió)(?:\s.{0,200})?\s*:", re.I
)
_ORIGINAL_SEPARATOR = re.compile(
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"\*?(?:from|von|de)\s*:", re.I)
_OUTLOOK_SENT = re.compile(
    r"\*?(?:sent|date|gesendet|datum|envoyé|enviado(?: el)?|fecha)\s*:", re.I
)
_RULE = re.compile(r"[_\-=*]{5,}")


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if _ORIGINAL_SEPARATOR.match(line):
        return True
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_SENT.match(nxt.strip()) for nxt in lines[index + 1 : index + 5])
    if re.match(r"(?:on|am|le|el)\s", line, re.I):
        # Gmail wraps a long attribution ("On ..., Name <\naddress> wrote:") over lines.
        return any(
            _ATTRIBUTION.fullmatch(" ".join(part.strip() for part in lines[index : index + span]))
            for span in (1, 2, 3)
        )
    return False


def _strip_quoted(text: str) -> str:
    """Drop the quoted history a reply carries, keeping interleaved answers."""
    lines = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_history(lines, index):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _RULE.fullmatch(kept[-1].strip())):
        kept.pop()  # Outlook's "____" rule above the "From:" block, blank lines
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


# --- bounces and complaints ----------------------------------------------------------------

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
    if _content_type(msg) != "multipart/report":
        return ""
    try:
        value = msg.get_param("report-type")
    except Exception:
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return str(value or "").strip().lower()


def _find_part(msg: Message, types: tuple[str, ...]) -> Message | None:
    return next((part for part in _leaves(msg) if _content_type(part) in types), None)


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part, parsed or left as text."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = _part_text(part).replace("\r\n", "\n")
    return [email.message_from_string(chunk) for chunk in re.split(r"\n[ \t]*\n", text)]


def _dsn_address(value: str) -> str:
    address = value.rpartition(";")[2].strip().strip("<>").strip().lower()
    return address if _ADDRESS.fullmatch(address) else ""


def _dsn_outcome(part: Message) -> tuple[list[str], bool, bool] | None:
    """(failed recipients, permanent, delayed) from the per-recipient fields, or None if none.

    A failure is permanent unless its status is 4.x.x: an MTA giving up after days of
    temporary errors reports "failed", but the address itself may well be fine.
    """
    failed: list[str] = []
    permanent = delayed = seen = False
    for block in _field_blocks(part):
        action = _first_header(block, "Action").lower()
        status = _first_header(block, "Status")
        addresses = [
            found
            for found in map(
                _dsn_address,
                _header_values(block, "Original-Recipient")
                + _header_values(block, "Final-Recipient"),
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
    return set(_addresses([value for name in names for value in _header_values(msg, name)]))


def _text_recipients(msg: Message) -> list[str]:
    """Failed addresses named in a bounce written for people: whatever address the notice
    mentions before its copy of the original, except the bounce's own parties."""
    excluded = _own_addresses(msg)
    found: list[str] = []
    for text in _texts(msg, attachments=False):
        notice = _COPY_MARKER.split(text[:_MAX_SCAN], 1)[0]
        for match in _ADDRESS.finditer(notice):
            address = match.group(0).lower()
            if address in excluded or address in found or _BOUNCE_SENDER.match(address):
                continue
            found.append(address)
    return found


def _original_id(msg: Message, own_id: str) -> str:
    """The Message-ID of the mail a bounce or complaint is about: from its embedded copy or,
    failing that (bounces written for people), from a "Message-ID:" line in the text."""
    part = _find_part(msg, _ORIGINAL_TYPES)
    original = _sub_message(part) if part is not None else None
    for value in _header_values(original, "Message-ID"):
        for found in _ids_in(value):
            return found
    for text in _texts(msg, attachments=True):
        for match in _TEXT_MESSAGE_ID.finditer(text[:_MAX_SCAN]):
            found = normalise_message_id(match.group(1))
            if found and found != own_id:
                return found
    return ""


def _complaint_recipients(msg: Message) -> list[str]:
    part = _find_part(msg, ("message/feedback-report",))
    report = _sub_message(part) if part is not None else None
    found = _addresses(_header_values(report, "Original-Rcpt-To"))
    if not found:
        part = _find_part(msg, _ORIGINAL_TYPES)
        original = _sub_message(part) if part is not None else None
        found = _addresses(_header_values(original, "To"))
    return found


def _classify_report(msg: Message, subject: str, sender: str) -> tuple[str, list[str], bool]:
    """(kind, recipients, permanent) when ``msg`` is a complaint or a bounce, else ("", [], F)."""
    feedback = _find_part(msg, ("message/feedback-report",))
    if _report_type(msg) == "feedback-report" or feedback is not None:
        return "complaint", _complaint_recipients(msg), False
    # A read receipt (RFC 8098) says the email was opened: not a reply, and no reason to act.
    receipt = _find_part(msg, ("message/disposition-notification",))
    if _report_type(msg) == "disposition-notification" or receipt is not None:
        return "receipt", [], False
    dsn = _find_part(msg, _DSN_TYPES)
    is_dsn = dsn is not None or _report_type(msg) == "delivery-status"
    if not is_dsn and not (_BOUNCE_SENDER.match(sender) and _BOUNCE_SUBJECT.search(subject)):
        return "", [], False
    outcome = _dsn_outcome(dsn) if dsn is not None else None
    if outcome is not None:
        # A success notice (Action: delivered/relayed) is reported as a non-permanent bounce:
        # nothing failed, and it is no reason to pause or end anything.
        failed, permanent, _delayed = outcome
        return "bounce", failed, permanent and bool(failed)
    return "bounce", _text_recipients(msg), not _DELAY_SUBJECT.search(subject)


# --- auto-replies --------------------------------------------------------------------------

_SUBJECT_PREFIX = re.compile(
    r"^(?:\s*(?:re|aw|wg|fw|fwd|sv|vs|antw|rif|tr|r)\s*(?:\[\d+\]|\(\d+\))?\s*:)+\s*", re.I
)
_AUTO_SUBJECT = re.compile(
    r"\[?\s*(?:out\s+of\s+(?:the\s+)?office|i\s+am\s+out\s+of|i'm\s+out\s+of|"
    r"auto(?:matic)?[\s-]?(?:reply|response)|auto\s*:|abwesenheit|automatische\s+antwort|"
    r"r[ée]ponse\s+automatique|respuesta\s+autom[áa]tica|fuera\s+de\s+(?:la\s+)?oficina|"
    r"on\s+vacation|vacation\s+(?:reply|response|auto)|absence(?:\s+du\s+bureau)?\s*(?::|$))",
    re.I,
)


def is_auto_reply(message: Message) -> bool:
    """Whether a message was sent by software on someone's behalf (out of office, vacation).

    Headers first (RFC 3834 ``Auto-Submitted`` and the common vendor ones), then the subject,
    since many auto-responders set no header at all. Bounces also say ``Auto-Submitted``;
    :func:`parse_message` classifies them before asking this.
    """
    submitted = _header_values(message, "Auto-Submitted")
    if submitted and submitted[0].split(";")[0].strip().lower() != "no":
        return True
    if any(
        _header_values(message, name)
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
    ):
        return True
    if any(value.lower() == "auto_reply" for value in _header_values(message, "Precedence")):
        return True
    return bool(_AUTO_SUBJECT.match(_SUBJECT_PREFIX.sub("", _subject(message))))


# --- return dates --------------------------------------------------------------------------

_MONTHS = {
    1: "january jan januar jänner janvier janv enero ene",
    2: "february feb februar février fevrier févr fevr febrero",
    3: "march mar märz maerz mars marzo",
    4: "april apr avril avr abril abr",
    5: "may mai mayo",
    6: "june jun juni juin junio",
    7: "july jul juli juillet juil julio",
    8: "august aug août aout agosto",
    9: "september sept sep septembre septiembre setiembre",
    10: "october oct oktober okt octobre octubre",
    11: "november nov novembre noviembre",
    12: "december dec dezember dez décembre decembre déc dic diciembre",
}
_WEEKDAYS = {
    0: "monday mon montag lundi lunes",
    1: "tuesday tue tues dienstag mardi martes",
    2: "wednesday wed mittwoch mercredi miércoles miercoles",
    3: "thursday thu thur thurs donnerstag jeudi jueves",
    4: "friday fri freitag vendredi viernes",
    5: "saturday sat samstag sonnabend samedi sábado sabado",
    6: "sunday sun sonntag dimanche domingo",
}
_MONTH = {name: number for number, names in _MONTHS.items() for name in names.split()}
_WEEKDAY = {name: number for number, names in _WEEKDAYS.items() for name in names.split()}


def _alternation(names: Iterable[str]) -> str:
    # Longest first, so "sept" is not read as "sep" followed by junk.
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))


_L, _R = r"(?<![^\W\d_])", r"(?![^\W\d_])"  # not preceded / followed by a letter
_ORD = r"(?:st|nd|rd|th|er|º|°)?"
_MON, _WD = _alternation(_MONTH), _alternation(_WEEKDAY)
_DATE = re.compile(
    rf"(?:{_L}(?:{_WD}){_R}\.?,?\s+(?:(?:the|le|el|den|am)\s+)?)?(?:"
    r"(?<!\d)(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d)"
    r"|(?<![\d.])(?P<pd>\d{1,2})\.(?P<pm>\d{1,2})\.(?:(?P<py>\d{4}|\d{2})(?!\d))?"
    r"|(?<![\d/])(?P<sa>\d{1,2})/(?P<sb>\d{1,2})(?:/(?P<sy>\d{4}|\d{2}))?(?![\d/])"
    rf"|{_L}(?P<m1>{_MON}){_R}\.?\s*(?P<d1>\d{{1,2}}){_ORD}(?!\d)(?:,?\s*(?P<y1>\d{{4}})(?!\d))?"
    rf"|(?<!\d)(?P<d2>\d{{1,2}}){_ORD}\.?\s*(?:(?:of|de)\s+)?(?P<m2>{_MON}){_R}\.?"
    r"(?:,?\s*(?:de\s+)?(?P<y2>\d{4})(?!\d))?)",
    re.I,
)
# Alone, only full weekday names: "sat" or "sun" on their own are too often something else.
_FULL_WD = _alternation(name for name in _WEEKDAY if len(name) > 4)
_WEEKDAY_ONLY = re.compile(rf"{_L}(?P<w>{_FULL_WD}){_R}", re.I)
# The day someone is back on, and the last day someone is away (return is the day after).
_BACK_ON = re.compile(
    rf"{_L}(?:be back|back on|back in (?:the )?office|return(?:ing)? on|"
    r"return(?:ing)? to (?:the )?(?:office|work)|zurück (?:am|ab)|"
    rf"wieder (?:im büro |erreichbar |da )?(?:am|ab)|de retour|de vuelta|regres(?:o|aré|are)){_R}",
    re.I,
)
_AWAY_UNTIL = re.compile(
    rf"{_L}(?:until|till|til|thru|through|bis|jusqu['\u2019](?:au|à)|hasta){_R}", re.I
)
_AWAY_MARKER = re.compile(
    rf"{_L}(?:office|vacation|holidays?|leave|urlaub|congés?|vacaciones){_R}", re.I
)


def _make_date(year: str | None, month: int, day: int, today: date) -> date | None:
    """A year-less date is the next one on or after ``today``."""
    if year:
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        except ValueError:
            return None
    for candidate_year in (today.year, today.year + 1):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _resolve(match: re.Match[str], today: date, *, strict: bool = False) -> date | None:
    """The date a :data:`_DATE` match names. ``strict`` refuses year-less numeric forms,
    which outside a "back on"/"until" phrase are as likely "24/7" or a version number."""
    g = match.groupdict()
    if g["iy"]:
        return _make_date(g["iy"], int(g["im"]), int(g["id"]), today)
    if g["pd"] or g["sa"]:
        year = g["py"] or g["sy"]
        if strict and not year:
            return None
        if g["pd"]:
            return _make_date(year, int(g["pm"]), int(g["pd"]), today)
        first, second = int(g["sa"]), int(g["sb"])
        # US month/day unless that cannot be: then it is day/month.
        month, day = (second, first) if first > 12 else (first, second)
        return _make_date(year, month, day, today)
    if g["m1"]:
        return _make_date(g["y1"], _MONTH[g["m1"].lower()], int(g["d1"]), today)
    return _make_date(g["y2"], _MONTH[g["m2"].lower()], int(g["d2"]), today)


def _plausible(day: date | None, today: date) -> bool:
    return day is not None and today <= day <= today + _HORIZON


def _date_after(text: str, start: int, today: date) -> date | None:
    """The first plausible date starting within :data:`_WINDOW` characters of ``start``."""
    limit = start + _WINDOW
    candidates: list[tuple[int, date | None]] = []
    spans: list[tuple[int, int]] = []
    # endpos leaves room for the longest date form, so a year is never cut off.
    for match in _DATE.finditer(text, start, limit + 60):
        if match.start() > limit:
            break
        spans.append(match.span())
        candidates.append((match.start(), _resolve(match, today)))
    for match in _WEEKDAY_ONLY.finditer(text, start, limit + 20):
        if match.start() > limit:
            break
        if not any(low <= match.start() < high for low, high in spans):
            ahead = (_WEEKDAY[match.group("w").lower()] - today.weekday()) % 7 or 7
            candidates.append((match.start(), today + timedelta(days=ahead)))
    candidates.sort(key=lambda candidate: candidate[0])
    return next((day for _, day in candidates if _plausible(day, today)), None)


def _phrase_date(text: str, today: date) -> date | None:
    """The return date announced by a "back on"/"until" phrase; explicit returns win."""
    for phrase, extra in ((_BACK_ON, 0), (_AWAY_UNTIL, 1)):
        for match in phrase.finditer(text):
            found = _date_after(text, match.end(), today)
            if found is not None:
                return found + timedelta(days=extra)
    return None


def _date_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text[:_MAX_SCAN]).split())


def find_return_date(text: str, *, today: date) -> date | None:
    """When the writer of an out-of-office answer is back, if the text says so.

    A date in a return phrase counts ("back on 3 December" is that day, "until 3 December" the
    day after); failing that, the first plausible date of a text that talks about being away.
    Only dates from ``today`` to 366 days ahead are plausible.
    """
    if not isinstance(text, str):
        return None
    text = _date_text(text)
    found = _phrase_date(text, today)
    if found is not None or not _AWAY_MARKER.search(text):
        return found
    for match in _DATE.finditer(text):
        day = _resolve(match, today, strict=True)
        if _plausible(day, today):
            return day
    return None


# --- the whole message ---------------------------------------------------------------------


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
    subject = _subject(msg)
    senders = _addresses(_header_values(msg, "From") or _header_values(msg, "Sender"))
    sender = senders[0] if senders else ""
    message_id = normalise_message_id(_first_header(msg, "Message-ID"))
    text = _strip_quoted(_body(msg))[:MAX_TEXT].strip()
    references = _thread_ids(msg)
    kind, recipients, permanent = _classify_report(msg, subject, sender)
    return_date = None
    if kind:
        references.append(_original_id(msg, message_id))
    elif is_auto_reply(msg):
        kind = "auto_reply"
        return_date = find_return_date(text, today=today) or _phrase_date(
            _date_text(subject), today
        )
    else:
        kind = "reply"
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
        return_date=return_date,
    )


def parse_message(raw: bytes | str | Message, *, today: date) -> ParsedInbound:
    """Parse and classify one inbound email; never raises.

    ``today`` anchors year-less return dates. ``raw`` may be bytes, text or an already parsed
    message of either policy.
    """
    try:
        return _parse(_to_message(raw), today)
    except Exception:
        # Last resort for a bug meeting odd input: "reply" is the cautious reading, since it
        # stops outreach instead of mailing on, and the caller still records the message.
        logger.exception("Could not parse an inbound email; treating it as a reply")
        return ParsedInbound(kind="reply", message_id="", from_address="", subject="", text="")
