"""Bounces and spam complaints told apart from replies, with what failed and whether for good."""

from cadence.messaging.choices import InboundKind
from cadence.messaging.tests.inbound_samples import (
    ARF_COMPLAINT,
    DELAYED,
    DELIVERED,
    EXCHANGE_NDR,
    FAILED,
    GAVE_UP,
    GMAIL_HTML_NDR,
    POSTFIX_BOUNCE,
    gmail_dsn,
    mail,
    parse,
)

# --- bounces -------------------------------------------------------------------------------


def test_postfix_dsn_bounce():
    parsed = parse(POSTFIX_BOUNCE)
    assert parsed.kind == InboundKind.BOUNCE
    assert parsed.bounced_recipients == ("nobody@example.com",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step1.Q1w2E3@cadence.test>",)
    assert parsed.from_address == "mailer-daemon@mx.cadence.test"
    assert parsed.message_id == "<20261120100001.4F3A1C0123@mx.cadence.test>"
    assert parsed.text.startswith("This is the mail system at host mx.cadence.test.")


def test_dsn_with_failed_and_delayed_recipients_reports_the_failure():
    parsed = parse(gmail_dsn(FAILED, DELAYED, subject="Delivery Status Notification (Failure)"))
    assert parsed.kind == InboundKind.BOUNCE
    assert parsed.bounced_recipients == ("ghost@example.org",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step3.Gm41l@cadence.test>",)
    assert parsed.text == "** Message not delivered **"


def test_delayed_only_dsn_is_a_temporary_bounce():
    parsed = parse(gmail_dsn(DELAYED, subject="Delivery Status Notification (Delay)"))
    assert (parsed.kind, parsed.bounce_permanent, parsed.bounced_recipients) == (
        InboundKind.BOUNCE,
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
        InboundKind.BOUNCE,
        False,
        (),
    )


def test_exchange_text_bounce():
    parsed = parse(EXCHANGE_NDR)
    assert parsed.kind == InboundKind.BOUNCE
    assert parsed.bounced_recipients == ("left.company@contoso.example",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step1.Exch42@cadence.test>",)


def test_gmail_html_bounce_without_dsn_part():
    parsed = parse(GMAIL_HTML_NDR)
    assert parsed.kind == InboundKind.BOUNCE
    assert parsed.bounced_recipients == ("gone@example.org",)
    assert parsed.bounce_permanent is True
    assert parsed.referenced_ids == ("<Step3.G00gle@cadence.test>",)
    assert "p {margin" not in parsed.text
    assert parsed.text.startswith("Address not found")


def test_text_bounce_announcing_a_delay_is_not_permanent():
    raw = GMAIL_HTML_NDR.replace(b"(Failure)", b"(Delay)")
    parsed = parse(raw)
    assert (parsed.kind, parsed.bounce_permanent) == (InboundKind.BOUNCE, False)


def test_postmaster_mail_without_bounce_subject_is_not_a_bounce():
    raw = mail("From: postmaster@contoso.example\nSubject: Your mailbox is almost full")
    assert parse(raw).kind == InboundKind.REPLY


def test_bounce_subject_from_a_person_is_not_a_bounce():
    raw = mail("From: bob@example.com\nSubject: Re: Undeliverable invoices", "See attached.")
    assert parse(raw).kind == InboundKind.REPLY


# --- complaints ----------------------------------------------------------------------------


def test_arf_complaint():
    parsed = parse(ARF_COMPLAINT)
    assert parsed.kind == InboundKind.COMPLAINT
    assert parsed.bounced_recipients == ("annoyed@example.com",)
    assert parsed.referenced_ids == ("<Step1.Spam1@cadence.test>",)
    assert parsed.bounce_permanent is False
    assert parsed.return_date is None


def test_arf_without_original_rcpt_to_uses_the_embedded_to():
    raw = ARF_COMPLAINT.replace(b"Original-Rcpt-To: <Annoyed@Example.com>\r\n", b"")
    assert parse(raw).bounced_recipients == ("annoyed@example.com",)
