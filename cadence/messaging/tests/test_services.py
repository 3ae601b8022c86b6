"""The messaging services called directly (the API flows are in ``test_api``): automation approval,
the statuses each outbox action takes, suppressions, unsubscribing, senders' settings."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from cadence.core.errors import CadenceError, PermissionDeniedError
from cadence.crm.models import Contact
from cadence.crm.tests.factories import ContactFactory
from cadence.messaging import services
from cadence.messaging.choices import OutboundStatus, SuppressionReason
from cadence.messaging.models import OutboundMessage, Sender, Suppression
from cadence.messaging.outbox import outbox_queue_due
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll, sender_user
from cadence.plans import services as plan_services
from cadence.plans.choices import ExitReason, PlanStatus

pytestmark = pytest.mark.django_db
S, WAITING = OutboundStatus, (OutboundStatus.QUEUED, OutboundStatus.AWAITING_APPROVAL)


@pytest.fixture
def seller(team):
    """A rep of Team North with a sender: their emails can go out."""
    return sender_user(username="seller", team=team)


def queued(user, *, approved=True, count=1, domain="client.example"):
    """A strategy of ``user`` and its outbox rows, one per contact, ordered by address."""
    strategy = automated_strategy(approved=approved, created_by=user)
    enroll(strategy, user, contacts_of(user, count, domain=domain))
    outbox_queue_due(now=timezone.now())
    return strategy, list(OutboundMessage.objects.filter(strategy=strategy).order_by("to_email"))


def statuses(rows):
    return [OutboundMessage.objects.get(pk=row.pk).status for row in rows]


def set_status(row, status, **fields):
    OutboundMessage.objects.filter(pk=row.pk).update(status=status, **fields)
    row.refresh_from_db()


def attempt(refusal, call, **kwargs):
    """``call(**kwargs)``; with a ``refusal``, a PermissionDeniedError saying it, on no field."""
    if refusal is None:
        return call(**kwargs)
    with pytest.raises(PermissionDeniedError, match=refusal) as refused:
        call(**kwargs)
    assert refused.value.field is None


# -- Approving and stopping automation -----------------------------------------------------------

REP, TEAM = "Only a manager or an admin may", "Only a manager of the team this strategy"
DECIDERS = {"manager": None, "admin_user": None, "seller": REP, "teammate": REP, "outsider": REP}


@pytest.mark.parametrize(("actor", "refusal"), [*DECIDERS.items(), ("other_manager", TEAM)])
def test_only_the_strategys_team_managers_and_admins_decide_automation(request, actor, refusal):
    """Approved and stopped by them; anyone else is refused both ways, and nothing changes."""
    user = request.getfixturevalue(actor)
    strategy, [row] = queued(request.getfixturevalue("seller"), approved=False)
    for approve, status in ((True, S.QUEUED), (False, S.AWAITING_APPROVAL)):
        decide = services.strategy_automation_decide
        attempt(refusal, decide, strategy=strategy, actor=user, approve=approve)
        strategy.refresh_from_db()
        assert strategy.automation_approved_by == (user if approve and not refusal else None)
        assert statuses([row]) == [S.AWAITING_APPROVAL if refusal else status]


def test_approving_queues_what_awaited_and_revoking_sends_back_all_but_send_now(seller, manager):
    """Approving queues rows awaiting it; revoking requeues all but send-now ones for approval."""
    strategy, rows = queued(seller, approved=False, count=4)
    _, [pending] = queued(seller, approved=False, domain="pending.example")
    _, [live] = queued(seller, domain="live.example")
    set_status(rows[0], S.AWAITING_APPROVAL, error="Awaits a manager's approval.")
    set_status(rows[3], S.CANCELLED)
    services.strategy_approve_automation(strategy=strategy, actor=manager)
    assert statuses([*rows, pending]) == [S.QUEUED] * 3 + [S.CANCELLED, S.AWAITING_APPROVAL]
    assert OutboundMessage.objects.get(pk=rows[0].pk).error == ""
    set_status(rows[1], S.QUEUED, send_now=True)
    set_status(rows[2], S.SENT)
    services.strategy_revoke_automation(strategy=strategy, actor=manager)
    assert statuses([*rows, live]) == [S.AWAITING_APPROVAL, S.QUEUED, S.SENT, S.CANCELLED, S.QUEUED]
    assert (strategy.automation_approved_at, strategy.automation_approved_by) == (None, None)


#: One message: the statuses each action takes, and the words of its refusal of any other.
ACTIONS = {
    "send_now": (WAITING, "only a queued or unapproved one can be sent now"),
    "cancel": (WAITING, "only a queued or unapproved one can be cancelled"),
    "retry": ((S.FAILED,), "Only a failed email can be tried again."),
    "confirm_sent": ((S.UNCERTAIN,), "Only an uncertain email can be confirmed."),
    "confirm_unsent": ((S.UNCERTAIN,), "Only an uncertain email can be confirmed."),
}


def act(action, row, actor):
    if action.startswith("confirm"):
        return services.outbox_confirm(message=row, actor=actor, sent=action == "confirm_sent")
    return getattr(services, f"outbox_{action}")(message=row, actor=actor)


@pytest.mark.parametrize(
    ("action", "status"),
    [(action, status) for action, (ok, _) in ACTIONS.items() for status in S if status not in ok],
)
def test_each_action_refuses_the_other_statuses_on_status(seller, action, status):
    """Any other status is a CadenceError on ``status`` saying which it takes; nothing moves."""
    _, [row] = queued(seller)
    set_status(row, status, error="as it was")
    with pytest.raises(CadenceError, match=ACTIONS[action][1]) as refused:
        act(action, row, seller)
    assert refused.value.field == "status"
    stored = OutboundMessage.objects.get(pk=row.pk)
    assert (stored.status, stored.error, stored.send_now) == (status, "as it was", False)
    assert mail.outbox == []


def test_the_senders_manager_may_act_on_a_message_but_not_a_teammate(seller, teammate, manager):
    """A teammate is refused; the manager cancels (saying so), sends now, and requeues a failed
    or unsent row at once, error and claim cleared (the unsent one to go now)."""
    moves = {"cancel": S.AWAITING_APPROVAL, "send_now": S.QUEUED}
    moves |= {"retry": S.FAILED, "confirm_unsent": S.UNCERTAIN}
    claim = {"claimed_at": timezone.now(), "handoff_at": timezone.now(), "error": "boom"}
    start, done = timezone.now(), {}
    for row, (action, status) in zip(queued(seller, count=4)[1], moves.items(), strict=True):
        set_status(row, status, **claim)
        attempt("Only the sender, their manager", act, action=action, row=row, actor=teammate)
        assert statuses([row]) == [status]
        done[action] = act(action, row, manager)
    cancel = done["cancel"]
    assert (cancel.status, cancel.error) == (S.CANCELLED, f"Cancelled by {manager}.")
    assert (done["send_now"].status, len(mail.outbox)) == (S.SENT, 1)
    for row, send_now in ((done["retry"], False), (done["confirm_unsent"], True)):
        assert (row.status, row.error, row.send_now) == (S.QUEUED, "", send_now)
        assert (row.claimed_at, row.handoff_at) == (None, None)
        assert start <= row.send_after <= timezone.now()


# -- Suppressions and unsubscribing --------------------------------------------------------------


def test_a_suppression_needs_an_address_and_keeps_its_first_entry(seller, manager):
    """No ``@``: a CadenceError on ``email``. Trimmed; added again in another case it returns the
    first entry. Waiting rows to it are suppressed, not a sent one nor other addresses'."""
    for email in ("", "   ", "nobody.example"):
        with pytest.raises(CadenceError, match="Give an email address") as refused:
            services.suppression_add(email=email)
        assert refused.value.field == "email"
    _, rows = queued(seller, count=4)
    set_status(rows[1], S.AWAITING_APPROVAL)
    set_status(rows[2], S.SENT, to_email=rows[0].to_email)
    first = services.suppression_add(email=f"  {rows[0].to_email.upper()} ", actor=seller)
    bounce = services.suppression_add(email=rows[1].to_email, reason=SuppressionReason.BOUNCED)
    assert first.email == rows[0].to_email.upper()
    assert services.suppression_add(email=rows[0].to_email, actor=manager).pk == first.pk
    assert (bounce.reason, Suppression.objects.count()) == (SuppressionReason.BOUNCED, 2)
    assert Suppression.objects.get(pk=first.pk).created_by == seller
    assert statuses(rows) == [S.SUPPRESSED, S.SUPPRESSED, S.SENT, S.QUEUED]
    assert "suppression list" in OutboundMessage.objects.get(pk=rows[0].pk).error


def test_the_recipients_unsubscribe_replaces_a_reason_of_ours(seller, manager):
    """An address suppressed by hand, then unsubscribed by its recipient, is theirs: a manager
    may no longer lift it. A later reason of ours does not undo it."""
    entry = services.suppression_add(email="lead@example.com", actor=seller)
    assert entry.reason == SuppressionReason.MANUAL
    again = services.suppression_add(
        email="Lead@example.com", reason=SuppressionReason.UNSUBSCRIBED
    )
    assert again.pk == entry.pk
    entry.refresh_from_db()
    assert entry.reason == SuppressionReason.UNSUBSCRIBED
    with pytest.raises(PermissionDeniedError, match="only an admin may lift it"):
        services.suppression_remove(suppression=entry, actor=manager)
    services.suppression_add(email="lead@example.com", reason=SuppressionReason.BOUNCED)
    entry.refresh_from_db()
    assert entry.reason == SuppressionReason.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("reason", "added_by", "actor", "refusal"),
    [
        (SuppressionReason.BOUNCED, None, "other_manager", None),
        (SuppressionReason.MANUAL, "outsider", "manager", "Another team put this address"),
        (SuppressionReason.COMPLAINED, None, "manager", "only an admin may lift it"),
        (SuppressionReason.UNSUBSCRIBED, "seller", "seller", "only an admin may lift it"),
        (SuppressionReason.COMPLAINED, "seller", "admin_user", None),
    ],
)
def test_who_may_lift_a_suppression(request, seller, reason, added_by, actor, refusal):
    """Nobody's entry is any manager's, a team's its managers'; a recipient's word admins' only."""
    by = request.getfixturevalue(added_by) if added_by else None
    entry = Suppression.objects.create(email="x@client.example", reason=reason, created_by=by)
    user = request.getfixturevalue(actor)
    attempt(refusal, services.suppression_remove, suppression=entry, actor=user)
    assert Suppression.objects.filter(pk=entry.pk).exists() == (refusal is not None)


def test_unsubscribing_ends_plans_suppresses_and_settles_and_is_safe_to_repeat(seller):
    """Opted out at ``at``, listed, active plans aborted as opted out, waiting rows (one to an
    old address too) suppressed; nothing else changes, nor does repeating it, even the time."""
    contact, bystander = contacts_of(seller, 2)
    strategies = [automated_strategy(approved=n != 1, created_by=seller) for n in range(4)]
    plans = [enroll(strategy, seller, [contact])[0] for strategy in strategies]
    plans += enroll(strategies[0], seller, [bystander])
    outbox_queue_due(now=timezone.now())
    plan_services.plan_pause(plan=plans[2])
    plan_services.plan_abort(plan=plans[3])
    rows = [OutboundMessage.objects.get(plan=plan) for plan in plans]
    set_status(rows[1], S.AWAITING_APPROVAL, to_email="earlier@client.example")
    set_status(rows[3], S.SENT)
    assert statuses(rows) == [S.QUEUED, S.AWAITING_APPROVAL, S.QUEUED, S.SENT, S.QUEUED]
    at = timezone.now() - datetime.timedelta(hours=2)
    for when in (at, at + datetime.timedelta(hours=1)):
        services.contact_unsubscribe(contact=contact, at=when)
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.opted_out, stored.opted_out_at) == (True, at)
    assert not Contact.objects.get(pk=bystander.pk).opted_out
    [entry] = Suppression.objects.filter(contact=contact, reason=SuppressionReason.UNSUBSCRIBED)
    assert entry.email == contact.email and Suppression.objects.count() == 1
    for plan in plans:
        plan.refresh_from_db()
    ended = [(PlanStatus.ABORTED, ExitReason.OPTED_OUT)] * 3 + [(PlanStatus.ABORTED, "manual")]
    assert [(p.status, p.exit_reason) for p in plans] == [*ended, (PlanStatus.NOT_STARTED, "")]
    assert statuses(rows) == [S.SUPPRESSED] * 3 + [S.SENT, S.QUEUED]
    assert OutboundMessage.objects.get(pk=rows[1].pk).error == "The contact opted out."


def test_a_contact_without_an_address_is_opted_out_without_a_list_entry():
    contact = ContactFactory(email="")
    services.contact_unsubscribe(contact=contact)
    assert Contact.objects.get(pk=contact.pk).opted_out and not Suppression.objects.exists()


# -- Senders -------------------------------------------------------------------------------------

LIMITS = {"daily_limit": 5, "hourly_limit": 2, "ramp_start": 1, "ramp_step": 1}
SENDER_FIELDS = (*LIMITS, "postal_address", "ramp_started_on")


@pytest.mark.parametrize(
    ("actor", "data", "refusal"),
    [
        ("seller", {"postal_address": "2 Elm St"}, None),
        ("seller", {"postal_address": "2 Elm St", "ramp_step": 1}, "change sending limits"),
        ("seller", {"ramp_started_on": datetime.date(2030, 1, 1)}, "change sending limits"),
        ("teammate", {"postal_address": "2 Elm St"}, "You may not change this sender"),
        ("other_manager", LIMITS, "You may not change this sender"),
        ("manager", {**LIMITS, "postal_address": "2 Elm St"}, None),
        ("admin_user", LIMITS, None),
    ],
)
def test_who_may_set_what_on_a_sender(request, seller, actor, data, refusal):
    """The sender sets the address, their manager or an admin limits too; a refusal saves none."""
    sender = Sender.objects.get(user=seller)
    before = {name: getattr(sender, name) for name in SENDER_FIELDS}
    user = request.getfixturevalue(actor)
    attempt(refusal, services.sender_update, sender=sender, actor=user, data=dict(data))
    stored = Sender.objects.get(pk=sender.pk)
    expected = {**before, **data} if refusal is None else before
    assert {name: getattr(stored, name) for name in before} == expected


def test_a_sender_update_sets_only_the_senders_settings(seller, admin_user):
    """The automation pause has its own services; ``sender_update`` refuses it, even from an
    admin, and saves nothing."""
    sender = Sender.objects.get(user=seller)
    with pytest.raises(CadenceError, match="automation_paused_at cannot be set here") as refused:
        services.sender_update(
            sender=sender,
            actor=admin_user,
            data={"daily_limit": 5, "automation_paused_at": timezone.now()},
        )
    assert refused.value.field == "automation_paused_at"
    stored = Sender.objects.get(pk=sender.pk)
    assert (stored.daily_limit, stored.automation_paused_at) == (sender.daily_limit, None)
