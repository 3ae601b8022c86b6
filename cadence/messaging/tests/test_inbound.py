"""Mail that comes back, through every door (the raw API, the command, anymail's signed
webhooks), matched to what Cadence sent and applied to the plans."""

import datetime
import email.utils
import hashlib
import hmac
import io
import json
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cadence.activities.models import Activity
from cadence.crm.choices import EmailStatus
from cadence.messaging.choices import InboundKind, InboundStatus, OutboundStatus, SuppressionReason
from cadence.messaging.inbound import tracking_event_apply
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.notifications.models import Notification
from cadence.ops.scheduler import scheduler_pass

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(team):
    """The sender, on the ``manager`` fixture's team: a manager's raw mail is matched within
    their team."""
    return sender_user(team=team)


@pytest.fixture
def sent(seller):
    """One automated email sent to a contact whose plan has a call after it."""
    strategy = automated_strategy(steps=3)
    contact = contacts_of(seller, 1)[0]
    enroll(strategy, seller, [contact])[0]
    outbox_queue_due(now=timezone.now())
    outbox_send_due()
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.SENT
    return row


def _reply(row, *, body="Sounds interesting, let's talk on Tuesday.", headers="", subject=None):
    subject = subject or f"Re: {row.subject}"
    return (
        f"From: {row.contact.full_name} <{row.to_email}>\r\n"
        f"To: Sam Seller <sam@seller.example>\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <reply-{row.pk.hex[:8]}@client.example>\r\n"
        f"In-Reply-To: {row.message_id}\r\n"
        f"References: {row.message_id}\r\n"
        f"Date: {email.utils.format_datetime(timezone.now())}\r\n"
        f"{headers}"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{body}\r\n\r\nOn Tue, Sam Seller wrote:\r\n> Hi there\r\n"
    ).encode()


def _post_raw(client, raw: bytes):
    return client.post("/api/v1/inbound/raw/", raw, content_type="message/rfc822")


def test_a_reply_is_logged_and_ends_the_plan(sent, manager, client_for):
    response = _post_raw(client_for(manager), _reply(sent))

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "reply"
    assert response.json()["status"] == InboundStatus.APPLIED
    activity = Activity.objects.get(direction="inbound")
    assert (activity.outcome, activity.plan, activity.contact) == (
        "Replied",
        sent.plan,
        sent.contact,
    )
    assert "let's talk on Tuesday" in activity.description
    assert "Hi there" not in activity.description
    sent.plan.refresh_from_db()
    assert (sent.plan.status, sent.plan.exit_reason) == ("Completed", "replied")


def test_the_same_reply_twice_is_applied_once(sent, manager, client_for):
    client = client_for(manager)
    _post_raw(client, _reply(sent))

    again = _post_raw(client, _reply(sent))

    assert again.json()["status"] == InboundStatus.DUPLICATE
    assert Activity.objects.filter(direction="inbound").count() == 1


def test_a_reply_without_references_is_matched_by_its_sender(sent, monkeypatch):
    raw = (
        f"From: {sent.to_email}\r\nTo: sam@seller.example\r\nSubject: hello again\r\n"
        "Message-ID: <fresh@client.example>\r\n\r\nAre you still interested?\r\n"
    )

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw.encode())))
    call_command("ingest_email", "-", stdout=io.StringIO())

    record = InboundMessage.objects.get()
    assert (record.status, record.outbound_message) == (InboundStatus.APPLIED, sent)
    sent.plan.refresh_from_db()
    assert sent.plan.exit_reason == "replied"


def test_unmatched_mail_is_kept_and_changes_nothing(sent, admin_user, client_for):
    raw = b"From: stranger@nowhere.example\r\nSubject: hi\r\nMessage-ID: <s@n>\r\n\r\nhello\r\n"

    response = _post_raw(client_for(admin_user), raw)

    assert response.json()["status"] == InboundStatus.UNMATCHED
    sent.plan.refresh_from_db()
    assert sent.plan.status == "In Progress"
    listed = client_for(admin_user).get("/api/v1/inbound/?status=unmatched").json()
    assert [r["from_address"] for r in listed["results"]] == ["stranger@nowhere.example"]


def test_an_out_of_office_reply_pauses_the_plan_until_the_return_date(sent, manager, client_for):
    # The return date is computed from today: a written calendar date passes once and then the
    # reply reads as having no return date.
    back = timezone.now().date() + datetime.timedelta(days=10)
    raw = _reply(
        sent,
        subject="Automatic reply: Quick question",
        headers="Auto-Submitted: auto-replied\r\n",
        body=f"I am out of the office and will be back on {back:%B} {back.day}, {back.year}.",
    )

    response = _post_raw(client_for(manager), raw)

    assert response.json()["kind"] == "auto_reply"
    sent.plan.refresh_from_db()
    assert sent.plan.status == "Paused"
    resume = datetime.datetime.combine(back, datetime.time(9), tzinfo=datetime.UTC)
    assert sent.plan.resume_at == resume
    assert not Activity.objects.filter(outcome="Replied").exists()

    scheduler_pass(now=resume + datetime.timedelta(minutes=1))

    sent.plan.refresh_from_db()
    assert (sent.plan.status, sent.plan.resume_at) == ("In Progress", None)


def _dsn(row, *, status="5.1.1", action="failed"):
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\r\n"
        "To: sam@seller.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.client.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.client.example\r\n\r\n"
        f"Final-Recipient: rfc822; {row.to_email}\r\nAction: {action}\r\nStatus: {status}\r\n"
        "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {row.message_id}\r\nTo: {row.to_email}\r\nSubject: {row.subject}\r\n"
        "\r\n--B--\r\n"
    ).encode()


def test_a_bounce_marks_the_address_and_ends_the_plans(sent, manager, client_for):
    response = _post_raw(client_for(manager), _dsn(sent))

    assert response.json()["kind"] == "bounce"
    assert response.json()["status"] == InboundStatus.APPLIED
    sent.contact.refresh_from_db()
    assert sent.contact.email_status == EmailStatus.BOUNCED
    sent.plan.refresh_from_db()
    assert (sent.plan.status, sent.plan.exit_reason) == ("Aborted", "bounced")
    assert Suppression.objects.get().reason == SuppressionReason.BOUNCED


def test_a_delay_notice_changes_nothing(sent, manager, client_for):
    response = _post_raw(client_for(manager), _dsn(sent, status="4.4.1", action="delayed"))

    assert response.json()["status"] == InboundStatus.IGNORED
    sent.plan.refresh_from_db()
    assert sent.plan.status == "In Progress"


def test_a_burst_of_bounces_pauses_the_senders_automation(seller, settings):
    settings.CADENCE_BOUNCE_PAUSE_COUNT = 3
    strategy = automated_strategy()
    enroll(strategy, seller, contacts_of(seller, 5))
    outbox_queue_due(now=timezone.now())
    outbox_send_due()
    rows = list(OutboundMessage.objects.filter(status=OutboundStatus.SENT))
    assert len(rows) == 5

    for row in rows[:3]:
        from cadence.messaging.inbound import inbound_receive

        raw = _dsn(row).replace(b"dsn-1@", f"dsn-{row.pk.hex[:6]}@".encode())
        inbound_receive(raw=raw)

    sender = Sender.objects.get(user=seller)
    assert sender.automation_paused_at is not None
    assert "3 bounces or complaints" in sender.automation_paused_reason
    assert Notification.objects.filter(user=seller, title__contains="paused").count() == 1


def test_reps_may_not_hand_in_raw_mail(sent, rep, client_for):
    response = _post_raw(client_for(rep), _reply(sent))
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_raw_mail_as_json_and_garbage(manager, client_for):
    client = client_for(manager)
    as_json = client.post("/api/v1/inbound/raw/", {"raw": "garbage"}, format="json")
    assert as_json.status_code == 201
    assert as_json.json()["status"] == InboundStatus.UNMATCHED
    assert client.post("/api/v1/inbound/raw/", {}, format="json").status_code == 400


def test_ingest_email_reads_files_and_reports_unreadable_ones(sent, tmp_path):
    path = tmp_path / "reply.eml"
    path.write_bytes(_reply(sent))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "ingest_email", str(path), str(tmp_path / "missing.eml"), stdout=out, stderr=err
        )

    assert exit_info.value.code == 1
    assert "reply, applied" in out.getvalue()
    assert "missing.eml" in err.getvalue()
    sent.plan.refresh_from_db()
    assert sent.plan.exit_reason == "replied"


# -- anymail webhooks (Mailgun: HMAC-signed, plus basic auth) -------------------------------------

SIGNING_KEY = "key-test-signing"


@pytest.fixture
def mailgun(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": "hook:s3cret",
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }


def _signature(key=SIGNING_KEY):
    timestamp, token = str(int(time.time())), "a" * 50
    digest = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def _basic_auth():
    import base64

    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"hook:s3cret").decode()}


def test_a_signed_mailgun_inbound_webhook_applies_the_reply(sent, mailgun, client):
    data = {"body-mime": _reply(sent).decode(), **_signature()}

    response = client.post("/anymail/mailgun/inbound/", data, **_basic_auth())

    assert response.status_code == 200
    record = InboundMessage.objects.get()
    assert (record.source, record.status) == ("anymail:Mailgun", InboundStatus.APPLIED)
    sent.plan.refresh_from_db()
    assert sent.plan.exit_reason == "replied"


def test_a_badly_signed_webhook_is_refused(sent, mailgun, client):
    forged = {"body-mime": _reply(sent).decode(), **_signature("wrong key")}

    assert client.post("/anymail/mailgun/inbound/", forged, **_basic_auth()).status_code == 400
    no_auth = {"body-mime": _reply(sent).decode(), **_signature()}
    assert client.post("/anymail/mailgun/inbound/", no_auth).status_code == 400
    assert not InboundMessage.objects.exists()


def test_a_mailgun_permanent_failure_event_bounces_the_contact(sent, mailgun, client):
    OutboundMessage.objects.filter(pk=sent.pk).update(esp_message_id="20261125.abc@mg.example")
    event = {
        "signature": _signature(),
        "event-data": {
            "event": "failed",
            "severity": "permanent",
            "recipient": sent.to_email,
            "timestamp": time.time(),
            "message": {"headers": {"message-id": "20261125.abc@mg.example"}},
        },
    }

    response = client.post(
        "/anymail/mailgun/tracking/",
        json.dumps(event),
        content_type="application/json",
        **_basic_auth(),
    )

    assert response.status_code == 200
    sent.contact.refresh_from_db()
    assert sent.contact.email_status == EmailStatus.BOUNCED
    record = InboundMessage.objects.get()
    assert (record.kind, record.outbound_message) == (InboundKind.BOUNCE, sent)


def test_a_provider_unsubscribe_suppresses_the_address_and_opts_the_contact_out(sent):
    """An unsubscribe the email provider reports is the recipient's word: the address goes on
    the list even when no contact has it, and a contact who has it is opted out."""
    known = tracking_event_apply(
        event_type="unsubscribed", recipient=sent.to_email.upper(), esp_message_id="", source="t"
    )
    unknown = tracking_event_apply(
        event_type="unsubscribed", recipient="nobody@else.example", esp_message_id="", source="t"
    )

    sent.contact.refresh_from_db()
    assert sent.contact.opted_out
    assert (known.status, known.contact) == (InboundStatus.APPLIED, sent.contact)
    assert unknown.status == InboundStatus.UNMATCHED
    assert set(Suppression.objects.values_list("email", "reason")) == {
        (sent.to_email, SuppressionReason.UNSUBSCRIBED),
        ("nobody@else.example", SuppressionReason.UNSUBSCRIBED),
    }


def test_locmem_mail_is_what_the_other_tests_send(sent):
    assert len(mail.outbox) == 1


def test_a_read_receipt_is_kept_and_ignored(sent, manager, client_for):
    raw = (
        f"From: {sent.to_email}\r\nTo: sam@seller.example\r\nSubject: Read: {sent.subject}\r\n"
        "Message-ID: <mdn-1@client.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="M"\r\n'
        "\r\n--M\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        "--M\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.to_email}\r\n"
        f"Original-Message-ID: {sent.message_id}\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        "\r\n--M--\r\n"
    ).encode()

    response = _post_raw(client_for(manager), raw)

    assert (response.json()["kind"], response.json()["status"]) == ("receipt", "ignored")
    sent.plan.refresh_from_db()
    assert sent.plan.status == "In Progress"


@pytest.mark.parametrize("provider", ["mailgun", "amazon_ses", "brevo", "postmark", "mailjet"])
def test_a_webhook_of_a_provider_not_set_up_is_refused_not_an_error(client, provider):
    for kind in ("inbound", "tracking"):
        response = client.post(
            f"/anymail/{provider}/{kind}/", "{}", content_type="application/json"
        )
        assert response.status_code in (400, 404), (provider, kind, response.status_code)
    assert not InboundMessage.objects.exists()


# -- The raw API matches only within its caller's scope -------------------------------------------


def _arf(row):
    """A provider's abuse report (a complaint) about ``row``."""
    return (
        "From: staff@abuse.example\r\nTo: sam@seller.example\r\n"
        "Subject: complaint about message\r\nMessage-ID: <arf-1@abuse.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n'
        "\r\n--F\r\nContent-Type: text/plain\r\n\r\nAn abuse report.\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: abuse\r\nVersion: 1\r\nOriginal-Rcpt-To: <{row.to_email}>\r\n"
        "\r\n--F\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: sam@seller.example\r\nTo: {row.to_email}\r\nMessage-ID: {row.message_id}\r\n"
        "\r\nHi there\r\n\r\n--F--\r\n"
    ).encode()


def _by_address(row):
    """A reply that refers to nothing Cadence sent: matched by its sender's address alone."""
    return (
        f"From: {row.to_email}\r\nTo: sam@seller.example\r\nSubject: hello again\r\n"
        "Message-ID: <fresh@client.example>\r\n\r\nAre you still interested?\r\n"
    ).encode()


def _out_of_office(row):
    return _reply(
        row,
        subject="Automatic reply: Quick question",
        headers="Auto-Submitted: auto-replied\r\n",
        body="I am out of the office.",
    )


OTHER_TEAMS_MAIL = {
    "reply": _reply,
    "reply by address": _by_address,
    "out of office": _out_of_office,
    "bounce": _dsn,
    "complaint": _arf,
}


@pytest.mark.parametrize("build", OTHER_TEAMS_MAIL.values(), ids=OTHER_TEAMS_MAIL.keys())
def test_another_teams_manager_cannot_touch_our_plans_with_raw_mail(
    sent, other_manager, client_for, build
):
    """Mail about another team's lead, handed in by a manager outside that team, is stored as
    unmatched: no plan ends or pauses, the contact is not marked, and the answer names none of
    the other team's contact, plan, email or activity."""
    response = _post_raw(client_for(other_manager), build(sent))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == InboundStatus.UNMATCHED
    assert (body["contact_id"], body["plan_id"]) == (None, None)
    assert (body["outbound_message_id"], body["activity_id"]) == (None, None)
    assert sent.contact.full_name not in body["note"]
    assert InboundMessage.objects.get().status == InboundStatus.UNMATCHED
    sent.plan.refresh_from_db()
    assert (sent.plan.status, sent.plan.exit_reason, sent.plan.resume_at) == (
        "In Progress",
        "",
        None,
    )
    sent.contact.refresh_from_db()
    assert sent.contact.email_status != EmailStatus.BOUNCED
    assert not sent.contact.opted_out
    assert not Activity.objects.filter(direction="inbound").exists()
    listed = client_for(other_manager).get("/api/v1/inbound/").json()
    assert listed["count"] == 0


def test_a_contact_merely_shared_with_another_team_is_not_theirs_to_match(
    sent, other_team, other_manager, admin_user, client_for
):
    """Sharing a contact with a team lets it see the contact, not end the owning team's plans
    on it by handing in a reply from the address. An admin's raw mail matches anyone's."""
    sent.contact.team = other_team
    sent.contact.save()

    response = _post_raw(client_for(other_manager), _by_address(sent))

    assert response.json()["status"] == InboundStatus.UNMATCHED
    assert response.json()["contact_id"] is None
    sent.plan.refresh_from_db()
    assert sent.plan.status == "In Progress"

    by_admin = _post_raw(client_for(admin_user), _by_address(sent))

    assert by_admin.json()["status"] == InboundStatus.APPLIED
    assert by_admin.json()["plan_id"] == str(sent.plan.pk)
    sent.plan.refresh_from_db()
    assert sent.plan.exit_reason == "replied"


def test_the_trusted_doors_still_match_what_another_manager_could_not(
    sent, other_manager, client_for, mailgun, client
):
    """The command and the signed webhook match organisation-wide; an earlier unmatched copy
    from the raw API does not count as having applied the email."""
    _post_raw(client_for(other_manager), _reply(sent))
    sent.plan.refresh_from_db()
    assert sent.plan.status == "In Progress"

    data = {"body-mime": _reply(sent).decode(), **_signature()}
    response = client.post("/anymail/mailgun/inbound/", data, **_basic_auth())

    assert response.status_code == 200
    applied = InboundMessage.objects.get(source="anymail:Mailgun")
    assert (applied.status, applied.plan) == (InboundStatus.APPLIED, sent.plan)
    sent.plan.refresh_from_db()
    assert sent.plan.exit_reason == "replied"


def test_the_command_matches_another_teams_bounce(sent, other_manager, client_for, tmp_path):
    _post_raw(client_for(other_manager), _dsn(sent))
    path = tmp_path / "bounce.eml"
    path.write_bytes(_dsn(sent))

    call_command("ingest_email", str(path), stdout=io.StringIO())

    assert InboundMessage.objects.get(source="command").status == InboundStatus.APPLIED
    sent.contact.refresh_from_db()
    assert sent.contact.email_status == EmailStatus.BOUNCED
