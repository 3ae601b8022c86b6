"""Import jobs: an uploaded file and its progress kept on disk under ``VAR_DIR/imports/<id>/``.

A big file is imported one chunk per request (the page asks for the next chunk until done and
shows a progress bar), so no background worker is needed and no request runs for minutes. The
rows themselves go through ``cadence.crm.imports.contacts_import_rows``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from cadence.accounts.models import User
from cadence.core.csv_export import csv_cell_read, csv_writer
from cadence.core.errors import CadenceError
from cadence.crm.imports import (
    CHUNK_ROWS,
    CREATED,
    IMPORT_FIELDS,
    MAX_FILE_BYTES,
    PREVIEW_ROWS,
    REJECTED,
    UPDATED,
    CsvFileError,
    Mapping,
    NumberedRow,
    RowOutcome,
    contacts_import_rows,
    guess_mapping,
    import_preview,
    mapping_problems,
    read_csv,
)

logger = logging.getLogger(__name__)


# -- Import jobs: a file and its progress on disk -----------------------------------------------

REPORT_COLUMNS = ["row", "outcome", "message", "email", "name", "company", "contact_id"]
#: A chunk's lock older than this was left by a request that died; the chunk may run again.
STALE_LOCK_SECONDS = 600
#: Uploaded files hold personal data: they are deleted this long after an import's last step.
KEEP_IMPORTS_SECONDS = 7 * 24 * 3600


class ImportJobNotFound(LookupError):
    """No such import, or another user's: both read as "not found"."""


@dataclass
class ImportJob:
    """One upload being imported: ``state.json`` (owner, header, mapping, progress), the file as
    uploaded, the rows split in chunk files (so each request reads only its own chunk) and the
    report written as the chunks are done."""

    job_id: uuid.UUID
    path: Path
    state: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``uploaded`` (needs a mapping), ``mapped`` (ready to start), ``running``, ``done``."""
        return self.state["status"]

    @property
    def header(self) -> list[str]:
        return self.state["header"]

    @property
    def mapping(self) -> Mapping:
        return self.state.get("mapping") or self.state["guess"]

    @property
    def total(self) -> int:
        return self.state["total"]

    @property
    def processed(self) -> int:
        return self.state["processed"]

    @property
    def counts(self) -> dict[str, int]:
        return self.state["counts"]

    @property
    def filename(self) -> str:
        return self.state["filename"]

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.processed * 100 // self.total

    def chunk(self, index: int) -> list[NumberedRow]:
        with open(self.path / "chunks" / f"{index:05d}.json", encoding="utf-8") as handle:
            return [(number, values) for number, values in json.load(handle)]

    def report_rows(self) -> Iterator[dict[str, str]]:
        """The report's rows for the page, each cell as it was before the CSV writer guarded it
        against spreadsheet formulas."""
        path = self.path / "report.csv"
        if not path.exists():
            return
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield {key: csv_cell_read(value) for key, value in row.items()}

    def save(self) -> None:
        """Write the state whole, through a temporary file, so a crash never leaves half."""
        temporary = self.path / "state.json.tmp"
        temporary.write_text(json.dumps(self.state), encoding="utf-8")
        os.replace(temporary, self.path / "state.json")


def imports_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def import_job_create(*, actor: User, filename: str, data: bytes) -> ImportJob:
    """Read an uploaded file and keep it as a new import of ``actor``'s; ``CsvFileError`` if it
    is not a readable CSV table. Old imports are deleted on the way."""
    if len(data) > MAX_FILE_BYTES:
        raise CsvFileError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it in parts.",
            field="file",
        )
    table = read_csv(data)
    import_jobs_prune()
    job_id = uuid.uuid4()
    path = imports_dir() / str(job_id)
    (path / "chunks").mkdir(parents=True)
    (path / "upload.csv").write_bytes(data)
    chunks = [table.rows[i : i + CHUNK_ROWS] for i in range(0, len(table.rows), CHUNK_ROWS)]
    for index, chunk in enumerate(chunks):
        (path / "chunks" / f"{index:05d}.json").write_text(json.dumps(chunk), encoding="utf-8")
    job = ImportJob(
        job_id=job_id,
        path=path,
        state={
            "user": str(actor.pk),
            "filename": Path(filename).name[:200],
            "created_at": timezone.now().isoformat(),
            "delimiter": table.delimiter,
            "header": table.header,
            "guess": guess_mapping(table.header),
            "mapping": None,
            "status": "uploaded",
            "total": len(table.rows),
            "chunks": len(chunks),
            "next_chunk": 0,
            "processed": 0,
            "counts": {CREATED: 0, UPDATED: 0, REJECTED: 0},
        },
    )
    job.save()
    return job


def import_job_get(*, viewer: User, job_id: uuid.UUID | str) -> ImportJob:
    """The viewer's import ``job_id``; ``ImportJobNotFound`` for anyone else's, so an import's
    existence is not revealed."""
    try:
        job_id = uuid.UUID(str(job_id))
    except ValueError as exc:
        raise ImportJobNotFound(job_id) from exc
    path = imports_dir() / str(job_id)
    try:
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportJobNotFound(job_id) from exc
    if state.get("user") != str(viewer.pk):
        raise ImportJobNotFound(job_id)
    return ImportJob(job_id=job_id, path=path, state=state)


def import_job_set_mapping(*, job: ImportJob, mapping: Mapping) -> ImportJob:
    """Keep the columns chosen for each field; a started import's mapping no longer changes."""
    if job.status not in ("uploaded", "mapped"):
        raise CadenceError("This import has started; its columns can no longer change.")
    problems = mapping_problems(mapping, job.header)
    if problems:
        field_name, message = next(iter(problems.items()))
        raise CadenceError(message, field=field_name)
    job.state["mapping"] = {name: mapping.get(name) for name in IMPORT_FIELDS}
    job.state["status"] = "mapped"
    job.save()
    return job


def import_job_preview(*, job: ImportJob, viewer: User) -> list[dict]:
    return import_preview(viewer=viewer, rows=job.chunk(0)[:PREVIEW_ROWS], mapping=job.mapping)


def import_job_start(*, job: ImportJob) -> ImportJob:
    if job.status == "uploaded":
        raise CadenceError("Choose the columns first.")
    if job.status == "mapped":
        job.state["status"] = "running"
        job.save()
    return job


def import_job_process_next_chunk(*, job: ImportJob, actor: User) -> ImportJob:
    """Import the next chunk of rows and record its outcomes; nothing when the import is not
    running, or when another request is doing a chunk of it (two open tabs poll the same
    import: the lock file, created exclusively, lets only one of them work at a time).

    The report is appended and the state saved after the chunk's transaction commits, so a
    request that dies mid-chunk leaves the chunk to be done again, never half-recorded."""
    if job.status != "running":
        return job
    lock = job.path / "lock"
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            stale = _filesystem_now(job.path) - lock.stat().st_mtime > STALE_LOCK_SECONDS
        except FileNotFoundError:
            stale = False
        if not stale:
            return job
        lock.unlink(missing_ok=True)
        return import_job_process_next_chunk(job=job, actor=actor)
    os.close(descriptor)
    try:
        # Re-read under the lock: another request may have moved on since this one loaded it.
        job = import_job_get(viewer=actor, job_id=job.job_id)
        if job.status != "running":
            return job
        index = job.state["next_chunk"]
        rows = job.chunk(index)
        outcomes = contacts_import_rows(actor=actor, rows=rows, mapping=job.mapping)
        _append_report(job, outcomes)
        for outcome in outcomes:
            job.state["counts"][outcome.outcome] += 1
        job.state["processed"] += len(rows)
        job.state["next_chunk"] = index + 1
        if job.state["next_chunk"] >= job.state["chunks"]:
            job.state["status"] = "done"
            job.state["finished_at"] = timezone.now().isoformat()
        job.save()
        return job
    finally:
        lock.unlink(missing_ok=True)


def _append_report(job: ImportJob, outcomes: list[RowOutcome]) -> None:
    path = job.path / "report.csv"
    new = not path.exists()
    with open(path, "a", encoding="utf-8", newline="") as handle:
        # Names and emails come from the uploaded file: one starting with "=" must not become a
        # formula in the spreadsheet that opens the downloaded report.
        writer = csv_writer(handle)
        if new:
            writer.writerow(REPORT_COLUMNS)
        for outcome in outcomes:
            writer.writerow(
                [
                    outcome.row,
                    outcome.outcome,
                    outcome.message,
                    outcome.email,
                    outcome.name,
                    outcome.company,
                    outcome.contact_id or "",
                ]
            )


def _filesystem_now(directory: Path) -> float:
    """The storage's own clock, read from a file touched now. File times are compared with it
    rather than with this process's clock, which may differ from the storage's (a network
    filesystem, or a test run with the clock moved)."""
    probe = directory / ".clock"
    probe.touch()
    return probe.stat().st_mtime


def import_jobs_prune(*, older_than: int = KEEP_IMPORTS_SECONDS) -> int:
    """Delete imports untouched for ``older_than`` seconds (a directory's time changes with each
    chunk), so no one's uploaded contacts stay on disk for good; returns how many."""
    root = imports_dir()
    if not root.is_dir():
        return 0
    cutoff = _filesystem_now(root) - older_than
    deleted = 0
    for path in root.iterdir():
        try:
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
                deleted += 1
        except OSError:
            continue
    return deleted
