"""The test servers themselves, checked with plain imaplib and smtplib: what the mailbox tests
rely on is really there."""

from __future__ import annotations

import imaplib
import re
import smtplib
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

RAW = (
    b"From: Ada <ada@example.test>\r\n"
    b"To: Rep <rep@example.test>\r\n"
    b"Subject: Re: our call\r\n"
    b"Message-ID: <reply-1@example.test>\r\n"
    b"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Thursday works.\r\n"
)


def flags_of(imap: imaplib.IMAP4, uid: int) -> set[str]:
    status, data = imap.uid("FETCH", str(uid), "(FLAGS)")
    assert status == "OK", data
    return set(re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split())


def test_imap_login_takes_the_right_password_only(dovecot):
    account = dovecot.add_user()

    with dovecot.connect(account.username, account.password) as imap:
        assert imap.state == "AUTH"
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        dovecot.connect(account.username, account.password + "x")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        dovecot.connect("nobody-here", account.password)


def test_a_failed_login_does_not_slow_down_the_next_one(dovecot):
    account = dovecot.add_user()
    with pytest.raises(imaplib.IMAP4.error):
        dovecot.connect(account.username, "wrong")

    started = time.monotonic()
    dovecot.connect(account.username, account.password).logout()

    # Dovecot's own per-address penalty would hold this login back 4 s or more.
    assert time.monotonic() - started < 2


def test_an_appended_message_is_found_and_read_without_marking_it_seen(dovecot):
    account = dovecot.add_user()
    uid = dovecot.append(account.username, account.password, "INBOX", RAW, flags=("\\Flagged",))

    with dovecot.connect(account.username, account.password) as imap:
        # SELECT, not EXAMINE: a read-write mailbox, where fetching BODY[] would set \Seen.
        assert imap.select("INBOX") == ("OK", [b"1"])
        status, data = imap.uid("SEARCH", None, "ALL")
        assert (status, data) == ("OK", [str(uid).encode()])
        before = flags_of(imap, uid)

        status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")

        assert status == "OK"
        assert data[0][1] == RAW
        assert "\\Seen" not in before
        assert "\\Flagged" in before
        assert flags_of(imap, uid) == before
        # The check above can fail: a plain BODY[] does mark it read.
        imap.uid("FETCH", str(uid), "(BODY[])")
        assert "\\Seen" in flags_of(imap, uid)


def test_each_user_has_a_sent_folder_and_only_their_own_mail(dovecot):
    sender, other = dovecot.add_user(), dovecot.add_user()
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    uid = dovecot.append(
        sender.username, sender.password, "Sent", RAW, flags=("\\Seen",), internal_date=when
    )
    dovecot.create_folder(sender.username, sender.password, "Archive 2026")
    dovecot.append(sender.username, sender.password, "Archive 2026", RAW)

    with dovecot.connect(sender.username, sender.password) as imap:
        status, listing = imap.list()
        assert status == "OK"
        assert any(b"\\Sent" in line and line.endswith(b" Sent") for line in listing), listing
        assert imap.select("Sent", readonly=True) == ("OK", [b"1"])
        assert flags_of(imap, uid) >= {"\\Seen"}
        status, data = imap.uid("FETCH", str(uid), "(INTERNALDATE)")
        assert b'INTERNALDATE "01-Dec-2026 09:30:00 +0000"' in data[0]
        assert imap.select('"Archive 2026"', readonly=True) == ("OK", [b"1"])
        assert imap.select("INBOX", readonly=True) == ("OK", [b"0"])
    with dovecot.connect(other.username, other.password) as imap:
        assert imap.select("Sent", readonly=True) == ("OK", [b"0"])
        assert imap.select("INBOX", readonly=True) == ("OK", [b"0"])


def test_smtp_login_takes_the_right_password_only(smtp_auth_server):
    account = smtp_auth_server.add_user()

    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            smtp.login(account.username, account.password + "x")
        assert refused.value.smtp_code == 535
        assert smtp.login(account.username, account.password)[0] == 235


def test_mail_is_refused_before_login(smtp_auth_server):
    with (
        smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        smtp.sendmail("rep@example.test", ["ada@example.test"], RAW)

    assert refused.value.smtp_code == 530
    assert smtp_auth_server.messages == []


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_sent_message_is_recorded_with_the_user_who_sent_it(smtp_auth_server, mechanism):
    smtp_auth_server.add_user()
    account = smtp_auth_server.add_user()
    message = EmailMessage()
    message["From"] = "rep@example.test"
    message["To"] = "ada@example.test"
    message["Subject"] = "Next week"
    message.set_content("Does Thursday suit you?")

    with smtplib.SMTP(smtp_auth_server.host, smtp_auth_server.port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.user, smtp.password = account.username, account.password
        smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
        smtp.send_message(message, to_addrs=["ada@example.test", "bcc@example.test"])

    [received] = smtp_auth_server.messages
    assert received.username == account.username
    assert received.mail_from == "rep@example.test"
    assert received.rcpt_tos == ("ada@example.test", "bcc@example.test")
    assert received.message["Subject"] == "Next week"
    assert b"Does Thursday suit you?" in received.content
