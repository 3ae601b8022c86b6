"""Inbound email classification: replies, auto-replies, bounces and complaints, from raw mail.

The samples are shaped after what Gmail, Outlook/Exchange, Postfix and ARF feedback loops
actually send. No database: the parser is pure.
"""

import email
import email.policy
import random
from datetime import date
from email.message import Message

import pytest

from cadence.messaging.inbound_parse import (
    ParsedInbound,
    find_return_date,
    is_auto_reply,
    normalise_message_id,
    parse_message,
)

TODAY = date(2026, 11, 20)  # a Friday


def mail(headers: str, body: str | bytes = "Hello.") -> bytes:
    """An RFC 822 message from a header block and a body, with CRLF line ends as on the wire."""
    head = headers.strip("\n").replace("\n", "\r\n").encode()
    if isinstance(body, str):
        body = body.replace("\n", "\r\n").encode()
    return head + b"\r\n\r\n" + body


def parse(raw: bytes | str | Message) -> ParsedInbound:
    return parse_message(raw, today=TODAY)


GMAIL_REPLY = mail(
    """
Return-Path: <bob@example.com>
MIME-Version: 1.0
References: <Root.1@cadence.test>
 <Step2.ABC@cadence.test>
In-Reply-To: <Step2.ABC@cadence.test>
From: Bob Buyer <Bob.Buyer@Example.com>
Date: Fri, 20 Nov 2026 09:12:44 +0100
Message-ID: <CAF=abc+XYZ@mail.gmail.com>
Subject: Re: Quick question about your Q1 plans
To: Rep Name <rep@cadence.test>
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"
""",
    """--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"

Thanks, Tuesday works for me.

Bob

On Thu, Nov 19, 2026 at 4:02 PM Rep Name <rep@cadence.test>
wrote:

> Hi Bob,
>
> Do you have 15 minutes next week?
>

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Thanks, Tuesday works for me.<div><br></div><div>Bob</div></div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Thu, Nov 19, 2026 wrote:<br>
</div><blockquote class="gmail_quote">Hi Bob</blockquote></div>

--000000000000a1b2c3--
""",
)

OUTLOOK_REPLY = mail(
    """
From: "Buyer, Carla" <carla@contoso.example>
To: Rep Name <rep@cadence.test>
Subject: RE: Quick question
Thread-Topic: Quick question
Thread-Index: AQHZpX1mYq2b3c4d5e6f7g8h9i0j1k==
Date: Fri, 20 Nov 2026 08:00:00 +0000
Message-ID: <DM6PR11MB1234ABCD@DM6PR11MB1234.namprd11.prod.outlook.com>
References: <Root.1@cadence.test>
In-Reply-To: <Root.1@cadence.test>
Content-Language: en-US
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0
""",
    """Hi,

Please call me next week =E2=80=93 mornings are best.

Carla

________________________________
From: Rep Name <rep@cadence.test>
Sent: Thursday, November 19, 2026 4:02 PM
To: Buyer, Carla <carla@contoso.example>
Subject: Quick question

Hi Carla, do you have 15 minutes next week?
""",
)

POSTFIX_BOUNCE = mail(
    """
Return-Path: <>
Date: Fri, 20 Nov 2026 10:00:01 +0000 (UTC)
From: MAILER-DAEMON@mx.cadence.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: rep@cadence.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F3A1C0123.1763632801/mx.cadence.test"
Message-Id: <20261120100001.4F3A1C0123@mx.cadence.test>
""",
    """This is a MIME-encapsulated message.

--4F3A1C0123.1763632801/mx.cadence.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.cadence.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<nobody@example.com>: host mx.example.com[203.0.113.5] said: 550 5.1.1
    <nobody@example.com>: Recipient address rejected: User unknown

--4F3A1C0123.1763632801/mx.cadence.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.cadence.test
X-Postfix-Queue-ID: 4F3A1C0123
X-Postfix-Sender: rfc822; rep@cadence.test
Arrival-Date: Fri, 20 Nov 2026 09:59:58 +0000 (UTC)

Final-Recipient: rfc822; Nobody@Example.com
Original-Recipient: rfc822;nobody@example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address
    rejected: User unknown

--4F3A1C0123.1763632801/mx.cadence.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <rep@cadence.test>
From: Rep Name <rep@cadence.test>
To: nobody@example.com
Subject: Quick question
Message-ID: <Step1.Q1w2E3@cadence.test>

--4F3A1C0123.1763632801/mx.cadence.test--
""",
)


def gmail_dsn(*recipient_blocks: str, subject: str = "Delivery Status Notification") -> bytes:
    """A Gmail-style DSN: readable part, per-recipient status, the original as message/rfc822."""
    status = "\n\n".join(block.strip("\n") for block in recipient_blocks)
    return mail(
        f"""
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: rep@cadence.test
Subject: {subject}
Auto-Submitted: auto-replied
Message-ID: <5f1a0c2e.abc@mx.google.com>
Date: Fri, 20 Nov 2026 10:00:01 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000ffee"; report-type=delivery-status
""",
        f"""--000000000000ffee
Content-Type: multipart/alternative; boundary="000000000000ffef"

--000000000000ffef
Content-Type: text/plain; charset="UTF-8"

** Message not delivered **

--000000000000ffef
Content-Type: text/html; charset="UTF-8"

<p><b>Message not delivered</b></p>

--000000000000ffef--

--000000000000ffee
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Fri, 20 Nov 2026 10:00:00 -0800 (PST)

{status}

--000000000000ffee
Content-Type: message/rfc822

From: Rep Name <rep@cadence.test>
To: ghost@example.org, slow@example.net
Subject: Following up
Message-ID: <Step3.Gm41l@cadence.test>

Hi, just following up.

--000000000000ffee--
""",
    )


FAILED = """
Final-Recipient: rfc822; ghost@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
"""
DELAYED = """
Final-Recipient: rfc822; slow@example.net
Action: delayed
Status: 4.4.1
Will-Retry-Until: Tue, 24 Nov 2026 10:00:00 -0800 (PST)
"""
GAVE_UP = """
Final-Recipient: rfc822; flaky@example.net
Action: failed
Status: 4.4.7
"""
DELIVERED = """
Final-Recipient: rfc822; ghost@example.org
Action: delivered
Status: 2.0.0
"""

EXCHANGE_NDR = mail(
    """
From: postmaster@contoso.example
To: rep@cadence.test
Subject: Undeliverable: Quick question
Date: Fri, 20 Nov 2026 10:00:00 +0000
Message-ID: <ndr-1@contoso.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
""",
    """Delivery has failed to these recipients or groups:

Left.Company@Contoso.example (Left.Company@contoso.example)
The email address you entered couldn't be found. Please check the recipient's email
address and try to resend the message.

Diagnostic information for administrators:

Generating server: EX01.contoso.example

Left.Company@contoso.example
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'

Original message headers:

Received: from mx.cadence.test (203.0.113.9) by EX01.contoso.example
From: Rep Name <rep@cadence.test>
To: <Left.Company@contoso.example>
CC: <other.person@contoso.example>
Subject: Quick question
Message-ID: <Step1.Exch42@cadence.test>
""",
)

GMAIL_HTML_NDR = mail(
    """
From: Mail Delivery Subsystem <MAILER-DAEMON@googlemail.com>
To: rep@cadence.test
Subject: Delivery Status Notification (Failure)
Message-ID: <ndr-2@mx.google.com>
Content-Type: text/html; charset="UTF-8"
""",
    """<html><head><style>p {margin: 0}</style></head><body>
<h2>Address not found</h2>
<p>Your message wasn&#39;t delivered to <a href="mailto:gone@example.org">gone@example.org</a>
because the address couldn&#39;t be found.</p>
<p>The response was: 550 5.1.1 The email account that you tried to reach does not exist.</p>
<p>----- Original message -----</p>
<pre>From: rep@cadence.test
To: gone@example.org
Message-ID: &lt;Step3.G00gle@cadence.test&gt;
Subject: Following up</pre>
</body></html>
""",
)

ARF_COMPLAINT = mail(
    """
From: Complaints <staff@hotmail.example>
To: abuse@cadence.test
Subject: complaint about message from 203.0.113.9
Date: Fri, 20 Nov 2026 08:00:00 +0000
Message-ID: <arf-1@hotmail.example>
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="part1_13d.2e68ed54_boundary"
""",
    """--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP
203.0.113.9 on Fri, 20 Nov 2026 08:00:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <rep@cadence.test>
Original-Rcpt-To: <Annoyed@Example.com>
Arrival-Date: Fri, 20 Nov 2026 08:00:00 +0000
Reported-Domain: cadence.test
Source-IP: 203.0.113.9

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: Rep Name <rep@cadence.test>
To: annoyed@example.com
Subject: Quick question
Message-ID: <Step1.Spam1@cadence.test>

Hi there, do you have 15 minutes next week?

--part1_13d.2e68ed54_boundary--
""",
)

OUTLOOK_OOO = mail(
    """
From: Carla Buyer <carla@contoso.example>
To: Rep Name <rep@cadence.test>
Subject: Automatic reply: Quick question
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: carla@contoso.example
In-Reply-To: <Step1.Q1w2E3@cadence.test>
Message-ID: <ooo-1@contoso.example>
Content-Type: text/plain; charset="us-ascii"
""",
    """I am out of the office until Thursday, December 3, 2026 with limited access to email.
For urgent matters please contact sales@contoso.example.
""",
)

GMAIL_VACATION = mail(
    """
From: Bob Buyer <bob@example.com>
To: rep@cadence.test
Subject: Re: Quick question
Auto-Submitted: auto-replied
Precedence: bulk
Message-ID: <vacation-1@mail.gmail.com>
Content-Type: text/plain; charset="UTF-8"
""",
    """I'm on vacation and will be back on Monday, December 7th.

On Thu, Nov 19, 2026 at 4:02 PM Rep Name <rep@cadence.test> wrote:
> Can we meet on December 1?
""",
)

GERMAN_OOO = mail(
    """
From: Jana Kunde <jana@beispiel.example>
To: rep@cadence.test
Subject: =?iso-8859-1?q?Automatische_Antwort:_Kurze_Frage?=
Message-ID: <ooo-2@beispiel.example>
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable
""",
    """Vielen Dank f=FCr Ihre Nachricht. Ich bin bis 4. Dezember 2026 nicht im B=FCro.
""",
)

FRENCH_OOO = mail(
    """
From: Luc Client <luc@exemple.example>
To: rep@cadence.test
Subject: =?utf-8?q?R=C3=A9ponse_automatique_=3A_Question?=
Message-ID: <ooo-3@exemple.example>
Content-Type: text/plain; charset="utf-8"
""",
    "Bonjour, je suis absent jusqu\u2019au 3 décembre inclus.\n",
)

SPANISH_OOO = mail(
    """
From: Ana Cliente <ana@ejemplo.example>
To: rep@cadence.test
Subject: Fuera de la oficina
X-Autoreply: yes
Message-ID: <ooo-4@ejemplo.example>
Content-Type: text/plain; charset="utf-8"
""",
    "Estaré fuera de la oficina hasta el 3 de diciembre.\n",
)


# --- replies -------------------------------------------------------------------------------


def test_gmail_reply():
    parsed = parse(GMAIL_REPLY)
    assert parsed.kind == "reply"
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
    assert parsed.kind == "reply"
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


# --- bounces -------------------------------------------------------------------------------


def test_postfix_dsn_bounce():
    parsed = parse(POSTFIX_BOUNCE)
    assert parsed.kind == "bounce"
    assert parsed.bounced_recipients == ("nobody@example.com",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step1.Q1w2E3@cadence.test>",)
    assert parsed.from_address == "mailer-daemon@mx.cadence.test"
    assert parsed.message_id == "<20261120100001.4F3A1C0123@mx.cadence.test>"
    assert parsed.text.startswith("This is the mail system at host mx.cadence.test.")


def test_dsn_with_failed_and_delayed_recipients_reports_the_failure():
    parsed = parse(gmail_dsn(FAILED, DELAYED, subject="Delivery Status Notification (Failure)"))
    assert parsed.kind == "bounce"
    assert parsed.bounced_recipients == ("ghost@example.org",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step3.Gm41l@cadence.test>",)
    assert parsed.text == "** Message not delivered **"


def test_delayed_only_dsn_is_a_temporary_bounce():
    parsed = parse(gmail_dsn(DELAYED, subject="Delivery Status Notification (Delay)"))
    assert (parsed.kind, parsed.bounce_permanent, parsed.bounced_recipients) == (
        "bounce",
        False,
        (),
    )
    assert parsed.referenced_ids == ("<Step3.Gm41l@cadence.test>",)


def test_failure_with_a_4xx_status_is_not_permanent():
    """The MTA gave up after retrying a temporary error: the address is probably fine."""
    parsed = parse(gmail_dsn(GAVE_UP))
    assert parsed.bounced_recipients == ("flaky@example.net",)
    assert parsed.bounce_permanent is False


def test_success_dsn_is_a_harmless_bounce():
    parsed = parse(gmail_dsn(DELIVERED, subject="Delivery Status Notification (Success)"))
    assert (parsed.kind, parsed.bounce_permanent, parsed.bounced_recipients) == (
        "bounce",
        False,
        (),
    )


def test_exchange_text_bounce():
    parsed = parse(EXCHANGE_NDR)
    assert parsed.kind == "bounce"
    assert parsed.bounced_recipients == ("left.company@contoso.example",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step1.Exch42@cadence.test>",)


def test_gmail_html_bounce_without_dsn_part():
    parsed = parse(GMAIL_HTML_NDR)
    assert parsed.kind == "bounce"
    assert parsed.bounced_recipients == ("gone@example.org",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step3.G00gle@cadence.test>",)
    assert "p {margin" not in parsed.text
    assert parsed.text.startswith("Address not found")


def test_text_bounce_announcing_a_delay_is_not_permanent():
    raw = GMAIL_HTML_NDR.replace(b"(Failure)", b"(Delay)")
    parsed = parse(raw)
    assert (parsed.kind, parsed.bounce_permanent) == ("bounce", False)


def test_postmaster_mail_without_bounce_subject_is_not_a_bounce():
    raw = mail("From: postmaster@contoso.example\nSubject: Your mailbox is almost full")
    assert parse(raw).kind == "reply"


def test_bounce_subject_from_a_person_is_not_a_bounce():
    raw = mail("From: bob@example.com\nSubject: Re: Undeliverable invoices", "See attached.")
    assert parse(raw).kind == "reply"


# --- complaints ----------------------------------------------------------------------------


def test_arf_complaint():
    parsed = parse(ARF_COMPLAINT)
    assert parsed.kind == "complaint"
    assert parsed.bounced_recipients == ("annoyed@example.com",)
    assert parsed.referenced_ids == ("<Step1.Spam1@cadence.test>",)
    assert parsed.bounce_permanent is False
    assert parsed.return_date is None


def test_arf_without_original_rcpt_to_uses_the_embedded_to():
    raw = ARF_COMPLAINT.replace(b"Original-Rcpt-To: <Annoyed@Example.com>\r\n", b"")
    assert parse(raw).bounced_recipients == ("annoyed@example.com",)


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
    assert parsed.kind == "auto_reply"
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
    assert (parsed.kind, parsed.return_date) == ("auto_reply", None)


def test_return_date_from_the_subject_when_the_body_has_none():
    raw = mail("From: a@example.com\nSubject: Out of office until 2 December", "Thanks!")
    assert parse(raw).return_date == date(2026, 12, 3)


def test_a_human_reply_mentioning_a_date_has_no_return_date():
    raw = mail("From: a@example.com\nSubject: Re: hi", "I'm out of office until 3 December.")
    assert (parse(raw).kind, parse(raw).return_date) == ("reply", None)


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
    assert parse(POSTFIX_BOUNCE).kind == "bounce"
    assert parse(ARF_COMPLAINT).kind == "complaint"


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
    assert parsed.kind in {"reply", "auto_reply", "bounce", "complaint"}
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
        kind="reply", message_id="", from_address="", subject="", text=""
    )
