"""The email outcomes report: automated emails per strategy and step, by what became of
them (definitions: ``reports``)."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from cadence.accounts.models import User
from cadence.accounts.selectors import scope_by_user
from cadence.analytics import sql as rawsql
from cadence.analytics.common import (
    UTC,
    check_period,
    group_name,
    in_days,
    in_ranges,
    scoped_rollup,
    split_period,
    strategy_names,
)
from cadence.analytics.models import EmailDay, RollupState
from cadence.analytics.types import EmailOutcome, ReportFilter
from cadence.messaging.choices import InboundKind, OutboundStatus
from cadence.messaging.models import InboundMessage, OutboundMessage
from cadence.plans.choices import ExitReason, StepResult
from cadence.plans.models import LeadContactPlan
from cadence.strategies.models import ContactStrategy, StrategyStep

# --- Email outcomes ---------------------------------------------------------------------------

EMAIL_ROLLUP = "email"
OUTCOMES = ("sent", "replied", "bounced", "opted_out", "uncertain")


def email_outcomes(*, viewer: User, filters: ReportFilter) -> list[EmailOutcome]:
    """Automated emails sent in the period, per strategy group and step: sent, replied,
    bounced, opted out, uncertain.

    Whole UTC days come from the daily rollup (``EmailDay``) where nothing that decides an
    email's outcome changed since its last refresh (the email, its plan, an inbound message
    about it); the partial first and last days and the changed days are counted live. The
    figures are the same either way (the tests compare them)."""
    check_period(filters)
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
    live_ranges = [(filters.start, filters.end)]
    state = RollupState.objects.filter(name=EMAIL_ROLLUP, refreshed_at__isnull=False).first()
    if state is not None:
        whole_days, live_ranges = split_period(filters, state.refreshed_at, email_touched_days)
        if whole_days:
            rows = (
                scoped_rollup(EmailDay, viewer=viewer, filters=filters)
                .filter(in_days("day", whole_days))
                .values("strategy_id", "step_id")
                .annotate(**{name: Sum(name) for name in OUTCOMES})
                .values_list("strategy_id", "step_id", *OUTCOMES)
            )
            for strategy_id, step_id, *counts in rows:
                _add(totals[(strategy_id, step_id)], counts)
    if live_ranges:
        messages = scoped_messages(viewer=viewer, filters=filters).filter(
            in_ranges("m_at", live_ranges)
        )
        for strategy_id, step_id, *counts in outcome_rows(messages, ["m_strategy", "m_step"]):
            key = (rawsql.as_uuid(strategy_id), rawsql.as_uuid(step_id))
            _add(totals[key], counts)
    return _report(totals)


def _add(into: list[int], counts) -> None:
    for index, value in enumerate(counts):
        into[index] += int(value or 0)


def _report(totals: dict[tuple, list[int]]) -> list[EmailOutcome]:
    """Rows per strategy group and step, grouped as the strategies and steps are now: a
    template's steps one by one, custom plans by step number, a deleted strategy or step as
    none."""
    templates = dict(
        ContactStrategy.objects.filter(pk__in={key[0] for key in totals if key[0]}).values_list(
            "pk", "is_template"
        )
    )
    numbers = dict(
        StrategyStep.objects.filter(pk__in={key[1] for key in totals if key[1]}).values_list(
            "pk", "step_number"
        )
    )
    grouped: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(OUTCOMES))
    for (strategy_id, step_id), counts in totals.items():
        if strategy_id not in templates:
            kind, group = "none", None
        elif templates[strategy_id]:
            kind, group = "template", strategy_id
        else:
            kind, group = "custom", None
        step_number = numbers.get(step_id)
        step_group = step_id if kind == "template" and step_number is not None else None
        _add(grouped[(kind, group, step_group, step_number)], counts)
    names = strategy_names(key[1] for key in grouped)
    report = [
        EmailOutcome(
            strategy_id=group,
            strategy_name=group_name(kind, group, names),
            step_id=step_group,
            step_number=step_number,
            **dict(zip(OUTCOMES, counts, strict=True)),
        )
        for (kind, group, step_group, step_number), counts in grouped.items()
        if any(counts)
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


def scoped_messages(*, viewer: User | None, filters: ReportFilter | None) -> QuerySet:
    """Sent and uncertain automated emails (all of them without a viewer), with their send
    time ``m_at``: ``sent_at``, or the hand-off time for uncertain ones."""
    messages = OutboundMessage.objects.filter(
        status__in=[OutboundStatus.SENT, OutboundStatus.UNCERTAIN]
    )
    if viewer is not None:
        messages = messages.filter(scope_by_user(viewer, field="plan__user"))
    if filters is not None:
        if filters.team_id:
            messages = messages.filter(plan__user__team_id=filters.team_id)
        if filters.user_id:
            messages = messages.filter(plan__user_id=filters.user_id)
        if filters.strategy_id:
            messages = messages.filter(plan__strategy_id=filters.strategy_id)
    return messages.annotate(m_at=Coalesce("sent_at", "handoff_at")).order_by()


def email_touched_days(
    since: datetime.datetime,
    first: datetime.datetime | None = None,
    last: datetime.datetime | None = None,
) -> list[datetime.date]:
    """The UTC send days (between ``first`` and ``last`` when given) of the emails whose
    outcome may have changed since ``since``: the email itself changed, its plan moved (a step
    done, an exit, a new owner), or an inbound message about it arrived. Three index-driven
    queries, one per cause."""
    messages = scoped_messages(viewer=None, filters=None)
    if first is not None:
        messages = messages.filter(m_at__gte=first, m_at__lt=last)
    causes = [
        Q(updated_at__gte=since),
        Q(plan__in=LeadContactPlan.objects.filter(updated_at__gte=since).values("pk")),
        Q(
            pk__in=InboundMessage.objects.filter(
                updated_at__gte=since, outbound_message__isnull=False
            ).values("outbound_message_id")
        ),
    ]
    days: set[datetime.date] = set()
    for cause in causes:
        days.update(
            messages.filter(cause)
            .annotate(day=TruncDate("m_at", tzinfo=UTC))
            .values_list("day", flat=True)
            .distinct()
        )
    return sorted(days)


def outcome_rows(messages: QuerySet, keys: list[str]) -> list[tuple]:
    """``messages`` counted per ``keys`` (of ``m_day``, ``m_user``, ``m_strategy``,
    ``m_step``): sent, replied, bounced, opted out, uncertain. One statement."""
    statement, params = outcome_sql(messages, keys)
    return rawsql.fetch(statement, params)


def outcome_sql(messages: QuerySet, keys: list[str]) -> tuple[str, tuple]:
    """The statement behind ``outcome_rows``, also the source of the rollup."""
    messages = messages.annotate(
        m_id=F("outbound_message_id"),
        m_plan=F("plan_id"),
        m_step=F("step_id"),
        m_status=F("status"),
        m_reason=F("plan__exit_reason"),
        m_day=TruncDate("m_at", tzinfo=UTC),
        m_user=F("plan__user_id"),
        m_strategy=F("plan__strategy_id"),
    ).values("m_id", "m_plan", "m_step", "m_status", "m_reason", "m_day", "m_user", "m_strategy")
    msg_sql, msg_params = rawsql.queryset_sql(messages)
    ending = [ExitReason.REPLIED, ExitReason.MEETING_BOOKED, ExitReason.BOUNCED]
    ending = [str(reason) for reason in (*ending, ExitReason.OPTED_OUT)]
    sent = OutboundStatus.SENT.value
    ending_sql = rawsql.placeholders(ending)
    columns = ", ".join(f"m.{key}" for key in keys)

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
        SELECT {columns},
               SUM(CASE WHEN m.m_status = '{sent}' THEN 1 ELSE 0 END) AS n_sent,
               {outcome("replied", "(%s, %s)")} AS n_replied,
               {outcome("bounced", "(%s)")} AS n_bounced,
               {outcome("complained", "(%s)")} AS n_opted_out,
               SUM(CASE WHEN m.m_status = '{OutboundStatus.UNCERTAIN.value}' THEN 1 ELSE 0 END)
                   AS n_uncertain
        FROM msg m
        LEFT JOIN last_done ld ON ld.plan_id = m.m_plan AND ld.step_id = m.m_step
        LEFT JOIN inb ON inb.message_id = m.m_id
        GROUP BY {columns}
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
    return statement, params
