"""The email outcomes report: automated emails per strategy and step, by what became of
them (definitions: ``reports``)."""

from __future__ import annotations

from django.db.models import Case, F, UUIDField, Value, When
from django.db.models.functions import Coalesce

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.analytics import sql as rawsql
from cadence.analytics.common import (
    check_period,
    group_name,
    strategy_group,
    strategy_names,
)
from cadence.analytics.types import (
    EmailOutcome,
    ReportFilter,
)
from cadence.messaging.choices import InboundKind, OutboundStatus
from cadence.messaging.models import OutboundMessage
from cadence.plans.choices import (
    ExitReason,
    StepResult,
)

# --- Email outcomes ---------------------------------------------------------------------------


def email_outcomes(*, viewer: User, filters: ReportFilter) -> list[EmailOutcome]:
    """Automated emails sent in the period, per strategy group and step: sent, replied,
    bounced, opted out, uncertain. Two queries."""
    check_period(filters)
    messages = OutboundMessage.objects.filter(
        scope_by_user(viewer, field="plan__user"),
        status__in=[OutboundStatus.SENT, OutboundStatus.UNCERTAIN],
    )
    if filters.team_id:
        messages = messages.filter(plan__user__team_id=filters.team_id)
    if filters.user_id:
        messages = messages.filter(plan__user_id=filters.user_id)
    if filters.strategy_id:
        messages = messages.filter(plan__strategy_id=filters.strategy_id)
    kind, group = strategy_group("plan__")
    messages = (
        messages.annotate(m_at=Coalesce("sent_at", "handoff_at"))
        .filter(m_at__gte=filters.start, m_at__lt=filters.end)
        .annotate(
            m_id=F("outbound_message_id"),
            m_plan=F("plan_id"),
            m_step=F("step_id"),
            m_status=F("status"),
            m_reason=F("plan__exit_reason"),
            m_kind=kind,
            m_group=group,
            m_step_group=Case(
                When(plan__strategy__is_template=True, then=F("step_id")),
                default=Value(None),
                output_field=UUIDField(),
            ),
            m_step_number=F("step__step_number"),
        )
        .values(
            "m_id",
            "m_plan",
            "m_step",
            "m_status",
            "m_reason",
            "m_kind",
            "m_group",
            "m_step_group",
            "m_step_number",
        )
        .order_by()
    )
    msg_sql, msg_params = rawsql.queryset_sql(messages)
    ending = [ExitReason.REPLIED, ExitReason.MEETING_BOOKED, ExitReason.BOUNCED]
    ending = [str(reason) for reason in (*ending, ExitReason.OPTED_OUT)]
    sent = OutboundStatus.SENT.value
    ending_sql = rawsql.placeholders(ending)

    def outcome(kinds: str, reasons: str) -> str:
        return (
            f"SUM(CASE WHEN m.m_status = '{sent}' AND (inb.{kinds} = 1 OR "
            f"(m.m_reason IN {reasons} AND ld.step_id IS NOT NULL)) THEN 1 ELSE 0 END)"
        )

    statement = f"""
        WITH msg AS ({msg_sql}),
        last_done AS (
            SELECT r.plan_id AS plan_id, r.step_id AS step_id
            FROM plan_step_results r
            WHERE r.result = %s
              AND r.plan_id IN (
                  SELECT p.plan_id FROM lead_contact_plans p WHERE p.exit_reason IN {ending_sql}
              )
              AND NOT EXISTS (
                  SELECT 1 FROM plan_step_results later
                  WHERE later.plan_id = r.plan_id AND later.result = %s
                    AND (later.completed_at > r.completed_at
                         OR (later.completed_at = r.completed_at
                             AND later.step_number > r.step_number))
              )
        ),
        inb AS (
            SELECT i.outbound_message_id AS message_id,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS replied,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS bounced,
                   MAX(CASE WHEN i.kind = %s THEN 1 ELSE 0 END) AS complained
            FROM inbound_messages i
            WHERE i.outbound_message_id IS NOT NULL
            GROUP BY i.outbound_message_id
        )
        SELECT m.m_kind, m.m_group, m.m_step_group, m.m_step_number,
               SUM(CASE WHEN m.m_status = '{sent}' THEN 1 ELSE 0 END),
               {outcome("replied", "(%s, %s)")},
               {outcome("bounced", "(%s)")},
               {outcome("complained", "(%s)")},
               SUM(CASE WHEN m.m_status = '{OutboundStatus.UNCERTAIN.value}' THEN 1 ELSE 0 END)
        FROM msg m
        LEFT JOIN last_done ld ON ld.plan_id = m.m_plan AND ld.step_id = m.m_step
        LEFT JOIN inb ON inb.message_id = m.m_id
        GROUP BY 1, 2, 3, 4
    """
    params = (
        *msg_params,
        StepResult.COMPLETED.value,
        *ending,
        StepResult.COMPLETED.value,
        InboundKind.REPLY.value,
        InboundKind.BOUNCE.value,
        InboundKind.COMPLAINT.value,
        ExitReason.REPLIED.value,
        ExitReason.MEETING_BOOKED.value,
        ExitReason.BOUNCED.value,
        ExitReason.OPTED_OUT.value,
    )
    rows = rawsql.fetch(statement, params)
    names = strategy_names(rawsql.as_uuid(row[1]) for row in rows)
    report = [
        EmailOutcome(
            strategy_id=rawsql.as_uuid(group_id),
            strategy_name=group_name(kind_value, rawsql.as_uuid(group_id), names),
            step_id=rawsql.as_uuid(step_id),
            step_number=step_number,
            sent=int(n_sent),
            replied=int(n_replied),
            bounced=int(n_bounced),
            opted_out=int(n_opted_out),
            uncertain=int(n_uncertain),
        )
        for (
            kind_value,
            group_id,
            step_id,
            step_number,
            n_sent,
            n_replied,
            n_bounced,
            n_opted_out,
            n_uncertain,
        ) in rows
    ]
    report.sort(
        key=lambda r: (
            r.strategy_name.lower(),
            str(r.strategy_id),
            r.step_number is None,
            r.step_number or 0,
        )
    )
    return report
