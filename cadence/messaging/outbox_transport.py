"""Which mail server an automated email goes through.

A plan owner who has connected their own mailbox sends through its SMTP server, logged in as
them, and from its address: the email is theirs, it lands in their Sent folder, and the
lead's reply comes back to the inbox Cadence reads. Everyone else keeps the organisation's
transport (``EMAIL_URL``, anymail or the capture backend). A broken mailbox does not fall back
to the organisation's transport: the owner's emails wait, with the reason on the row, until
they fix it (``mailbox_wait``). A login refused while sending counts towards the mailbox
being broken, as in a sync, and the owner is told when it breaks.

Generic IMAP servers do not keep a copy of what is sent through SMTP, so the sent messages
are appended to the mailbox's Sent folder afterwards (``Transport.file_sent``); Google and
Microsoft file them themselves.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend

from cadence.mailboxes import services as mailbox_services
from cadence.mailboxes.choices import MailboxStatus, Provider
from cadence.mailboxes.connection import MailboxError, imap_session, smtp_close, smtp_open
from cadence.mailboxes.models import Mailbox
from cadence.messaging.mailbox_sync import mailbox_check_before_send, mailbox_trouble_tell
from cadence.messaging.models import OutboundMessage
from cadence.plans.models import LeadContactPlan

logger = logging.getLogger(__name__)

#: Providers whose servers file what goes out through SMTP in the Sent folder themselves.
FILES_SENT_ITSELF = {Provider.GOOGLE, Provider.MICROSOFT}


class MailboxBackend(EmailBackend):
    """Django's SMTP backend, connected to a mailbox's own SMTP server as its owner (the
    mailboxes app's login: password or XOAUTH2, with its timeouts and errors in words)."""

    def __init__(self, mailbox: Mailbox, **kwargs):
        super().__init__(fail_silently=False, **kwargs)
        self.mailbox = mailbox

    def open(self) -> bool:
        if self.connection is not None:
            return False
        _, smtp = mailbox_services.mailbox_endpoints(self.mailbox)
        self.connection = smtp_open(smtp)
        return True

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            smtp_close(self.connection)
        finally:
            self.connection = None


@dataclass
class Transport:
    """One way out: the organisation's connection (``mailbox`` None) or a mailbox's."""

    backend: object
    mailbox: Mailbox | None = None
    #: Set once the server could not be reached or refused us: the rest of the batch's rows
    #: for it wait rather than try again.
    down: str = ""
    sent: list[EmailMessage] = field(default_factory=list)

    def prepare(self, message: EmailMessage) -> None:
        """From the mailbox's own address, under the owner's name, when sending through it."""
        if self.mailbox is not None:
            name, _ = parseaddr(message.from_email)
            message.from_email = formataddr((name, self.mailbox.email_address))

    def failed(self, exc: BaseException, *, now: datetime.datetime, doing: str = "send") -> str:
        """Note that the server could not be reached or refused the login; returns why, in
        words, for the rows that now wait."""
        if self.mailbox is None:
            self.down = f"Mail server: {exc}"
            return self.down
        text = exc.message if isinstance(exc, MailboxError) else str(exc)
        auth = isinstance(exc, MailboxError) and exc.authentication
        was_broken = self.mailbox.status == MailboxStatus.BROKEN
        self.mailbox = mailbox_services.mailbox_login_failed(
            mailbox=self.mailbox, error=text, auth=auth, now=now
        )
        mailbox_trouble_tell(self.mailbox, was_broken=was_broken, reason=text)
        self.down = f"Your mailbox {self.mailbox.email_address} could not {doing}: {text}"
        return self.down

    def file_sent(self) -> None:
        """Append what went out through a generic IMAP mailbox to its Sent folder, read; a
        failure here is logged, the emails having gone."""
        sent, self.sent = self.sent, []
        mailbox = self.mailbox
        if not sent or mailbox is None or mailbox.provider in FILES_SENT_ITSELF:
            return
        if not mailbox.sent_folder:
            return
        try:
            imap, _ = mailbox_services.mailbox_endpoints(mailbox)
            folder = '"' + mailbox.sent_folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
            with imap_session(imap) as client:
                for message in sent:
                    client.append(folder, r"(\Seen)", None, message.message().as_bytes())
        except Exception as exc:
            logger.warning("Mailbox %s: sent emails not filed in Sent: %s", mailbox.pk, exc)


class Transports:
    """The ways out for a batch: each row's owner's mailbox if connected, else the
    organisation's connection. Mailboxes are read once per batch."""

    def __init__(self, rows: list[OutboundMessage], *, organisation):
        self.organisation = Transport(organisation)
        users = {row.user_id for row in rows}
        self._by_user: dict = {}
        for mailbox in Mailbox.objects.filter(user_id__in=users).order_by("created_at"):
            self._by_user.setdefault(mailbox.user_id, Transport(MailboxBackend(mailbox), mailbox))

    def for_row(self, row: OutboundMessage) -> Transport:
        return self._by_user.get(row.user_id, self.organisation)

    def check_inboxes(self, rows: list[OutboundMessage], *, now: datetime.datetime) -> None:
        """The check just before sending, once per mailbox for the batch: replies from these
        leads that landed since the last sync are applied now, and the rows' plans re-read,
        so that a plan the reply ended is not sent its next step. An inbox that cannot be
        read makes its owner's rows wait: without the look, a reply could be missed."""
        for transport in self._by_user.values():
            mailbox = transport.mailbox
            mine = [row for row in rows if row.user_id == mailbox.user_id and row.contact_id]
            if not mine or mailbox.status == MailboxStatus.BROKEN:
                continue
            try:
                applied = mailbox_check_before_send(
                    mailbox=mailbox, addresses=[row.contact.email for row in mine], now=now
                )
            except MailboxError as exc:
                transport.failed(exc, now=now, doing="be checked for replies before sending")
                continue
            if applied:
                current = LeadContactPlan.objects.in_bulk([row.plan_id for row in mine])
                for row in mine:
                    row.plan.status = current[row.plan_id].status
                    row.plan.current_step_id = current[row.plan_id].current_step_id

    def mailbox_wait(self, row: OutboundMessage) -> str | None:
        """Why the row waits for its owner's mailbox: it is broken, or failed in this batch.
        None if it may go."""
        transport = self.for_row(row)
        mailbox = transport.mailbox
        if transport.down and mailbox is not None:
            return transport.down
        if mailbox is None or mailbox.status != MailboxStatus.BROKEN:
            return None
        return (
            f"Waiting for your mailbox {mailbox.email_address}, which is broken: "
            f"{mailbox.last_error or 'its login failed'} Fix it on your settings page."
        )

    def all(self) -> list[Transport]:
        return [self.organisation, *self._by_user.values()]

    def close(self) -> None:
        for transport in self._by_user.values():
            try:
                transport.backend.close()
            except Exception as exc:
                logger.warning("Mailbox %s: closing SMTP: %s", transport.mailbox.pk, exc)

    def file_sent(self) -> None:
        for transport in self._by_user.values():
            transport.file_sent()
