"""The messaging selectors on the database: the outbox, senders and inbound mail by scope, and
the suppression list (everyone's to check; notes and lifting by team)."""

import datetime

import pytest
from django.utils import timezone

from cadence.accounts.choices import Role
from cadence.accounts.tests.factories import UserFactory
from cadence.messaging.choices import InboundKind, InboundStatus, SuppressionReason
from cadence.messaging.models import InboundMessage, OutboundMessage, Sender
from cadence.messaging.outbox import outbox_queue_due
from cadence.messaging.selectors import (
    inbound_list,
    outbox_list,
    sender_list,
    suppressed_among,
    suppression_can_lift,
    suppression_find,
    suppression_list,
)
from cadence.messaging.services import suppression_add
from cadence.messaging.tests.support import automated_strategy, contacts_of, enroll

pytestmark = pytest.mark.django_db


def ids(rows):
    return {row.pk for row in rows}


@pytest.fixture
def people(rep, teammate, manager, outsider, other_manager, admin_user):
    return {u.username: u for u in (rep, teammate, manager, outsider, other_manager, admin_user)}


@pytest.fixture
def outbox(people):
    """Each user's automated emails (the rep's two), queued the way the scheduler queues them:
    ``{username: [(plan, outbox row), ...]}``."""
    plans = {}
    for name in ("rep", "teammate", "manager", "outsider", "admin"):
        user = people[name]
        strategy = automated_strategy(created_by=user)
        count = 2 if name == "rep" else 1
        plans[name] = enroll(strategy, user, contacts_of(user, count, domain=f"{name}.example"))
    assert outbox_queue_due(now=timezone.now()) == 6
    return {
        name: [(plan, OutboundMessage.objects.get(plan=plan)) for plan in user_plans]
        for name, user_plans in plans.items()
    }


def rows_of(outbox, *names):
    return {row.pk for name in names for _, row in outbox[name]}


def test_the_outbox_is_scoped_by_role(outbox, people):
    expected = {
        "rep": rows_of(outbox, "rep"),
        "teammate": rows_of(outbox, "teammate"),
        "manager": rows_of(outbox, "rep", "teammate", "manager"),
        "outsider": rows_of(outbox, "outsider"),
        "other_manager": rows_of(outbox, "outsider"),
        "admin": rows_of(outbox, *outbox),
    }
    assert {name: ids(outbox_list(viewer=user)) for name, user in people.items()} == expected


def test_senders_are_scoped_by_role(people):
    senders = {
        name: Sender.objects.create(user=user, ramp_started_on=datetime.date(2020, 1, 1)).pk
        for name, user in people.items()
        if name != "other_manager"
    }
    assert ids(sender_list(viewer=people["rep"])) == {senders["rep"]}
    assert ids(sender_list(viewer=people["manager"])) == {
        senders["rep"],
        senders["teammate"],
        senders["manager"],
    }
    assert ids(sender_list(viewer=people["other_manager"])) == {senders["outsider"]}
    assert ids(sender_list(viewer=people["admin"])) == set(senders.values())


def inbound(subject, *, row=None, plan=None, status=InboundStatus.APPLIED):
    return InboundMessage.objects.create(
        source="raw",
        kind=InboundKind.REPLY,
        status=status,
        subject=subject,
        outbound_message=row,
        plan=plan,
    ).pk


def test_inbound_mail_is_scoped_by_plan_or_email_and_unmatched_is_for_admins(outbox, people):
    (rep_plan, rep_row), _ = outbox["rep"]
    mate_plan, _ = outbox["teammate"][0]
    outsider_plan, outsider_row = outbox["outsider"][0]
    reply = inbound("Re: both", row=rep_row, plan=rep_plan)
    bounce = inbound("Bounce, plan gone", row=rep_row)
    mate = inbound("About the plan only", plan=mate_plan)
    theirs = inbound("Theirs", row=outsider_row, plan=outsider_plan)
    unmatched = inbound("Who?", status=InboundStatus.UNMATCHED)

    listed = {name: list(inbound_list(viewer=user)) for name, user in people.items()}

    assert {name: ids(rows) for name, rows in listed.items()} == {
        "rep": {reply, bounce},
        "teammate": {mate},
        "manager": {reply, bounce, mate},
        "outsider": {theirs},
        "other_manager": {theirs},
        "admin": {reply, bounce, mate, theirs, unmatched},
    }
    assert all(len(rows) == len(ids(rows)) for rows in listed.values())


@pytest.fixture
def loner(db):
    return UserFactory(username="loner", role=Role.REP, team=None)


def test_everyone_sees_every_entry_and_notes_by_the_authors_team(people, loner):
    entries = {
        "rep": suppression_add(email="a@x.example", actor=people["rep"], note="n"),
        "outsider": suppression_add(email="b@x.example", actor=people["outsider"], note="n"),
        "loner": suppression_add(email="c@x.example", actor=loner, note="n"),
        "admin": suppression_add(email="d@x.example", actor=people["admin"], note="n"),
        "cadence": suppression_add(email="e@x.example", reason=SuppressionReason.BOUNCED),
    }
    readable = {
        "rep": {"rep", "cadence"},
        "teammate": {"rep", "cadence"},
        "manager": {"rep", "cadence"},
        "outsider": {"outsider", "cadence"},
        "other_manager": {"outsider", "cadence"},
        "loner": {"loner", "cadence"},
        "admin": set(entries),
    }
    by_pk = {entry.pk: key for key, entry in entries.items()}
    for viewer in (*people.values(), loner):
        listed = {by_pk[e.pk]: e.note_visible for e in suppression_list(viewer=viewer)}
        assert set(listed) == set(entries), viewer
        assert {key for key, visible in listed.items() if visible} == readable[viewer.username]


def test_find_and_among_compare_addresses_case_insensitively():
    ann = suppression_add(email="Ann@Client.Example")
    suppression_add(email="carl@y.example")

    assert suppression_find("ann@client.example").pk == ann.pk
    assert suppression_find("  ANN@CLIENT.EXAMPLE ").pk == ann.pk
    assert suppression_find("nn@client.example") is None
    assert suppression_find("ann@client.example.org") is None
    among = ["ANN@client.example", "bob@y.example", " Carl@Y.example ", "carl@y.example"]
    assert suppressed_among(among) == {"ann@client.example", "carl@y.example"}
    assert suppressed_among(["bob@y.example"]) == suppressed_among([]) == set()


def test_who_may_lift_which_entry(people, outbox):
    mate, outsider = people["teammate"], people["outsider"]
    rep_contact = outbox["rep"][0][0].contact
    outsider_contact = outbox["outsider"][0][0].contact
    lone_manager = UserFactory(username="lone_manager", role=Role.MANAGER, team=None)
    bounce, unsub = SuppressionReason.BOUNCED, SuppressionReason.UNSUBSCRIBED
    entries = {
        "by_rep": suppression_add(email="1@x.example", actor=people["rep"]),
        "by_mate": suppression_add(email="2@x.example", actor=mate),
        "by_outsider": suppression_add(email="3@x.example", actor=outsider),
        "mate_on_theirs": suppression_add(
            email="4@x.example", actor=mate, contact=outsider_contact
        ),
        "bounce_ours": suppression_add(email="5@x.example", reason=bounce, contact=rep_contact),
        "bounce_theirs": suppression_add(
            email="6@x.example", reason=bounce, contact=outsider_contact
        ),
        "nobodys": suppression_add(email="7@x.example", reason=bounce),
        "unsubscribed": suppression_add(email="8@x.example", reason=unsub, contact=rep_contact),
        "complained": suppression_add(
            email="9@x.example", reason=SuppressionReason.COMPLAINED, actor=mate
        ),
        "by_lone": suppression_add(email="10@x.example", actor=lone_manager),
    }
    ours = {"by_rep", "by_mate", "mate_on_theirs", "bounce_ours", "nobodys"}
    expected = {
        "rep": set(),
        "teammate": set(),
        "outsider": set(),
        "manager": ours,
        "other_manager": {"by_outsider", "bounce_theirs", "nobodys"},
        "lone_manager": {"nobodys", "by_lone"},
        "admin": set(entries),
    }
    for viewer in (*people.values(), lone_manager):
        liftable = {k for k, e in entries.items() if suppression_can_lift(viewer, e)}
        assert liftable == expected[viewer.username], viewer.username
