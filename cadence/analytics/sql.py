"""The few SQL fragments the ORM cannot write portably: the seconds between two timestamps,
whole-hour buckets, and running a raw statement around a queryset's own SQL.

Every report aggregates in the database; these helpers exist so the statements that need window
functions (``LAG``, ``ROW_NUMBER``) or a histogram over a derived column can still reuse the
querysets that apply the viewer's scope and the filters, instead of repeating those rules in SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import DateField, FloatField, Func, QuerySet


def seconds_between(later: str, earlier: str, *, vendor: str | None = None) -> str:
    """SQL for ``later - earlier`` in seconds, as a floating-point number.

    SQLite stores timestamps as text, so the difference goes through ``julianday``; it is
    rounded to whole seconds because a day fraction in a double is off by microseconds, which
    would move an exact 48-hour span into the 47th hour bucket."""
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM (({later}) - ({earlier}))) AS DOUBLE PRECISION)"
    if vendor == "sqlite":
        return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0)"
    raise NotImplementedError(f"Analytics SQL is written for SQLite and PostgreSQL, not {vendor}.")


def hour_bucket(seconds: str, *, vendor: str | None = None) -> str:
    """SQL for the whole hour a non-negative number of seconds falls in; negative spans (an
    activity logged before its plan started) count as zero."""
    vendor = vendor or connection.vendor
    clamped = f"(CASE WHEN ({seconds}) < 0 THEN 0 ELSE ({seconds}) END)"
    if vendor == "postgresql":
        return f"CAST(FLOOR({clamped} / 3600.0) AS INTEGER)"
    if vendor == "sqlite":
        # CAST truncates towards zero, which is floor for the clamped, non-negative value.
        return f"CAST({clamped} / 3600 AS INTEGER)"
    raise NotImplementedError(f"Analytics SQL is written for SQLite and PostgreSQL, not {vendor}.")


class EpochSeconds(Func):
    """``later - earlier`` in seconds, for use in ORM aggregates (``Sum``, ``Avg``)."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        later_sql, later_params = compiler.compile(self.source_expressions[0])
        earlier_sql, earlier_params = compiler.compile(self.source_expressions[1])
        sql = seconds_between(later_sql, earlier_sql, vendor=connection.vendor)
        return sql, (*later_params, *earlier_params)


class WeekStart(Func):
    """The Monday of a date's ISO week, with the database's own date functions: Django's
    ``TruncWeek`` calls a Python function per row on SQLite, slower than the query around it."""

    output_field = DateField()
    arity = 1

    def as_sql(self, compiler, connection, **extra_context):
        day_sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"CAST(DATE_TRUNC('week', {day_sql}) AS DATE)", params
        if connection.vendor == "sqlite":
            # The next Sunday (the day itself on a Sunday), then back six days.
            return f"DATE({day_sql}, 'weekday 0', '-6 days')", params
        raise NotImplementedError(
            f"Analytics SQL is written for SQLite and PostgreSQL, not {connection.vendor}."
        )


def placeholders(values: Sequence[Any]) -> str:
    """``(%s, %s, ...)`` for an ``IN`` list; ``(NULL)`` for none, which matches no row."""
    return "(" + ", ".join(["%s"] * len(values)) + ")" if values else "(NULL)"


def queryset_sql(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL and parameters of a queryset, to embed as a common table expression. The
    parameters are already prepared for the database (UUIDs as hex on SQLite, and so on)."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def fetch(sql: str, params: Iterable[Any]) -> list[tuple]:
    """Run one read-only statement and return all its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def as_uuid(value: Any) -> uuid.UUID | None:
    """A UUID column read by raw SQL: a ``UUID`` on PostgreSQL, 32 hex digits on SQLite."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
