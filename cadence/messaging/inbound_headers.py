"""Reading an inbound email's headers: decoded text, bare addresses, Message-IDs.

Messages come either from ``email.policy.default`` (when we parse bytes ourselves) or from the
compat32 policy (django-anymail's ``AnymailInboundMessage``). Headers are therefore read raw via
``raw_items()`` and decoded here: the policies' header objects differ, and the modern ones raise
on some malformed values. Like the rest of the parser (see ``inbound_parse``), nothing here raises
on bad input: each helper degrades to an empty value.
"""

from __future__ import annotations

import re
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bounded, and anchored after a non-address character: an unanchored pattern rescans a long
# run of address characters from every position, which is quadratic on hostile input.
ADDRESS = re.compile(
    r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
    r"(?![\w-])"
)
_MAX_HEADER = 10_000  # no real subject or address list is longer; garbage is cut before parsing
_ID_CHARS = re.compile(r"[!-;=?-~]+")  # printable ASCII except "<" and ">"


def recover_8bit(text: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit bytes, reading them as UTF-8."""
    if not re.search("[\ud800-\udfff]", text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def header_values(msg: Message | None, name: str) -> list[str]:
    """Every value of header ``name``, unfolded, undecoded (RFC 2047 words left as they are)."""
    values: list[str] = []
    if msg is None:
        return values
    try:
        for key, value in msg.raw_items():
            if str(key).lower() == name.lower():
                text = recover_8bit(str(value))
                values.append(re.sub(r"[\r\n]+", "", text).strip())
    except Exception:  # a broken or foreign header store: treat as absent
        pass
    return values


def first_header(msg: Message | None, name: str) -> str:
    values = header_values(msg, name)
    return values[0] if values else ""


def decode_bytes(data: bytes, charset: str | None) -> str:
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
            out.append(decode_bytes(chunk, "raw-unicode-escape"))
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def _clean_line(value: str) -> str:
    return " ".join(CONTROL.sub(" ", value).split())


def subject_of(msg: Message) -> str:
    return _clean_line(_decode_words(first_header(msg, "Subject")[:_MAX_HEADER]))


def addresses_in(values: list[str]) -> list[str]:
    """Bare, lowercased addresses in address headers, falling back to a plain scan."""
    found: list[str] = []
    values = [value[:_MAX_HEADER] for value in values]
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = []
    for _, address in pairs:
        address = address.strip().strip("<>").lower()
        if ADDRESS.fullmatch(address) and address not in found:
            found.append(address)
    if not found:
        for value in values:
            for match in ADDRESS.finditer(value):
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


def ids_in(value: str) -> list[str]:
    """Message-IDs in a header that may carry several, or junk text around one."""
    tokens = re.findall(r"<[^<>]*>", value)
    ids = (
        [normalise_message_id(token) for token in tokens]
        if tokens
        else [normalise_message_id(value)]
    )
    return [found for found in ids if found]


def thread_ids(msg: Message) -> list[str]:
    """In-Reply-To, then References newest first: the nearest ancestor is the best match."""
    ids = [found for value in header_values(msg, "In-Reply-To") for found in ids_in(value)]
    references = [found for value in header_values(msg, "References") for found in ids_in(value)]
    return ids + references[::-1]
