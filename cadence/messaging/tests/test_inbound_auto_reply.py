"""Out-of-office answers recognised, and the day their writer is back read from them."""

import email
from datetime import date

import pytest

from cadence.messaging.choices import InboundKind
from cadence.messaging.inbound_parse import find_return_date, is_auto_reply
from cadence.messaging.tests.inbound_samples import (
    ARF_COMPLAINT,
    FRENCH_OOO,
    GERMAN_OOO,
    GMAIL_VACATION,
    OUTLOOK_OOO,
    POSTFIX_BOUNCE,
    SPANISH_OOO,
    TODAY,
    mail,
    parse,
)

# --- auto-replies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "return_date"),
    [
        (OUTLOOK_OOO, date(2026, 12, 4)),
        (GMAIL_VACATION, date(2026, 12, 7)),
        (GERMAN_OOO, date(2026, 12, 5)),
        (FRENCH_OOO, date(2026, 12, 4)),
        (SPANISH_OOO, date(2026, 12, 4)),
    ],
    ids=["outlook", "gmail-vacation", "german", "french", "spanish"],
)
def test_out_of_office_replies(raw, return_date):
    parsed = parse(raw)
    assert parsed.kind == InboundKind.AUTO_REPLY
    assert parsed.return_date == return_date


def test_out_of_office_text_and_subject_are_decoded():
    parsed = parse(GERMAN_OOO)
    assert parsed.subject == "Automatische Antwort: Kurze Frage"
    assert parsed.text.endswith("nicht im Büro.")
    assert parse(FRENCH_OOO).subject == "Réponse automatique : Question"


def test_quoted_original_is_not_searched_for_the_return_date():
    """The vacation reply quotes "December 1": only the responder's own words count."""
    assert parse(GMAIL_VACATION).text == "I'm on vacation and will be back on Monday, December 7th."


def test_out_of_office_without_a_date():
    raw = mail("From: a@example.com\nSubject: Out of Office", "I am away with limited access.")
    parsed = parse(raw)
    assert (parsed.kind, parsed.return_date) == (InboundKind.AUTO_REPLY, None)


def test_return_date_from_the_subject_when_the_body_has_none():
    raw = mail("From: a@example.com\nSubject: Out of office until 2 December", "Thanks!")
    assert parse(raw).return_date == date(2026, 12, 3)


def test_a_human_reply_mentioning_a_date_has_no_return_date():
    raw = mail("From: a@example.com\nSubject: Re: hi", "I'm out of office until 3 December.")
    assert (parse(raw).kind, parse(raw).return_date) == (InboundKind.REPLY, None)


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: Auto-Generated; owner-email=x@example.com",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "X-Autoresponder: 1",
        "Precedence: auto_reply",
        "Subject: Out of Office: Quick question",
        "Subject: RE: Out of the office",
        "Subject: Automatic reply: Quick question",
        "Subject: Auto reply: hi",
        "Subject: Autoreply",
        "Subject: Auto: Quick question",
        "Subject: AW: Abwesenheitsnotiz: Kurze Frage",
        "Subject: =?utf-8?q?Respuesta_autom=C3=A1tica=3A_Hola?=",
        "Subject: Absence : Question",
        "Subject: I am out of the office",
        "Subject: On vacation",
        "Subject: Vacation reply",
        "Subject: [Out of Office] Re: Quick question",
    ],
)
def test_is_auto_reply(headers):
    assert is_auto_reply(email.message_from_bytes(mail(f"From: a@example.com\n{headers}")))


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no",
        "Auto-Submitted: No",
        "Precedence: bulk",
        "Subject: Re: Absence of pricing in your proposal",
        "Subject: Re: Quick question",
        "Subject: Are you out of office next week?",
    ],
)
def test_is_not_auto_reply(headers):
    assert not is_auto_reply(email.message_from_bytes(mail(f"From: a@example.com\n{headers}")))


def test_bounce_and_complaint_outrank_auto_reply_headers():
    """DSNs and ARF reports carry Auto-Submitted too; what they report matters more."""
    assert parse(POSTFIX_BOUNCE).kind == InboundKind.BOUNCE
    assert parse(ARF_COMPLAINT).kind == InboundKind.COMPLAINT


# --- return dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I will be back on Monday, December 7th.", date(2026, 12, 7)),
        ("I'm out until Dec 3rd.", date(2026, 12, 4)),
        ("Back in the office on 2026-12-03.", date(2026, 12, 3)),
        ("Returning on the 3rd of December", date(2026, 12, 3)),
        ("Away through 3 December, 2026.", date(2026, 12, 4)),
        ("Ich bin bis 3. Dezember 2026 im Urlaub.", date(2026, 12, 4)),
        ("Ab Montag zurück am 03.12.2026.", date(2026, 12, 3)),
        ("Ich bin zurück am 3.12. erreichbar.", date(2026, 12, 3)),
        ("Je serai de retour le 3 décembre.", date(2026, 12, 3)),
        ("Absent jusqu'au 3 décembre.", date(2026, 12, 4)),
        ("Fuera hasta el 3 de diciembre de 2026.", date(2026, 12, 4)),
        ("Out until 12/03/2026.", date(2026, 12, 4)),
        ("Out until 25/12/2026.", date(2026, 12, 26)),
        ("I am back on 03/12.", date(2027, 3, 12)),
        ("Back on Monday.", date(2026, 11, 23)),
        ("Out until Friday.", date(2026, 11, 28)),
        ("Out until Monday, 7 December.", date(2026, 12, 8)),
        ("Away until 1 December, back in the office on 8 December.", date(2026, 12, 8)),
        ("I'm on holiday. Urgent matters after 7 December, please.", date(2026, 12, 7)),
        ("I'm out until further notice and will reply when I can.", None),
        ("Thanks for your note, let's talk on 7 December.", None),
        ("Out of office. Our 24/7 support line is open.", None),
        ("Back on 2025-01-05.", None),
        ("Back on 2028-01-01.", None),
        ("", None),
    ],
)
def test_find_return_date(text, expected):
    assert find_return_date(text, today=TODAY) == expected


def test_year_less_date_rolls_into_next_year():
    assert find_return_date("Back on January 5", today=date(2026, 12, 20)) == date(2027, 1, 5)


def test_return_date_today_is_kept():
    assert find_return_date("Back on 20 November", today=TODAY) == TODAY
