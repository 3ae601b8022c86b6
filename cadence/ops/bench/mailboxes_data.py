"""The workload of the mailbox benchmark (``cadence.ops.bench.mailboxes``): reps, their leads
(each sent its first automated email), their mailboxes on a private Dovecot, and the messages
that land in them."""

from __future__ import annotations

import datetime
import email.utils
import imaplib
import itertools
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.secrets import secret_encrypt
from cadence.crm.models import Company, Contact
from cadence.mailboxes.models import Mailbox

# The benchmark runs the same private Dovecot the mailbox tests do: a plain class with no test
# framework in it, and a second copy here would drift from the server the suite proves the
# product against.
from cadence.mailboxes.tests.servers import Account, quote_mailbox
from cadence.messaging.models import OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.plans.assignment import strategy_assign
from cadence.strategies.models import ContactStrategy, StrategyStep

REPS_DOMAIN = "reps.example"
#: Newsletters are the bulk of a rep's mail and its largest messages (HTML).
NEWSLETTER_PARAGRAPHS = 40
#: Seeding appends from this many connections at once.
APPEND_THREADS = 4

Say = Callable[[str], None]


@dataclass
class Rep:
    """A rep, their mailbox and its Dovecot login, and the leads planted for each phase: each
    lead as ``(contact, the Cadence email it was sent or None)``."""

    user: User
    account: Account
    mailbox: Mailbox | None = None
    repliers: list = field(default_factory=list)
    writers: list = field(default_factory=list)
    stoppers: list = field(default_factory=list)
    racers: list = field(default_factory=list)


@dataclass(frozen=True)
class Sizes:
    mailboxes: int
    messages: int
    workers: int
    interval: float
    duration: float
    stop_replies: int
    race_leads: int
    race_seconds: float
    race_batch: int

    @property
    def replies(self) -> int:
        """Threaded replies per inbox: a tenth, at least one."""
        return max(1, self.messages // 10)

    @property
    def writers(self) -> int:
        """Mail from a lead's address without a thread, per inbox: a tenth."""
        return min(self.messages - self.replies, self.messages // 10)


# -- seeding ---------------------------------------------------------------------------------


def seed(sizes: Sizes, *, label: str, dovecot, smtp, say: Say) -> list[Rep]:
    """The reps, their leads (each sent its first automated email), their mailboxes, and K
    new messages in each inbox."""
    started = time.perf_counter()
    now = timezone.now()
    reps = []
    with transaction.atomic():
        for n in range(sizes.mailboxes):
            user = User.objects.create_user(
                f"mailbox-load-{label}-{n}",
                email=f"rep{n}-{label}@{REPS_DOMAIN}",
                password=None,
                display_name=f"Rep {n}",
                signature=f"-- Rep {n}",
                time_zone="UTC",
            )
            Sender.objects.create(
                user=user,
                ramp_started_on=datetime.date(2000, 1, 1),
                daily_limit=10_000_000,
                hourly_limit=10_000_000,
                postal_address="Cadence Load Test, 1 Bench Street, Testville",
            )
            reps.append(Rep(user=user, account=dovecot.add_user()))
        strategy = _strategy(reps[0].user, now=now)
    # The leads of phases 3 and 4 go round the reps; each rep has its own companies, one per
    # lead, so that no per-domain limit holds a send back.
    stoppers = Counter(n % sizes.mailboxes for n in range(sizes.stop_replies))
    racers = Counter(n % sizes.mailboxes for n in range(sizes.race_leads))
    for n, rep in enumerate(reps):
        rep.repliers = _leads(rep, "r", sizes.replies, label=label, n=n)
        rep.writers = _leads(rep, "w", sizes.writers, label=label, n=n)
        rep.stoppers = _leads(rep, "s", stoppers[n], label=label, n=n)
        rep.racers = _leads(rep, "x", racers[n], label=label, n=n)
        if (n + 1) % 50 == 0:
            say(f"  seeded {n + 1}/{len(reps)} reps and their leads")
    for rep in reps:
        early = [c for c, _ in rep.repliers + rep.writers + rep.stoppers]
        if early:
            strategy_assign(
                strategy=strategy,
                user=rep.user,
                contacts=early,
                plan_start_date=now - datetime.timedelta(minutes=1),
            )
    # Sent before the mailboxes exist: through the organisation's transport, kept in memory.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        outbox_queue_due(now=timezone.now())
        report = outbox_send_due(batch_size=200)
    sent = {row.contact_id: row for row in OutboundMessage.objects.filter(status="sent")}
    for rep in reps:
        for leads in (rep.repliers, rep.writers, rep.stoppers):
            leads[:] = [(contact, sent[contact.pk]) for contact, _ in leads]
    say(f"Seeded {len(reps)} reps; {report.sent} automated emails sent to their leads.")
    for rep in reps:
        smtp.add_user(rep.account.username, rep.account.password)
        rep.mailbox = Mailbox.objects.create(
            user=rep.user,
            provider="imap_smtp",
            email_address=rep.user.email,
            username=rep.account.username,
            secret_encrypted=secret_encrypt(rep.account.password),
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_security="none",
            sent_folder="Sent",
        )
    _plant(reps, sizes, dovecot=dovecot, say=say)
    say(f"Seeding took {time.perf_counter() - started:.1f} s.")
    return reps


def _strategy(user: User, *, now) -> ContactStrategy:
    strategy = ContactStrategy.objects.create(
        name="Mailbox load", created_by=user, automation_approved_at=now
    )
    StrategyStep.objects.create(
        strategy=strategy,
        step_number=1,
        delay_days=0,
        activity_type="Email",
        is_automated=True,
        subject_template="A question for {{ company.name }}, {{ contact.first_name }}",
        description_template=(
            "Hi {{ contact.first_name }},\n\nwould a short call next week help "
            "{{ company.name }}?\n\n{{ user.signature }}"
        ),
    )
    StrategyStep.objects.create(
        strategy=strategy, step_number=2, delay_days=3, activity_type="Call"
    )
    return strategy


def _leads(rep: Rep, kind: str, count: int, *, label: str, n: int) -> list:
    if not count:
        return []
    companies = Company.objects.bulk_create(
        Company(
            name=f"Mail Co {label} {n}{kind}{k}",
            domain=f"{kind}{k}-{n}-{label}.example",
            owner=rep.user,
            time_zone="UTC",
        )
        for k in range(count)
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            company=company,
            first_name=f"Lead{k}",
            last_name=kind.upper(),
            email=f"lead@{company.domain}",
            title="Head of Sales",
            owner=rep.user,
            time_zone="UTC",
        )
        for k, company in enumerate(companies)
    )
    return [(contact, None) for contact in contacts]


def _plant(reps: list[Rep], sizes: Sizes, *, dovecot, say: Say) -> None:
    """K new messages in each inbox, in a shuffled order, one IMAP session per mailbox."""
    shuffle = random.Random(16)
    done = itertools.count(1)

    def one(rep: Rep) -> None:
        raws = [reply(rep, *lead) for lead in rep.repliers]
        raws += [note_from(rep, contact) for contact, _ in rep.writers]
        for k in range(sizes.messages - len(raws)):
            raws.append(newsletter(rep, k) if k % 2 else colleague_mail(rep, k))
        shuffle_rep = random.Random(shuffle.random())
        shuffle_rep.shuffle(raws)
        append_all(dovecot, rep.account, "INBOX", raws)
        count = next(done)
        if count % 50 == 0:
            say(f"  planted {count}/{len(reps)} inboxes")

    with ThreadPoolExecutor(APPEND_THREADS) as pool:
        list(pool.map(one, reps))
    say(f"Planted {sizes.messages} new messages in each of {len(reps)} inboxes.")


def append_all(dovecot, account: Account, folder: str, raws: list[bytes]) -> None:
    """APPEND ``raws`` in one session, each stamped with this process's clock as a delivery
    agent would (with libfaketime, Dovecot's own stamp would be the file's real time)."""
    with dovecot.connect(account.username, account.password) as imap:
        for raw in raws:
            stamp = imaplib.Time2Internaldate(datetime.datetime.now(datetime.UTC))
            status, data = imap.append(quote_mailbox(folder), None, stamp, raw)
            if status != "OK":
                raise CommandError(f"APPEND to {folder} failed: {data!r}")


def _headers(sender: str, rep: Rep, subject: str, domain: str, extra: str = "") -> str:
    return (
        f"From: {sender}\r\nTo: {rep.user.display_name} <{rep.user.email}>\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{secrets.token_hex(8)}@{domain}>\r\n"
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n{extra}"
    )


def reply(rep: Rep, contact: Contact, row: OutboundMessage) -> bytes:
    """The lead's answer to the Cadence email ``row``, threaded to it."""
    thread = f"In-Reply-To: {row.message_id}\r\nReferences: {row.message_id}\r\n"
    return (
        _headers(
            f"{contact.first_name} {contact.last_name} <{contact.email}>",
            rep,
            f"Re: {row.subject}",
            contact.email.rpartition("@")[2],
            thread,
        )
        + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Sounds interesting, let's talk on Tuesday.\r\n\r\n"
        f"On Monday, {rep.user.display_name} wrote:\r\n> " + row.body.replace("\n", "\r\n> ")
    ).encode()


def note_from(rep: Rep, contact: Contact) -> bytes:
    """Mail a lead writes without answering any thread: only the address says who it is."""
    return (
        _headers(
            f"{contact.first_name} <{contact.email}>",
            rep,
            "Pricing for next quarter",
            contact.email.rpartition("@")[2],
        )
        + "Content-Type: text/plain; charset=utf-8\r\n\r\nCould you send me your prices?\r\n"
    ).encode()


def newsletter(rep: Rep, k: int) -> bytes:
    paragraph = (
        "<p>This week only: everything you did not know you needed, at prices you will not "
        "believe. Read on for the full list of offers and the terms that apply.</p>\r\n"
    )
    return (
        _headers(f"Deals {k} <news{k % 7}@shop.example>", rep, f"Deals of week {k}", "shop.example")
        + "List-Unsubscribe: <mailto:leave@shop.example>\r\nPrecedence: bulk\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n"
        + paragraph * NEWSLETTER_PARAGRAPHS
        + "</body></html>\r\n"
    ).encode()


def colleague_mail(rep: Rep, k: int) -> bytes:
    return (
        _headers(
            f"Colleague {k % 5} <colleague{k % 5}@team.{REPS_DOMAIN}>",
            rep,
            f"Re: pipeline review {k}",
            f"team.{REPS_DOMAIN}",
        )
        + "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "Can we go through the pipeline before Friday's review?\r\n" * 8
    ).encode()
