"""Reading an inbound email's text: its MIME parts, its HTML as plain text, and the writer's own
words with the quoted history of the thread taken off.

Like the rest of the parser (see ``inbound_parse``), nothing here raises on bad input.
"""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterator
from email.message import Message

from cadence.messaging.inbound_headers import CONTROL, decode_bytes, recover_8bit

# Regexes run on untrusted bodies; a cap keeps the worst case cheap whatever gets sent.
MAX_SCAN = 200_000
_MAX_DEPTH = 30


def content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def leaves(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Leaf parts in document order. message/* parts are leaves: what they hold is someone
    else's mail (the original of a bounce, a forwarded message), not this one's content."""
    if depth > _MAX_DEPTH:
        return
    if msg.is_multipart() and not content_type(msg).startswith("message/"):
        payload = msg.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from leaves(sub, depth + 1)
        return
    yield msg


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload() if not part.is_multipart() else ""
        return recover_8bit(raw[:MAX_SCAN]) if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload[:MAX_SCAN], charset)


def sub_message(part: Message) -> Message | None:
    """The message inside a message/* or text/rfc822-headers part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    text = part_text(part)
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


def body_text(msg: Message) -> str:
    """The message's own words: its first non-empty inline text/plain, else its HTML."""
    html_part = None
    for part in leaves(msg):
        if _is_attachment(part):
            continue
        ctype = content_type(part)
        if ctype == "text/plain":
            text = part_text(part)
            if text.strip():
                return text
        elif ctype == "text/html" and html_part is None:
            html_part = part
    if html_part is not None:
        return _html_to_text(part_text(html_part), cut_quotes=True)
    if content_type(msg).startswith("multipart/") and not msg.is_multipart():
        return part_text(msg)  # multipart in name only (no usable boundary): best effort
    return ""


def texts(msg: Message, *, attachments: bool) -> Iterator[str]:
    """Every human-readable text part, for the searches that look past the body."""
    for part in leaves(msg):
        ctype = content_type(part)
        if not ctype.startswith("text/") or (not attachments and _is_attachment(part)):
            continue
        text = part_text(part)
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


def strip_quoted(text: str) -> str:
    """Drop the quoted history a reply carries, keeping interleaved answers."""
    lines = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_history(lines, index):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _RULE.fullmatch(kept[-1].strip())):
        kept.pop()  # Outlook's "____" rule above the "From:" block, blank lines
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
