"""Inbound email read from raw mail: a human reply's own words, its references, and a parser
that never raises nor stalls on hostile input. No database: the parser is pure.
"""

import email
import email.policy
import random
from email.message import Message

import pytest

from cadence.messaging.choices import InboundKind
from cadence.messaging.inbound_parse import ParsedInbound, normalise_message_id
from cadence.messaging.tests.inbound_samples import (
    ARF_COMPLAINT,
    EXCHANGE_NDR,
    GERMAN_OOO,
    GMAIL_REPLY,
    OUTLOOK_OOO,
    OUTLOOK_REPLY,
    POSTFIX_BOUNCE,
    mail,
    parse,
)

# --- replies -------------------------------------------------------------------------------


def test_gmail_reply():
    parsed = parse(GMAIL_REPLY)
    assert parsed.kind == InboundKind.REPLY
    assert parsed.message_id == "<CAF=abc+XYZ@mail.gmail.com>"
    assert parsed.from_address == "bob.buyer@example.com"
    assert parsed.subject == "Re: Quick question about your Q1 plans"
    assert parsed.text == "Thanks, Tuesday works for me.\n\nBob"
    assert parsed.referenced_ids == ("<Step2.ABC@cadence.test>", "<Root.1@cadence.test>")
    assert parsed.bounced_recipients == ()
    assert parsed.bounce_permanent is False
    assert parsed.return_date is None


def test_outlook_reply_drops_the_from_sent_block():
    parsed = parse(OUTLOOK_REPLY)
    assert parsed.kind == InboundKind.REPLY
    assert parsed.text == "Hi,\n\nPlease call me next week \u2013 mornings are best.\n\nCarla"
    assert parsed.referenced_ids == ("<Root.1@cadence.test>",)
    assert parsed.from_address == "carla@contoso.example"


@pytest.mark.parametrize(
    "history",
    [
        "-----Original Message-----\nFrom: Rep\nSent: Thursday\n\nHi",
        "*From:* Rep Name <rep@cadence.test>\n*Sent:* Thursday\n*Subject:* Hi\n\nHi",
        "Am Do., 19. Nov. 2026 um 16:02 Uhr schrieb Rep Name <rep@cadence.test>:\n> Hi",
        "Le jeu. 19 nov. 2026 à 16:02, Rep Name <rep@cadence.test> a écrit :\n> Hi",
        "El jue, 19 nov 2026 a las 16:02, Rep Name (<rep@cadence.test>)\nescribió:\n> Hi",
    ],
)
def test_quoted_history_forms_are_removed(history):
    raw = mail("From: a@example.com\nSubject: Re: x", f"Sounds good.\n\n{history}\n")
    assert parse(raw).text == "Sounds good."


def test_interleaved_answers_keep_the_answers():
    body = "> Do you have time on Tuesday?\nYes, after 2pm.\n> And budget?\nApproved.\n"
    assert parse(mail("From: a@example.com", body)).text == "Yes, after 2pm.\nApproved."


def test_html_only_reply_is_stripped_of_tags_and_history():
    raw = mail(
        "From: Dana <dana@example.com>\nContent-Type: text/html; charset=utf-8",
        "<html><head><style>.x{color:red}</style></head><body><div>Yes &amp; thanks&nbsp;!"
        '<br>Dana</div><div class="gmail_quote">On Thu, Rep wrote:<blockquote>old</blockquote>'
        "</div></body></html>",
    )
    assert parse(raw).text == "Yes & thanks !\nDana"


def test_nested_multipart_prefers_inline_plain_text_over_attachments():
    raw = mail(
        "From: a@example.com\nContent-Type: multipart/mixed; boundary=outer",
        """--outer
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attachment text
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SW5saW5lIGFuc3dlci4=
--inner
Content-Type: text/html; charset=utf-8

<p>Inline answer.</p>
--inner--
--outer--
""",
    )
    assert parse(raw).text == "Inline answer."


def test_latin1_body_and_encoded_subject_are_decoded():
    raw = mail(
        "From: =?iso-8859-1?q?J=F6rg?= <joerg@example.de>\n"
        "Subject: =?utf-8?b?QVc6IEvDvHJ6ZQ==?=\n  =?utf-8?q?_Frage?=\n"
        'Content-Type: text/plain; charset="iso-8859-1"\nContent-Transfer-Encoding: 8bit',
        "Gr\xfc\xdfe aus K\xf6ln".encode("latin-1"),
    )
    parsed = parse(raw)
    assert parsed.text == "Grüße aus Köln"
    assert parsed.subject == "AW: Kürze Frage"
    assert parsed.from_address == "joerg@example.de"


def test_wrong_or_unknown_charset_falls_back_to_utf8():
    raw = mail(
        "From: a@example.com\nSubject: =?x-bogus?q?Hi?=\n"
        'Content-Type: text/plain; charset="x-bogus"',
        "Caf\xe9 \u2013 ok".encode(),
    )
    parsed = parse(raw)
    assert parsed.text == "Café \u2013 ok"
    assert parsed.subject == "Hi"


def test_references_in_reply_to_junk_and_duplicates():
    raw = mail(
        "From: a@example.com\nMessage-ID: <Own@example.com>\n"
        "In-Reply-To: Your message of Mon, 2 Mar 2026 <Parent@cadence.test> (sent)\n"
        "References: <Root@cadence.test> (root) <Middle@cadence.test>\n"
        " <Parent@cadence.test> <not an id>"
    )
    assert parse(raw).referenced_ids == (
        "<Parent@cadence.test>",
        "<Middle@cadence.test>",
        "<Root@cadence.test>",
    )


def test_long_text_is_capped():
    parsed = parse(mail("From: a@example.com", "word " * 5000))
    assert len(parsed.text) == 10_000 - 1  # the cut leaves a trailing space, stripped


# --- message ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  <abc@x.com>  ", "<abc@x.com>"),
        ("abc@x.com", "<abc@x.com>"),
        ("<ABC.Def@X.com>", "<ABC.Def@X.com>"),
        ("<abc@x.com> (a comment)", "<abc@x.com>"),
        ("(a (nested) comment) abc@x.com", "<abc@x.com>"),
        ("<<abc@x.com>>", "<abc@x.com>"),
        ("<abc@\r\n x.com>", "<abc@x.com>"),
        ("", ""),
        ("   ", ""),
        ("garbage", ""),
        ("<>", ""),
        ("<@x.com>", ""),
        ("<abc@x\x00.com>", ""),
    ],
)
def test_normalise_message_id(value, expected):
    assert normalise_message_id(value) == expected


# --- robustness ----------------------------------------------------------------------------


class InboundMessage(Message):
    """Stands in for django-anymail's AnymailInboundMessage: a compat32 Message subclass."""


@pytest.mark.parametrize(
    "raw",
    [GMAIL_REPLY, OUTLOOK_REPLY, POSTFIX_BOUNCE, EXCHANGE_NDR, ARF_COMPLAINT, GERMAN_OOO],
    ids=["gmail", "outlook", "postfix", "exchange", "arf", "german-ooo"],
)
def test_compat32_messages_parse_the_same(raw):
    compat = email.message_from_bytes(raw, _class=InboundMessage)
    assert parse(compat) == parse(raw)
    assert parse(raw.decode("latin-1")) == parse(raw)


def test_already_parsed_modern_message():
    message = email.message_from_bytes(OUTLOOK_OOO, policy=email.policy.default)
    assert parse(message) == parse(OUTLOOK_OOO)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        "",
        b"\x00\xff\xfe garbage \r\n\r\n\x00\x01\x02",
        bytes(range(256)) * 40,
        random.Random(7).randbytes(20_000),
        b"Content-Type: multipart/mixed\r\n\r\nno boundary here",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; "
        b'charset="=?bogus"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64',
        b"From: <<<@@@>>>\r\nMessage-ID: <<<>>>\r\nReferences: <<<\r\nSubject: =?utf-8?q?\r\n\r\nx",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n\x00\xff",
        "Content-Type: multipart/mixed; boundary=a\n\n" + "--a\nContent-Type: multipart/mixed; "
        "boundary=a\n\n" * 200,
    ],
)
def test_garbage_never_raises(raw):
    parsed = parse(raw)
    assert parsed.kind in {
        InboundKind.REPLY,
        InboundKind.AUTO_REPLY,
        InboundKind.BOUNCE,
        InboundKind.COMPLAINT,
    }
    assert "\x00" not in parsed.text + parsed.subject
    assert len(parsed.text) <= 10_000


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "raw",
    [
        b"Content-Type: text/html\r\n\r\n" + b"<style" * 33_000,
        b"Content-Type: text/html\r\n\r\n" + b"<div class=" * 20_000,
        b"From: postmaster@x.example\r\nSubject: Undeliverable\r\n\r\n" + b"a" * 199_000,
        b"From: postmaster@x.example\r\nSubject: Undeliverable\r\n\r\n" + b"a.b" * 60_000,
        b"Message-ID: " + b"(" * 50_000 + b")" * 50_000 + b"\r\n\r\nx",
        b"Subject: Out of office\r\n\r\n" + b"until 1 " * 25_000,
    ],
    ids=["unclosed-style", "unclosed-div", "address-run", "dotted-run", "comments", "triggers"],
)
def test_hostile_input_stays_fast(raw):
    """Patterns that rescan from every position would take minutes on these."""
    parse(raw)


def test_empty_input_gives_an_empty_reply():
    assert parse(b"") == ParsedInbound(
        kind=InboundKind.REPLY, message_id="", from_address="", subject="", text=""
    )
