"""What the outbox leaves behind once an email's fate is known: a sent email recorded on its row,
as an Activity and as its plan's progress, together; an email that will not go told to its rep.

The Activity and the plan are the plans app's to write (``steps_log_done``), the rep's inbox the
notifications app's (``notification_create``); here is only what the outbox asks of them.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.utils import timezone

from cadence.activities.choices import ActivityType, Direction, Outcome
from cadence.activities.models import Activity
from cadence.core.services import rows_update
from cadence.messaging.choices import OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.notifications.services import notification_create
from cadence.plans import services as plan_services

#: The title of what a rep is told about an email that will not go.
NOT_SENT = "An automated email was not sent"


def tell_user(row: OutboundMessage, title: str, body: str) -> None:
    """Put a line about this email in its sender's inbox, linking to its outbox row."""
    notification_create(
        user_id=row.user_id,
        title=title,
        body=f"To {row.contact or row.company}: {body}",
        url=f"/api/v1/outbox/{row.pk}/",
    )


def _activity(row: OutboundMessage, at: datetime.datetime) -> Activity:
    """The Activity of a sent email (Email, Sent, with its Message-ID), not saved yet."""
    activity = Activity(
        company_id=row.company_id,
        contact_id=row.contact_id,
        user_id=row.user_id,
        activity_type=ActivityType.EMAIL,
        direction=Direction.OUTBOUND,
        outcome=Outcome.SENT,
        subject=row.subject[:255],
        description=row.body,
        occurred_at=at,
        plan_id=row.plan_id,
        step_id=row.step_id,
        message_id=row.message_id,
    )
    activity.user = row.user
    return activity


@transaction.atomic
def record_sent(
    sends: list[tuple[OutboundMessage, datetime.datetime, str]],
    *,
    statuses: tuple[str, ...],
    claimed: bool,
) -> list[OutboundMessage]:
    """Mark rows in ``statuses`` (and still holding their claim, if ``claimed``) as sent at the
    given times, with the provider's message IDs, log their Activities and advance their plans.
    Returns the rows recorded."""
    by_pk = {row.pk: (row, at, esp_id) for row, at, esp_id in sends}
    guard = OutboundMessage.objects.filter(pk__in=by_pk, status__in=statuses)
    if connection.vendor == "postgresql":
        guard = guard.select_for_update()
    current = dict(guard.values_list("pk", "claim_token"))
    rows = [
        row
        for row, _, _ in sends
        if row.pk in current and (not claimed or current[row.pk] == row.claim_token)
    ]
    activities = plan_services.steps_log_done(
        done=[
            plan_services.StepDone(
                plan_id=row.plan_id, step=row.step, activity=_activity(row, by_pk[row.pk][1])
            )
            for row in rows
        ]
    )
    now = timezone.now()
    for row, activity in zip(rows, activities, strict=True):
        _, at, esp_id = by_pk[row.pk]
        row.status = OutboundStatus.SENT
        row.sent_at = at
        row.esp_message_id = esp_id or row.esp_message_id
        row.activity = activity
        row.error = ""
        row.claim_token = None
        row.updated_at = now
    rows_update(
        model=OutboundMessage,
        objs=rows,
        fields=[
            "status",
            "sent_at",
            "esp_message_id",
            "activity",
            "error",
            "claim_token",
            "updated_at",
        ],
    )
    return rows
