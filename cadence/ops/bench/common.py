"""What the benchmarks and generators share: the memory of a stretch of code, a settled database
before each timed run, rows written in bulk, the removal of generated rows with whatever points at
them, and the options, guard and output of their management commands."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import resource
import tracemalloc
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, models

from cadence.core.cli import count, whole_numbers

T = TypeVar("T")


# -- memory ----------------------------------------------------------------------------------


def mib(kib: int | None) -> str:
    """A figure in KiB as MiB, ``n/a`` where it is unknown."""
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            found = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class PeakRss:
    """Peak resident set size during the ``with`` block and the RSS it started from (KiB).

    Linux lets a process reset its own high-water mark (``echo 5 > /proc/self/clear_refs``), so
    VmHWM read afterwards is the peak of the block alone. Elsewhere ``getrusage``'s
    ``ru_maxrss``, a lifetime maximum, is all there is: the growth shows only when the block sets
    a new one. ``None`` where a figure is unknown.
    """

    def __enter__(self) -> PeakRss:
        self.resettable = _reset_peak_rss()
        self.before: int | None = _status_kib("VmRSS") if self.resettable else _maxrss()
        self.peak: int | None = None
        return self

    def __exit__(self, *exc) -> None:
        self.peak = _status_kib("VmHWM") if self.resettable else _maxrss()

    @property
    def growth(self) -> int | None:
        if self.peak is None or self.before is None:
            return None
        return max(0, self.peak - self.before)


def python_peak(work: Callable[[], T]) -> tuple[T, int]:
    """Run ``work`` under tracemalloc; its result and the peak of Python allocations (bytes)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- the database ----------------------------------------------------------------------------


def database_settle(*, tables: Iterable[str], analyze: bool = False) -> bool:
    """Start a timed run from a quiet database. PostgreSQL: ``VACUUM ANALYZE`` of ``tables``, as
    autovacuum would (without statistics the planner takes a freshly loaded table for empty),
    then ``CHECKPOINT``, so no run pays for the writes of the one before. SQLite: a WAL
    checkpoint; it has no autovacuum and Cadence never runs ``ANALYZE`` on it, so the planner
    works without statistics unless ``analyze`` asks for them. Nothing inside a transaction (the
    test suite's). Returns whether PostgreSQL's tables were vacuumed."""
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            if analyze:
                cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return False
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")
        # CHECKPOINT needs a superuser or pg_checkpoint; without it the figures are noisier.
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")
    return True


def rows_insert(
    cursor, model: type[models.Model], field_names: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Write ``rows`` (tuples in ``field_names`` order, values already in the database's own
    form) to ``model``'s table: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere.

    Not ``bulk_create``: building and compiling a model instance per row made a million rows
    take minutes, and generated rows need nothing the ORM adds (no signals, no validation
    beyond the database's own)."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in field_names)
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(field_names))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def clear_dependents(
    model: type[models.Model],
    ours: models.QuerySet,
    *,
    generated: Collection[type[models.Model]],
) -> None:
    """Delete (or unlink) the rows of tables outside ``generated`` that point at ``ours`` (rows
    of ``model``), through the ORM so their own dependents follow; the generated tables
    themselves the generator deletes in bulk."""
    for relation in model._meta.related_objects:
        if relation.related_model in generated or relation.many_to_many:
            continue
        dependents = relation.related_model._default_manager.filter(
            **{f"{relation.field.name}__in": ours.values("pk")}
        )
        if relation.on_delete is models.SET_NULL:
            dependents.update(**{relation.field.name: None})
        else:
            dependents.delete()


# -- the commands ----------------------------------------------------------------------------


class BenchCommand(BaseCommand):
    """A benchmark or generator command. Its runs take minutes: progress lines go out as they
    come rather than when the output buffer fills."""

    def say(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()


def add_plans_option(parser: CommandParser, *, default: int | None, help: str) -> None:
    """``--plans N``, required where there is no ``default``."""
    parser.add_argument("--plans", type=count, default=default, required=default is None, help=help)


def add_sizes_option(parser: CommandParser, *, default: list[int] | None, help: str) -> None:
    """``--sizes A,B,...``: the sizes to measure at, sorted, each once."""
    parser.add_argument("--sizes", type=whole_numbers(), default=default, help=help)


def add_repeat_option(parser: CommandParser, *, default: int, help: str) -> None:
    """``--repeat R``: timed runs of each measurement."""
    parser.add_argument("--repeat", type=count, default=default, help=help)


def add_seed_option(parser: CommandParser, *, help: str) -> None:
    """``--seed S`` of a generator (default 1)."""
    parser.add_argument("--seed", type=int, default=1, help=help)


def add_keep_and_force_options(parser: CommandParser, *, kept: str, force: str) -> None:
    """``--keep`` leaves the ``kept`` data in the database; ``--force`` runs on a database that
    holds other data (``force`` says what that costs)."""
    parser.add_argument("--keep", action="store_true", help=f"Leave the {kept} in the database.")
    parser.add_argument("--force", action="store_true", help=force)


def database_guard(*, foreign: str | None, force: bool, forced: str = "") -> None:
    """Refuse a database that holds ``foreign`` data unless ``force``: a benchmark wants a
    database of its own. ``forced`` qualifies the advice to pass ``--force``."""
    if foreign and not force:
        raise CommandError(
            f"This database holds {foreign}. Run the benchmark on a database of its own (see "
            f"docs/benchmarks.md), or pass --force{forced}."
        )


def setup_line() -> str:
    """Where the figures come from: the database, Python's version and the CPUs."""
    return (
        f"Database {connection.vendor} {connection.settings_dict['NAME']}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs"
    )
