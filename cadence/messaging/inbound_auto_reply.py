"""Auto-replies: whether software answered on someone's behalf (out of office, vacation), and
when the writer of an out-of-office answer is back.

Like the rest of the parser (see ``inbound_parse``), nothing here raises on bad input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta
from email.message import Message

from cadence.messaging.inbound_body import MAX_SCAN
from cadence.messaging.inbound_headers import header_values, subject_of

_WINDOW = 40  # how far after "back on", "until"... a date may start and still belong to it
_HORIZON = timedelta(days=366)

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
    submitted = header_values(message, "Auto-Submitted")
    if submitted and submitted[0].split(";")[0].strip().lower() != "no":
        return True
    if any(
        header_values(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
    ):
        return True
    if any(value.lower() == "auto_reply" for value in header_values(message, "Precedence")):
        return True
    return bool(_AUTO_SUBJECT.match(_SUBJECT_PREFIX.sub("", subject_of(message))))


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
    return " ".join(unicodedata.normalize("NFC", text[:MAX_SCAN]).split())


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


def return_date(*, text: str, subject: str, today: date) -> date | None:
    """The first day back an out-of-office answer gives, in its text or else in its subject."""
    return find_return_date(text, today=today) or _phrase_date(_date_text(subject), today)
