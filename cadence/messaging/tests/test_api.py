"""The messaging API: approval, the outbox and its actions, suppressions, senders, raw inbound
mail and captured mail, with who may do what."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from cadence.messaging.choices import OutboundStatus, SuppressionReason
from cadence.messaging.models import OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import outbox_queue_due, outbox_send_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll
from cadence.strategies.models import ContactStrategy

pytestmark = pytest.mark.django_db


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


def _queued(user, *, approved=True, count=1):
    strategy = automated_strategy(approved=approved, created_by=user)
    enroll(strategy, user, contacts_of(user, count))
    outbox_queue_due(now=timezone.now())
    return strategy


def _url(row, action=""):
    return f"/api/v1/outbox/{row.pk}/" + (f"{action}/" if action else "")


def test_only_managers_and_admins_approve_automation(sending_rep, manager, admin_user, client_for):
    strategy = _queued(sending_rep, approved=False)
    url = f"/api/v1/strategies/{strategy.pk}/approve-automation/"

    refused = client_for(sending_rep).post(url)
    assert refused.status_code == 403
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL

    approved = client_for(manager).post(url)
    assert approved.status_code == 200
    assert approved.json()["automation_approved_at"] is not None
    assert approved.json()["automation_approved_by_user_id"] == str(manager.pk)
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED

    revoked = client_for(admin_user).post(f"/api/v1/strategies/{strategy.pk}/revoke-automation/")
    assert revoked.status_code == 200
    assert revoked.json()["automation_approved_at"] is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL


def test_approving_an_unknown_strategy_is_a_404(manager, client_for):
    url = "/api/v1/strategies/00000000-0000-0000-0000-000000000000/approve-automation/"
    assert client_for(manager).post(url).status_code == 404


def _automation_url(strategy, action="approve"):
    return f"/api/v1/strategies/{strategy.pk}/{action}-automation/"


def test_another_teams_manager_may_not_approve_or_stop_a_shared_template(
    sending_rep, manager, other_manager, admin_user, client_for
):
    """Every user sees every template, but only the managers of its team (its creator's) and
    admins switch its automation: another team's manager gets a 403 and changes nothing."""
    strategy = _queued(sending_rep, approved=False)
    outsider_client = client_for(other_manager)

    refused = outsider_client.post(_automation_url(strategy))

    assert refused.status_code == 403
    assert "team this strategy belongs to" in refused.json()["detail"]
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL

    approved = client_for(manager).post(_automation_url(strategy))
    assert approved.status_code == 200
    assert approved.json()["automation_approved_by_user_id"] == str(manager.pk)
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED

    assert outsider_client.post(_automation_url(strategy, "revoke")).status_code == 403
    strategy.refresh_from_db()
    assert strategy.automation_approved_by == manager
    assert OutboundMessage.objects.get().status == OutboundStatus.QUEUED

    revoked = client_for(admin_user).post(_automation_url(strategy, "revoke"))
    assert revoked.status_code == 200
    assert revoked.json()["automation_approved_at"] is None
    assert OutboundMessage.objects.get().status == OutboundStatus.AWAITING_APPROVAL

    # A custom strategy of another team is not even visible: a 404, as for any such object.
    ContactStrategy.objects.filter(pk=strategy.pk).update(is_template=False)
    assert outsider_client.post(_automation_url(strategy)).status_code == 404


def test_a_strategy_whose_creator_is_gone_is_approved_by_admins_only(
    sending_rep, manager, admin_user, client_for
):
    strategy = _queued(sending_rep, approved=False)
    ContactStrategy.objects.filter(pk=strategy.pk).update(created_by=None)

    assert client_for(manager).post(_automation_url(strategy)).status_code == 403
    assert client_for(admin_user).post(_automation_url(strategy)).status_code == 200


def test_reps_cannot_approve_by_editing_the_strategy(sending_rep, client_for):
    strategy = _queued(sending_rep, approved=False)

    response = client_for(sending_rep).patch(
        f"/api/v1/strategies/{strategy.pk}/",
        {"automation_requires_approval": False, "automation_approved_at": "2026-01-01T00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    strategy.refresh_from_db()
    assert strategy.automation_approved_at is None


def test_a_rep_sends_an_unapproved_message_now(sending_rep, client_for):
    _queued(sending_rep, approved=False)
    row = OutboundMessage.objects.get()

    response = client_for(sending_rep).post(_url(row, "send-now"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OutboundStatus.SENT
    [sent] = mail.outbox
    assert sent.to == ["person0@client.example"]
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_send_now_of_a_sent_message_is_refused(sending_rep, client_for):
    _queued(sending_rep)
    outbox_send_due()
    row = OutboundMessage.objects.get()

    response = client_for(sending_rep).post(_url(row, "send-now"))

    assert response.status_code == 400
    assert "only a queued or unapproved one" in response.json()["status"][0]
    assert len(mail.outbox) == 1


def test_cancel_keeps_the_step_for_the_rep(sending_rep, client_for):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()

    response = client_for(sending_rep).post(_url(row, "cancel"))

    assert response.status_code == 200
    assert response.json()["status"] == OutboundStatus.CANCELLED
    outbox_send_due()
    assert mail.outbox == []
    assert client_for(sending_rep).post(_url(row, "cancel")).status_code == 400


def _uncertain(row):
    then = timezone.now() - datetime.timedelta(hours=1)
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboundStatus.UNCERTAIN,
        handoff_at=then,
        message_id="<abc@seller.example>",
        subject="Quick question",
        body="Hi",
    )


def test_confirming_an_uncertain_message_records_it_as_sent(sending_rep, client_for):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    _uncertain(row)

    response = client_for(sending_rep).post(_url(row, "confirm"), {"sent": True}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == OutboundStatus.SENT
    assert body["activity_id"] is not None
    row.plan.refresh_from_db()
    assert row.plan.current_step.step_number == 2
    assert mail.outbox == []


def test_denying_an_uncertain_message_sends_it_again(sending_rep, client_for):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    _uncertain(row)

    response = client_for(sending_rep).post(_url(row, "confirm"), {"sent": False}, format="json")
    outbox_send_due()

    assert response.status_code == 200
    assert OutboundMessage.objects.get().status == OutboundStatus.SENT
    assert len(mail.outbox) == 1


def test_confirm_needs_an_answer_and_an_uncertain_message(sending_rep, client_for):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    client = client_for(sending_rep)

    assert client.post(_url(row, "confirm"), {}, format="json").status_code == 400
    refused = client.post(_url(row, "confirm"), {"sent": True}, format="json")
    assert refused.status_code == 400
    assert "uncertain" in refused.json()["status"][0]


def test_a_failed_message_is_retried_after_the_fix(sending_rep, client_for):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.QUEUED
    row.contact.first_name = ""
    row.contact.save()
    outbox_send_due()
    row.refresh_from_db()
    assert row.status == OutboundStatus.FAILED
    row.contact.first_name = "Ada"
    row.contact.save()

    response = client_for(sending_rep).post(_url(row, "retry"))
    outbox_send_due()

    assert response.status_code == 200
    assert OutboundMessage.objects.get().status == OutboundStatus.SENT
    assert mail.outbox[0].subject == "Quick question, Ada"


def test_the_outbox_is_listed_by_scope_and_filtered_by_status(
    sending_rep, teammate, manager, outsider, admin_user, client_for
):
    _queued(sending_rep, count=2)
    _queued(sending_rep, approved=False)

    def ids(user, query=""):
        response = client_for(user).get(f"/api/v1/outbox/{query}")
        assert response.status_code == 200
        return len(response.json()["results"])

    assert ids(sending_rep) == 3
    assert ids(sending_rep, "?status=awaiting_approval") == 1
    assert ids(sending_rep, "?status=queued&status=awaiting_approval") == 3
    assert ids(manager) == 3
    assert ids(admin_user) == 3
    assert ids(teammate) == 0
    assert ids(outsider) == 0
    assert client_for(sending_rep).get("/api/v1/outbox/?status=nonsense").status_code == 400


def test_another_teams_message_is_a_404_and_a_teammate_may_not_act(
    sending_rep, teammate, outsider, client_for
):
    _queued(sending_rep)
    row = OutboundMessage.objects.get()

    assert client_for(outsider).get(_url(row)).status_code == 404
    assert client_for(outsider).post(_url(row, "send-now")).status_code == 404
    assert client_for(teammate).post(_url(row, "cancel")).status_code == 404
    assert client_for(sending_rep).get(_url(row)).json()["to_email"] == "person0@client.example"


def test_anonymous_requests_are_refused(api_client):
    for url in ("/api/v1/outbox/", "/api/v1/suppressions/", "/api/v1/senders/me/"):
        assert api_client.get(url).status_code == 401
    assert api_client.post("/api/v1/inbound/raw/", {"raw": "x"}).status_code == 401


def test_suppressions_are_added_by_anyone_and_lifted_by_managers(
    sending_rep, manager, admin_user, client_for
):
    _queued(sending_rep)
    added = client_for(sending_rep).post(
        "/api/v1/suppressions/", {"email": "Person0@Client.example", "note": "asked by phone"}
    )
    again = client_for(sending_rep).post(
        "/api/v1/suppressions/", {"email": "person0@client.example"}
    )

    assert added.status_code == 201
    assert again.status_code == 201
    assert again.json()["suppression_id"] == added.json()["suppression_id"]
    assert Suppression.objects.count() == 1
    assert OutboundMessage.objects.get().status == OutboundStatus.SUPPRESSED
    listed = client_for(sending_rep).get("/api/v1/suppressions/?email=person0@client.example")
    assert [s["email"] for s in listed.json()["results"]] == ["Person0@Client.example"]

    url = f"/api/v1/suppressions/{added.json()['suppression_id']}/"
    assert client_for(sending_rep).delete(url).status_code == 403
    assert client_for(manager).delete(url).status_code == 204
    assert not Suppression.objects.exists()


def test_another_teams_manager_may_not_lift_our_suppressions(
    sending_rep, manager, other_manager, admin_user, client_for
):
    """The list is the organisation's, but an entry a team added by hand, or a bounce of one of
    its contacts, is that team's to lift (or an admin's): another manager gets a 403."""
    contact = contacts_of(sending_rep, 1)[0]
    added = client_for(sending_rep).post("/api/v1/suppressions/", {"email": "ann@client.example"})
    by_hand = f"/api/v1/suppressions/{added.json()['suppression_id']}/"
    bounce = Suppression.objects.create(
        email=contact.email, reason=SuppressionReason.BOUNCED, contact=contact
    )
    bounced = f"/api/v1/suppressions/{bounce.pk}/"

    assert client_for(other_manager).delete(by_hand).status_code == 403
    assert client_for(other_manager).delete(bounced).status_code == 403
    assert Suppression.objects.count() == 2

    assert client_for(manager).delete(by_hand).status_code == 204
    assert client_for(admin_user).delete(bounced).status_code == 204
    assert not Suppression.objects.exists()


def test_an_unsubscribe_is_lifted_by_an_admin_only(manager, admin_user, client_for):
    entry = Suppression.objects.create(
        email="gone@example.com", reason=SuppressionReason.UNSUBSCRIBED
    )
    url = f"/api/v1/suppressions/{entry.pk}/"

    assert client_for(manager).delete(url).status_code == 403
    assert client_for(admin_user).delete(url).status_code == 204


@pytest.mark.parametrize("email", ["", "not-an-address", "x" * 300 + "@example.com"])
def test_a_bad_suppression_address_is_a_400(rep, client_for, email):
    response = client_for(rep).post("/api/v1/suppressions/", {"email": email})
    assert response.status_code == 400
    assert "email" in response.json()


def test_senders_set_their_address_and_managers_their_limits(
    sending_rep, manager, outsider, client_for
):
    me = client_for(sending_rep).get("/api/v1/senders/me/").json()
    url = f"/api/v1/senders/{me['sender_id']}/"

    assert me["today_limit"] == 200
    own = client_for(sending_rep).patch(url, {"postal_address": "2 Elm St"}, format="json")
    assert own.status_code == 200
    assert own.json()["postal_address"] == "2 Elm St"
    assert (
        client_for(sending_rep).patch(url, {"daily_limit": 9999}, format="json").status_code == 403
    )
    limited = client_for(manager).patch(url, {"daily_limit": 50}, format="json")
    assert limited.status_code == 200
    assert limited.json()["today_limit"] == 50
    assert client_for(outsider).patch(url, {"daily_limit": 1}, format="json").status_code == 404
    bad = client_for(manager).patch(url, {"hourly_limit": -1}, format="json")
    assert bad.status_code == 400


def test_a_paused_sender_sends_nothing_until_resumed(sending_rep, client_for):
    _queued(sending_rep)
    sender = Sender.objects.get(user=sending_rep)
    Sender.objects.filter(pk=sender.pk).update(
        automation_paused_at=timezone.now(), automation_paused_reason="Too many bounces."
    )

    report = outbox_send_due()
    assert (report.sent, report.waiting) == (0, 1)
    assert "paused" in OutboundMessage.objects.get().error

    resumed = client_for(sending_rep).post(f"/api/v1/senders/{sender.pk}/resume/")
    assert resumed.status_code == 200
    assert resumed.json()["automation_paused_at"] is None
    row = OutboundMessage.objects.get()
    assert outbox_send_due(now=row.send_after).sent == 1


def test_captured_mail_is_listed_and_read_by_its_sender(
    sending_rep, outsider, client_for, settings, tmp_path
):
    settings.EMAIL_BACKEND = "cadence.messaging.backends.CaptureBackend"
    settings.CADENCE_MAIL_CAPTURE_DIR = tmp_path
    _queued(sending_rep)
    outbox_send_due()

    listed = client_for(sending_rep).get("/api/v1/captured-mail/")
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["to"] == ["person0@client.example"]
    assert entry["subject"] == "Quick question, Person0"
    detail = client_for(sending_rep).get(f"/api/v1/captured-mail/{entry['name']}/")
    assert detail.status_code == 200
    assert "List-Unsubscribe" in detail.json()["headers"]
    assert "1 Main St, Springfield" in detail.json()["body"]

    assert client_for(outsider).get("/api/v1/captured-mail/").json() == []
    assert client_for(outsider).get(f"/api/v1/captured-mail/{entry['name']}/").status_code == 404
    assert client_for(sending_rep).get("/api/v1/captured-mail/nope/").status_code == 404
    assert client_for(sending_rep).get("/api/v1/captured-mail/..%2Fsecret_key/").status_code == 404


def test_the_outbox_appears_in_the_schema(client_for, admin_user):
    schema = client_for(admin_user).get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/outbox/{outbound_message_id}/send-now/",
        "/api/v1/strategies/{id}/approve-automation/",
        "/api/v1/inbound/raw/",
        "/api/v1/suppressions/",
    ):
        assert path in schema["paths"], path


# -- Your own sending: /senders/me/ -----------------------------------------------------------

ME = "/api/v1/senders/me/"


def test_patching_senders_me_sets_the_footer_the_from_name_and_the_signature(
    sending_rep, client_for
):
    """PATCH /senders/me/ changes the user's own postal address, name and signature, and the
    next automated email carries them."""
    client = client_for(sending_rep)
    changes = {
        "postal_address": "2 Elm St, Shelbyville",
        "display_name": "Rita R.",
        "signature": "-- \nRita, Seller Inc.",
    }

    response = client.patch(ME, changes, format="json")

    assert response.status_code == 200, response.content
    assert {name: response.json()[name] for name in changes} == changes
    assert {name: client.get(ME).json()[name] for name in changes} == changes
    sending_rep.refresh_from_db()
    assert (sending_rep.display_name, sending_rep.signature) == (
        "Rita R.",
        "-- \nRita, Seller Inc.",
    )
    assert Sender.objects.get(user=sending_rep).postal_address == "2 Elm St, Shelbyville"

    _queued(sending_rep)
    assert outbox_send_due(now=OutboundMessage.objects.get().send_after).sent == 1
    assert mail.outbox[0].from_email == '"Rita R." <rep@seller.example>'
    assert "2 Elm St, Shelbyville" in mail.outbox[0].body


@pytest.mark.parametrize("role", ["rep", "manager", "admin_user"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("daily_limit", 9999),
        ("hourly_limit", 50),
        ("ramp_start", 100),
        ("ramp_step", 100),
        ("ramp_started_on", "2020-01-01"),
        ("automation_paused_at", None),
    ],
)
def test_senders_me_refuses_what_a_manager_controls_even_from_a_manager(
    request, client_for, role, field, value
):
    """Limits, the ramp and the automation pause are not the user's own to set, whatever their
    role: a 400 that says so, and nothing changes, not even the address sent along."""
    user = request.getfixturevalue(role)
    Sender.objects.create(user=user, ramp_started_on=datetime.date(2024, 1, 1), ramp_step=7)
    Sender.objects.filter(user=user).update(automation_paused_at=timezone.now())

    response = client_for(user).patch(ME, {field: value, "postal_address": "x"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    if field != "automation_paused_at":
        assert "manager or an admin" in response.json()[field][0]
    sender = Sender.objects.get(user=user)
    assert (sender.postal_address, sender.ramp_step, sender.daily_limit) == ("", 7, None)
    assert sender.ramp_started_on == datetime.date(2024, 1, 1)
    assert sender.automation_paused_at is not None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"postal_address": "x" * 1001}, "postal_address", "no more than 1000 characters"),
        ({"postal_address": ["1 Main St"]}, "postal_address", "Not a valid string"),
        ({"display_name": "Rita\nBcc: all@example.com"}, "display_name", "one line"),
        ({"display_name": "x" * 256}, "display_name", "no more than 255 characters"),
        ({"signature": "x" * 10_001}, "signature", "no more than 10000 characters"),
        ({"signature": None}, "signature", "may not be null"),
    ],
)
def test_senders_me_bad_values_are_400s_that_say_why(sending_rep, client_for, body, field, message):
    response = client_for(sending_rep).patch(ME, body, format="json")

    assert response.status_code == 400
    assert message in response.json()[field][0]
    sending_rep.refresh_from_db()
    assert (sending_rep.display_name, sending_rep.signature) == ("Rita Rep", "Rita")
    assert Sender.objects.get(user=sending_rep).postal_address == "1 Main St, Springfield"


def test_senders_me_takes_a_patch_without_a_sender_yet_and_no_put(rep, client_for):
    """A user who never sent has their sender made, ramp starting today, by their first PATCH;
    a PUT (which would have to name the fields that are not theirs) is not offered."""
    client = client_for(rep)

    response = client.patch(ME, {"postal_address": "3 Oak Rd"}, format="json")

    assert response.status_code == 200
    sender = Sender.objects.get(user=rep)
    assert sender.postal_address == "3 Oak Rd"
    assert response.json()["sender_id"] == str(sender.pk)
    assert client.put(ME, {"postal_address": "4 Oak Rd"}, format="json").status_code == 405
    assert client.patch(ME, ["not", "an", "object"], format="json").status_code == 400
