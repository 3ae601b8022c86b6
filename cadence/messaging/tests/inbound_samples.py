"""Inbound mail as Gmail, Outlook/Exchange, Postfix and ARF feedback loops actually send it, for
the parser's tests, and ``parse`` to read it as of ``TODAY``."""

from datetime import date
from email.message import Message

from cadence.messaging.inbound_parse import ParsedInbound, parse_message

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
