"""The outbox pages: the outbox by status with its approval queue, one message and its actions,
captured mail, the suppression list and inbound mail, with who may see and do what."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from cadence.messaging.choices import (
    InboundKind,
    InboundStatus,
    OutboundStatus,
    SuppressionReason,
)
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sending_rep(rep):
    rep.email = "rep@seller.example"
    rep.display_name = "Rita Rep"
    rep.signature = "Rita"
    rep.save()
    Sender.objects.create(
        user=rep, ramp_started_on=datetime.date(2020, 1, 1), postal_address="1 Main St, Springfield"
    )
    return rep


def _queued(user, *, approved=True, count=1, domain="client.example", name=None):
    options = {"name": name} if name else {}
    strategy = automated_strategy(approved=approved, created_by=user, **options)
    enroll(strategy, user, contacts_of(user, count, domain=domain))
    outbox_queue_due(now=timezone.now())
    return strategy


def _set_status(row, status, **fields):
    OutboundMessage.objects.filter(pk=row.pk).update(status=status, **fields)
    row.refresh_from_db()
    return row


def _text(response) -> str:
    return response.content.decode()


class _Audit(HTMLParser):
    """Collects what the accessibility and CSP checks need from a page."""

    def __init__(self):
        super().__init__()
        self.label_for: set[str] = set()
        self.controls: list[str] = []
        self.inline_styles = 0
        self.inline_scripts = 0
        self.forms_without_csrf = 0
        self._post_form_open = False
        self._form_has_csrf = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs or any(name.startswith("hx-on") for name in attrs):
            self.inline_styles += 1
        if tag == "script" and "src" not in attrs:
            self.inline_scripts += 1
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id") or f"<{tag} name={attrs.get('name')}>")
        if tag == "form":
            self._post_form_open = (attrs.get("method") or "").lower() == "post"
            self._form_has_csrf = False
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self._form_has_csrf = True

    def handle_endtag(self, tag):
        if tag == "form" and self._post_form_open and not self._form_has_csrf:
            self.forms_without_csrf += 1
        if tag == "form":
            self._post_form_open = False


def _audit(response):
    """Every input has a label, every post form a CSRF token, no inline script or style."""
    audit = _Audit()
    audit.feed(_text(response))
    unlabelled = [c for c in audit.controls if c not in audit.label_for]
    assert unlabelled == [], unlabelled
    assert audit.forms_without_csrf == 0
    assert audit.inline_styles == 0
    assert audit.inline_scripts == 0


# -- Outbox ---------------------------------------------------------------------------------------


def test_pages_ask_anonymous_visitors_to_sign_in():
    for path in ("/outbox/", "/outbox/mail/", "/outbox/inbound/", "/suppressions/"):
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


def test_the_outbox_lists_the_reps_own_messages_with_counts_per_status(
    sending_rep, outsider, web_client
):
    _queued(sending_rep, count=2)
    first, second = OutboundMessage.objects.order_by("to_email")
    _set_status(second, OutboundStatus.FAILED, error="The template uses an unknown field.")
    _queued(outsider, domain="elsewhere.example")

    response = web_client(sending_rep).get("/outbox/")

    assert response.status_code == 200
    page = _text(response)
    assert "person0@client.example" in page
    assert "Quick question, Person0" in page
    assert "elsewhere.example" not in page
    assert f'href="/contacts/{first.contact_id}/"' in page
    assert f'href="/strategies/{first.strategy_id}/"' in page
    assert '<span class="status queued">Queued</span>' in page
    assert '<span class="status failed">Failed</span>' in page
    assert "The template uses an unknown field." in page
    assert 'Queued <span class="count">(1)</span>' in page
    assert 'Failed <span class="count">(1)</span>' in page
    assert 'All <span class="count">(2)</span>' in page
    assert 'href="/outbox/mail/"' in page and "Captured mail" in page
    assert "Strategies awaiting approval" not in page  # reps approve nothing
    assert "Approve automation" not in page
    _audit(response)


def test_a_status_tab_shows_only_that_status_and_a_bad_one_shows_all(sending_rep, web_client):
    _queued(sending_rep, count=2)
    _first, second = OutboundMessage.objects.order_by("to_email")
    _set_status(second, OutboundStatus.SENT, sent_at=timezone.now())
    client = web_client(sending_rep)

    sent = _text(client.get("/outbox/", {"status": "sent"}))
    assert "person1@client.example" in sent
    assert "person0@client.example" not in sent
    assert 'aria-current="page">Sent' in sent

    everything = client.get("/outbox/", {"status": "nonsense"})
    assert everything.status_code == 200
    assert "person0@client.example" in _text(everything)
    assert "person1@client.example" in _text(everything)


def test_an_htmx_request_gets_only_the_results(sending_rep, web_client):
    _queued(sending_rep)

    response = web_client(sending_rep).get("/outbox/", {"status": "queued"}, **HTMX)

    assert response.status_code == 200
    page = _text(response)
    assert "<html" not in page
    assert 'id="message-' in page
    assert "HX-Request" in response["Vary"]


def test_the_outbox_paginates_and_keeps_to_a_query_budget(
    sending_rep, manager, web_client, django_assert_max_num_queries
):
    _queued(sending_rep, count=27, approved=False)
    client = web_client(manager)
    client.get("/outbox/")  # the session and content types are warm from here on

    with django_assert_max_num_queries(9):
        response = client.get("/outbox/")

    assert response.status_code == 200
    assert _text(response).count('class="outbox-message"') == 25
    assert "Page 1 of 2" in _text(response)
    second = _text(client.get("/outbox/", {"page": 2}))
    assert second.count('class="outbox-message"') == 2

    rep_client = web_client(sending_rep)
    rep_client.get("/outbox/")
    with django_assert_max_num_queries(7):
        assert rep_client.get("/outbox/", {"status": "awaiting_approval"}).status_code == 200


def test_a_message_page_shows_the_rendered_email(sending_rep, web_client):
    _queued(sending_rep)
    outbox_send_due()
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.SENT

    response = web_client(sending_rep).get(f"/outbox/{row.pk}/")

    assert response.status_code == 200
    page = _text(response)
    assert "<h1>Email to person0@client.example</h1>" in page
    assert '<pre class="email">Hi Person0,' in page
    assert "1 Main St, Springfield" in page  # the footer
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert f'href="/plans/{row.plan_id}/"' in page
    assert "No action: this email is sent." in page
    _audit(response)


def test_another_teams_message_is_a_404_for_pages_and_actions(sending_rep, outsider, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    client = web_client(outsider)

    assert client.get(f"/outbox/{row.pk}/").status_code == 404
    for action in ("send-now", "cancel", "retry", "confirm"):
        assert client.post(f"/outbox/{row.pk}/{action}/", {"sent": "yes"}).status_code == 404
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED


def test_a_manager_sees_the_teams_messages(sending_rep, manager, other_manager, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()

    assert web_client(manager).get(f"/outbox/{row.pk}/").status_code == 200
    assert web_client(other_manager).get(f"/outbox/{row.pk}/").status_code == 404


def test_actions_only_for_a_get_are_refused(sending_rep, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    assert web_client(sending_rep).get(f"/outbox/{row.pk}/send-now/").status_code == 405


def test_send_now_over_htmx_sends_it_and_swaps_the_row(sending_rep, web_client):
    _queued(sending_rep, approved=False)
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.AWAITING_APPROVAL
    client = web_client(sending_rep)
    listed = _text(client.get("/outbox/"))
    assert "Send now" in listed and "Cancel" in listed

    response = client.post(f"/outbox/{row.pk}/send-now/", {"next": "/outbox/"}, **HTMX)

    assert response.status_code == 200
    page = _text(response)
    assert page.lstrip().startswith(f'<tbody id="message-{row.pk}"')
    assert "The email to person0@client.example was sent." in page
    assert '<span class="status sent">Sent</span>' in page
    assert "<details open>" in page
    assert "Send now" not in page
    [sent] = mail.outbox
    assert sent.to == ["person0@client.example"]


def test_send_now_without_javascript_redirects_back_with_a_message(sending_rep, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()

    response = web_client(sending_rep).post(
        f"/outbox/{row.pk}/send-now/", {"next": "/outbox/?status=queued"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/outbox/?status=queued"
    assert OutboundMessage.objects.get().status == OutboundStatus.SENT
    followed = web_client(sending_rep).get(response["Location"])
    assert followed.status_code == 200


def test_a_foreign_next_address_is_ignored(sending_rep, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()

    response = web_client(sending_rep).post(
        f"/outbox/{row.pk}/cancel/", {"next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/outbox/{row.pk}/"


def test_cancel_and_a_refused_second_cancel(sending_rep, web_client):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    client = web_client(sending_rep)

    done = client.post(f"/outbox/{row.pk}/cancel/", follow=True)
    assert done.status_code == 200
    assert "is cancelled; the step stays to be done by hand" in _text(done)
    assert OutboundMessage.objects.get().status == OutboundStatus.CANCELLED

    again = client.post(f"/outbox/{row.pk}/cancel/", follow=True)
    assert again.status_code == 200
    assert "only a queued or unapproved one can be cancelled" in _text(again)

    over_htmx = client.post(f"/outbox/{row.pk}/cancel/", **HTMX)
    assert over_htmx.status_code == 200
    assert 'role="alert"' in _text(over_htmx)
    assert "only a queued or unapproved one can be cancelled" in _text(over_htmx)
    outbox_send_due()
    assert mail.outbox == []


def test_retry_queues_a_failed_message_again(sending_rep, web_client):
    _queued(sending_rep)
    row = _set_status(OutboundMessage.objects.get(), OutboundStatus.FAILED, error="Bounced.")
    client = web_client(sending_rep)
    assert "Retry" in _text(client.get(f"/outbox/{row.pk}/"))

    response = client.post(f"/outbox/{row.pk}/retry/", **HTMX)

    assert response.status_code == 200
    assert "The email to person0@client.example is queued." in _text(response)
    row.refresh_from_db()
    assert row.status == OutboundStatus.QUEUED
    assert row.error == ""
    refused = client.post(f"/outbox/{row.pk}/retry/", **HTMX)
    assert "Only a failed email can be tried again." in _text(refused)


def _uncertain(row):
    return _set_status(
        row,
        OutboundStatus.UNCERTAIN,
        handoff_at=timezone.now() - datetime.timedelta(hours=1),
        message_id="<abc@seller.example>",
    )


def test_an_uncertain_message_that_arrived_is_recorded_as_sent(sending_rep, web_client):
    _queued(sending_rep)
    row = _uncertain(OutboundMessage.objects.get())
    client = web_client(sending_rep)
    detail = _text(client.get(f"/outbox/{row.pk}/"))
    assert "It arrived" in detail and "It did not arrive" in detail

    response = client.post(f"/outbox/{row.pk}/confirm/", {"sent": "yes"}, **HTMX)

    assert response.status_code == 200
    assert '<span class="status sent">Sent</span>' in _text(response)
    row.refresh_from_db()
    assert row.status == OutboundStatus.SENT
    assert row.activity_id is not None
    assert mail.outbox == []


def test_an_uncertain_message_that_did_not_arrive_goes_again(sending_rep, web_client):
    _queued(sending_rep)
    row = _uncertain(OutboundMessage.objects.get())

    response = web_client(sending_rep).post(f"/outbox/{row.pk}/confirm/", {"sent": "no"})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == OutboundStatus.QUEUED
    assert row.send_now


def test_confirm_without_a_clear_answer_is_refused(sending_rep, web_client):
    _queued(sending_rep)
    row = _uncertain(OutboundMessage.objects.get())

    response = web_client(sending_rep).post(f"/outbox/{row.pk}/confirm/", {"sent": "maybe"}, **HTMX)

    assert response.status_code == 200
    assert "Say whether the email arrived." in _text(response)
    assert OutboundMessage.objects.get().status == OutboundStatus.UNCERTAIN


# -- Approval -------------------------------------------------------------------------------------


def test_a_manager_sees_the_strategies_awaiting_approval_and_approves_one(
    sending_rep, manager, web_client
):
    strategy = _queued(sending_rep, approved=False, count=3, name="Spring outreach")
    client = web_client(manager)

    page = _text(client.get("/outbox/"))
    assert "Strategies awaiting approval" in page
    assert "Spring outreach" in page
    assert "3 emails waiting" in page
    assert f'action="/outbox/strategies/{strategy.pk}/approve/"' in page

    response = client.post(
        f"/outbox/strategies/{strategy.pk}/approve/", {"next": "/outbox/"}, follow=True
    )

    assert response.status_code == 200
    assert "is approved; its waiting emails are queued" in _text(response)
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {OutboundStatus.QUEUED}
    after = _text(response)
    assert "No strategy's emails wait for approval." in after
    assert "Strategies with automation on (1)" in after
    assert f'action="/outbox/strategies/{strategy.pk}/stop/"' in after


def test_a_manager_stops_a_strategys_automation(sending_rep, manager, web_client):
    strategy = _queued(sending_rep, approved=True)

    response = web_client(manager).post(f"/outbox/strategies/{strategy.pk}/stop/")

    assert response.status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL


def test_a_rep_cannot_approve_or_stop_automation(sending_rep, web_client):
    strategy = _queued(sending_rep, approved=False)
    client = web_client(sending_rep)
    detail = _text(client.get(f"/outbox/{OutboundMessage.objects.get().pk}/"))
    assert "Approve automation" not in detail

    response = client.post(f"/outbox/strategies/{strategy.pk}/approve/", follow=True)

    assert response.status_code == 200
    assert "Only a manager or an admin may approve automation." in _text(response)
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL
    stopped = client.post(f"/outbox/strategies/{strategy.pk}/stop/", follow=True)
    assert "Only a manager or an admin may stop automation." in _text(stopped)


def test_approving_an_unknown_or_invisible_strategy_is_a_404(
    sending_rep, manager, other_manager, web_client
):
    strategy = _queued(sending_rep, approved=False)
    strategy.is_template = False
    strategy.save()
    missing = "/outbox/strategies/00000000-0000-0000-0000-000000000000/approve/"

    assert web_client(manager).post(missing).status_code == 404
    assert (
        web_client(other_manager).post(f"/outbox/strategies/{strategy.pk}/approve/").status_code
        == 404
    )


def test_another_teams_manager_does_not_see_our_waiting_strategy(
    sending_rep, other_manager, web_client
):
    _queued(sending_rep, approved=False, name="Spring outreach")

    page = _text(web_client(other_manager).get("/outbox/"))

    assert "Strategies awaiting approval" in page
    assert "Spring outreach" not in page


def test_another_teams_manager_may_not_approve_or_stop_our_template_from_the_outbox(
    sending_rep, manager, other_manager, admin_user, web_client
):
    """The outbox's approval routes refuse another team's manager as they refuse a rep: back to
    the page with the reason, nothing changed. The strategy's team manager and admins may."""
    strategy = _queued(sending_rep, approved=False)
    approve = f"/outbox/strategies/{strategy.pk}/approve/"
    stop = f"/outbox/strategies/{strategy.pk}/stop/"
    client = web_client(other_manager)

    refused = client.post(approve, follow=True)

    assert refused.status_code == 200
    assert "Only a manager of the team this strategy belongs to" in _text(refused)
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL

    assert web_client(manager).post(approve).status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED

    stopped = client.post(stop, follow=True)

    assert "Only a manager of the team this strategy belongs to" in _text(stopped)
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED

    assert web_client(admin_user).post(stop).status_code == 302
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL


def test_a_template_of_another_team_is_not_offered_for_approval(
    sending_rep, manager, outsider, other_manager, web_client
):
    """Another team's manager whose reps follow our template sees their waiting emails, but
    neither the queue nor the message page offers to approve a strategy that is not theirs."""
    strategy = _queued(sending_rep, approved=False, name="Spring outreach")
    outsider.signature = "Megan"
    outsider.save()
    Sender.objects.create(
        user=outsider, ramp_started_on=datetime.date(2020, 1, 1), postal_address="2 South St"
    )
    enroll(strategy, outsider, contacts_of(outsider, 1, domain="south.example"))
    outbox_queue_due(now=timezone.now())
    theirs = OutboundMessage.objects.get(user=outsider)
    assert theirs.status == OutboundStatus.AWAITING_APPROVAL
    approve = f'action="/outbox/strategies/{strategy.pk}/approve/"'

    page = _text(web_client(other_manager).get("/outbox/"))
    assert "Strategies awaiting approval" in page
    assert approve not in page
    assert approve not in _text(web_client(other_manager).get(f"/outbox/{theirs.pk}/"))

    assert approve in _text(web_client(manager).get("/outbox/"))


def test_the_message_page_offers_approval_to_a_manager(sending_rep, manager, web_client):
    strategy = _queued(sending_rep, approved=False)
    row = OutboundMessage.objects.get()

    page = _text(web_client(manager).get(f"/outbox/{row.pk}/"))

    assert f'action="/outbox/strategies/{strategy.pk}/approve/"' in page
    assert "(automation not approved)" in page


# -- Captured mail --------------------------------------------------------------------------------


def test_captured_mail_is_listed_and_read_by_its_sender(
    sending_rep, outsider, web_client, settings, tmp_path
):
    settings.EMAIL_BACKEND = "cadence.messaging.backends.CaptureBackend"
    settings.CADENCE_MAIL_CAPTURE_DIR = tmp_path
    _queued(sending_rep)
    outbox_send_due()
    [name] = [path.stem for path in tmp_path.glob("*.eml")]
    client = web_client(sending_rep)

    listed = client.get("/outbox/mail/")
    assert listed.status_code == 200
    assert "Quick question, Person0" in _text(listed)
    assert "person0@client.example" in _text(listed)
    assert f'href="/outbox/mail/{name}/"' in _text(listed)

    detail = client.get(f"/outbox/mail/{name}/")
    assert detail.status_code == 200
    assert "List-Unsubscribe" in _text(detail)
    assert "1 Main St, Springfield" in _text(detail)
    assert '<pre class="email">' in _text(detail)

    assert "Quick question" not in _text(web_client(outsider).get("/outbox/mail/"))
    assert web_client(outsider).get(f"/outbox/mail/{name}/").status_code == 404
    assert client.get("/outbox/mail/nope/").status_code == 404
    assert client.get("/outbox/mail/..%2Fsecret_key/").status_code == 404


def test_captured_mail_is_empty_without_a_capture_directory(rep, web_client, settings, tmp_path):
    settings.CADENCE_MAIL_CAPTURE_DIR = tmp_path / "missing"

    response = web_client(rep).get("/outbox/mail/")

    assert response.status_code == 200
    assert "No captured mail." in _text(response)


# -- Suppressions ---------------------------------------------------------------------------------


def _suppressed(email, reason=SuppressionReason.MANUAL, **fields):
    return Suppression.objects.create(email=email, reason=reason, **fields)


def test_the_suppression_list_searches_by_email(rep, manager, web_client):
    _suppressed("ann@client.example", note="Asked on the phone", created_by=manager)
    _suppressed("bob@other.example", reason=SuppressionReason.BOUNCED)
    client = web_client(rep)

    everything = client.get("/suppressions/")
    assert everything.status_code == 200
    assert "ann@client.example" in _text(everything)
    assert "Asked on the phone" in _text(everything)
    assert str(manager) in _text(everything)
    assert "bob@other.example" in _text(everything)
    assert "Remove" not in _text(everything)  # reps lift nothing
    _audit(everything)

    found = client.get("/suppressions/", {"q": "ANN@"})
    assert "ann@client.example" in _text(found)
    assert "bob@other.example" not in _text(found)

    bounced = client.get("/suppressions/", {"reason": "bounced", "q": ""}, **HTMX)
    assert "<html" not in _text(bounced)
    assert "bob@other.example" in _text(bounced)
    assert "ann@client.example" not in _text(bounced)

    assert client.get("/suppressions/", {"reason": "nonsense"}).status_code == 200


def test_anyone_adds_an_address_and_waiting_messages_are_suppressed(sending_rep, web_client):
    _queued(sending_rep)

    response = web_client(sending_rep).post(
        "/suppressions/", {"email": "person0@client.example", "note": "Asked by phone"}, follow=True
    )

    assert response.status_code == 200
    assert "person0@client.example will not be emailed again." in _text(response)
    entry = Suppression.objects.get()
    assert entry.reason == SuppressionReason.MANUAL
    assert entry.created_by == sending_rep
    assert entry.note == "Asked by phone"
    assert OutboundMessage.objects.get().status == OutboundStatus.SUPPRESSED


def test_a_bad_address_is_shown_next_to_the_field(rep, web_client):
    response = web_client(rep).post("/suppressions/", {"email": "not an address", "note": "x"})

    assert response.status_code == 400
    page = _text(response)
    match = re.search(r'<div id="email-errors">(.*?)</div>', page, re.S)
    assert match and "Enter a valid email address." in match.group(1)
    assert 'aria-invalid="true"' in page
    assert 'value="not an address"' in page
    assert Suppression.objects.count() == 0
    _audit(response)


def test_a_manager_removes_a_manual_entry_over_htmx(manager, web_client):
    entry = _suppressed("ann@client.example")
    client = web_client(manager)
    assert "Remove ann@client.example" in _text(client.get("/suppressions/"))

    response = client.post(f"/suppressions/{entry.pk}/remove/", **HTMX)

    assert response.status_code == 200
    assert f'<tr id="suppression-{entry.pk}">' in _text(response)
    assert "ann@client.example may be emailed again." in _text(response)
    assert not Suppression.objects.exists()


def test_only_an_admin_lifts_an_unsubscribe(manager, admin_user, web_client):
    entry = _suppressed("ann@client.example", reason=SuppressionReason.UNSUBSCRIBED)
    client = web_client(manager)
    assert "Remove ann@client.example" not in _text(client.get("/suppressions/"))

    refused = client.post(f"/suppressions/{entry.pk}/remove/", follow=True)
    assert refused.status_code == 200
    assert "only an admin may lift it" in _text(refused)
    over_htmx = client.post(f"/suppressions/{entry.pk}/remove/", **HTMX)
    assert over_htmx.status_code == 200
    assert 'role="alert"' in _text(over_htmx)
    assert Suppression.objects.exists()

    admin = web_client(admin_user)
    assert "Remove ann@client.example" in _text(admin.get("/suppressions/"))
    done = admin.post(f"/suppressions/{entry.pk}/remove/", {"next": "/suppressions/?q=ann"})
    assert done.status_code == 302
    assert done["Location"] == "/suppressions/?q=ann"
    assert not Suppression.objects.exists()


def test_another_teams_manager_may_not_remove_our_entry(rep, manager, other_manager, web_client):
    entry = _suppressed("ann@client.example", created_by=rep)
    client = web_client(other_manager)
    assert "Remove ann@client.example" not in _text(client.get("/suppressions/"))

    refused = client.post(f"/suppressions/{entry.pk}/remove/", follow=True)

    assert "only its manager or an admin may lift it" in _text(refused)
    assert Suppression.objects.exists()
    assert "Remove ann@client.example" in _text(web_client(manager).get("/suppressions/"))
    assert web_client(manager).post(f"/suppressions/{entry.pk}/remove/").status_code == 302
    assert not Suppression.objects.exists()


def test_a_rep_cannot_remove_an_entry(rep, web_client):
    entry = _suppressed("ann@client.example")

    response = web_client(rep).post(f"/suppressions/{entry.pk}/remove/", follow=True)

    assert response.status_code == 200
    assert "Only a manager or an admin may lift a suppression." in _text(response)
    assert Suppression.objects.exists()
    missing = "/suppressions/00000000-0000-0000-0000-000000000000/remove/"
    assert web_client(rep).post(missing).status_code == 404


# -- Inbound mail ---------------------------------------------------------------------------------


@pytest.fixture
def inbound_mail(sending_rep, outsider):
    """A reply to the rep's email, a bounce of it, and a reply about the outsider's plan."""
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    reply = InboundMessage.objects.create(
        source="raw",
        kind=InboundKind.REPLY,
        status=InboundStatus.APPLIED,
        from_address="person0@client.example",
        subject="Re: Quick question",
        note="Logged as a reply; the plan ended.",
        outbound_message=row,
        contact=row.contact,
        plan=row.plan,
    )
    bounce = InboundMessage.objects.create(
        source="raw",
        kind=InboundKind.BOUNCE,
        status=InboundStatus.DUPLICATE,
        from_address="mailer-daemon@client.example",
        subject="Undelivered mail",
        outbound_message=row,
        plan=row.plan,
    )
    _queued(outsider, domain="elsewhere.example")
    theirs = OutboundMessage.objects.exclude(pk=row.pk).get()
    InboundMessage.objects.create(
        source="raw",
        kind=InboundKind.REPLY,
        status=InboundStatus.APPLIED,
        from_address="person0@elsewhere.example",
        subject="Re: their question",
        outbound_message=theirs,
        plan=theirs.plan,
    )
    return reply, bounce


def test_inbound_mail_lists_the_viewers_mail_with_links(sending_rep, inbound_mail, web_client):
    reply, _ = inbound_mail

    response = web_client(sending_rep).get("/outbox/inbound/")

    assert response.status_code == 200
    page = _text(response)
    assert "Re: Quick question" in page
    assert "Logged as a reply; the plan ended." in page
    assert "Undelivered mail" in page
    assert "Re: their question" not in page
    assert f'href="/contacts/{reply.contact_id}/"' in page
    assert f'href="/plans/{reply.plan_id}/"' in page
    _audit(response)


def test_inbound_mail_filters_by_kind_and_status(sending_rep, inbound_mail, web_client):
    client = web_client(sending_rep)

    bounces = _text(client.get("/outbox/inbound/", {"kind": "bounce"}))
    assert "Undelivered mail" in bounces
    assert "Re: Quick question" not in bounces

    applied = client.get("/outbox/inbound/", {"status": "applied", "kind": ""}, **HTMX)
    assert "<html" not in _text(applied)
    assert "Re: Quick question" in _text(applied)
    assert "Undelivered mail" not in _text(applied)

    nothing = client.get("/outbox/inbound/", {"kind": "complaint"})
    assert "No inbound mail matches." in _text(nothing)
    assert client.get("/outbox/inbound/", {"kind": "nonsense"}).status_code == 200


def test_unmatched_mail_is_only_for_admins(sending_rep, admin_user, web_client):
    InboundMessage.objects.create(
        source="raw",
        kind=InboundKind.REPLY,
        status=InboundStatus.UNMATCHED,
        from_address="stranger@nowhere.example",
        subject="Who is this?",
    )

    assert "Who is this?" not in _text(web_client(sending_rep).get("/outbox/inbound/"))
    admin_page = _text(web_client(admin_user).get("/outbox/inbound/"))
    assert "Who is this?" in admin_page
    assert "not matched" in admin_page


def test_an_admin_sees_every_teams_messages(sending_rep, admin_user, web_client):
    seller = sender_user()
    _queued(seller, domain="seller.example")
    _queued(sending_rep)

    page = _text(web_client(admin_user).get("/outbox/"))

    assert "person0@seller.example" in page
    assert "person0@client.example" in page
