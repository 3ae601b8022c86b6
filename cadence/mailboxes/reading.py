"""Reading a mailbox's new messages over IMAP, without changing anything in it.

A folder is opened read-only (``EXAMINE``) and messages are fetched with ``BODY.PEEK[]``, so
no flag changes: the rep's unread mail stays unread. Nothing is moved, deleted or marked.
Reading is incremental: the folder's ``UIDVALIDITY`` and the last UID seen are kept
(``MailboxFolder``); the next read asks for the UIDs after it. On the first read, or when the
server has renumbered the folder (a new ``UIDVALIDITY``), messages are read from a given day on.
"""

from __future__ import annotations

import datetime
import imaplib
import re
from dataclasses import dataclass

from cadence.mailboxes.connection import Endpoint, MailboxError, imap_session

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UID = re.compile(rb"UID (\d+)")


@dataclass(frozen=True)
class FolderRead:
    """What a read found: the folder's ``UIDVALIDITY``, the last UID now seen, and the new
    messages as ``(uid, raw bytes)``, oldest first."""

    uid_validity: int
    last_uid: int
    messages: list[tuple[int, bytes]]


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_validity(client: imaplib.IMAP4, folder: str) -> int:
    for line in client.response("UIDVALIDITY")[1] or ():
        if line:
            return int(line)
    status, data = client.status(_quoted(folder), "(UIDVALIDITY)")
    found = _UIDVALIDITY.search(data[0] or b"") if status == "OK" else None
    if not found:
        raise MailboxError("The IMAP server gave no UIDVALIDITY for the folder.", server="imap")
    return int(found.group(1))


def _search(client: imaplib.IMAP4, *criteria: str) -> list[int]:
    status, data = client.uid("SEARCH", *criteria)
    if status != "OK":
        raise MailboxError(f"The IMAP server refused a search: {data}", server="imap")
    return sorted(int(uid) for uid in (data[0] or b"").split())


def _fetch(client: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    found = []
    for start in range(0, len(uids), 50):
        chunk = ",".join(str(uid) for uid in uids[start : start + 50])
        status, data = client.uid("FETCH", chunk, "(UID BODY.PEEK[])")
        if status != "OK":
            raise MailboxError(f"The IMAP server refused a fetch: {data}", server="imap")
        for part in data:
            if isinstance(part, tuple):
                uid = _UID.search(part[0])
                if uid:
                    found.append((int(uid.group(1)), part[1]))
    return sorted(found)


def folder_read(
    endpoint: Endpoint,
    *,
    folder: str,
    uid_validity: int | None,
    last_uid: int,
    since: datetime.date,
    limit: int = 500,
) -> FolderRead:
    """The folder's messages after ``last_uid`` (at most ``limit``, the oldest first); from
    ``since`` on when there is no state yet or ``uid_validity`` changed."""
    [found] = folders_read(
        endpoint, [FolderState(folder, uid_validity, last_uid)], since=since, limit=limit
    )
    assert found is not None  # a required folder is there, or the read raised
    return found


@dataclass(frozen=True)
class FolderState:
    """A folder to read and how far it has been read (``uid_validity`` None: never)."""

    name: str
    uid_validity: int | None
    last_uid: int
    #: A folder the mailbox may not have: read as empty (None) rather than failing.
    optional: bool = False


def folders_read(
    endpoint: Endpoint, folders: list[FolderState], *, since: datetime.date, limit: int = 500
) -> list[FolderRead | None]:
    """``folder_read`` for several folders, in one session and in order; None for an optional
    folder the mailbox does not have."""
    with imap_session(endpoint) as client:
        return [_read(client, state, since=since, limit=limit) for state in folders]


def _read(
    client: imaplib.IMAP4, state: FolderState, *, since: datetime.date, limit: int
) -> FolderRead | None:
    status, _ = client.select(_quoted(state.name), readonly=True)
    if status != "OK" and state.optional:
        return None
    if status != "OK":
        raise MailboxError(f'The mailbox has no folder "{state.name}".', server="imap")
    validity = _uid_validity(client, state.name)
    if state.uid_validity is None or validity != state.uid_validity:
        uids = _search(client, "SINCE", since.strftime("%d-%b-%Y"))
    else:
        last = state.last_uid
        uids = [uid for uid in _search(client, "UID", f"{last + 1}:*") if uid > last]
    uids = uids[:limit]
    messages = _fetch(client, uids) if uids else []
    newest = max([state.last_uid if validity == state.uid_validity else 0, *uids])
    return FolderRead(uid_validity=validity, last_uid=newest, messages=messages)


def _quoted_address(address: str) -> str:
    return '"' + address.replace("\\", "").replace('"', "") + '"'


def from_any(addresses: list[str]) -> list[str]:
    """A SEARCH criterion matching mail from any of ``addresses`` (nested ORs)."""
    criteria = ["FROM", _quoted_address(addresses[0])]
    for address in addresses[1:]:
        criteria = ["OR", "FROM", _quoted_address(address), *criteria]
    return criteria


def folder_search_from(
    endpoint: Endpoint,
    *,
    folder: str,
    uid_validity: int | None,
    last_uid: int,
    since: datetime.date,
    addresses: list[str],
) -> list[tuple[int, bytes]]:
    """The folder's messages from any of ``addresses`` that a sync has not read yet (after
    ``last_uid``; from ``since`` on without state or after a renumbering), without changing
    anything: the look just before a send."""
    if not addresses:
        return []
    with imap_session(endpoint) as client:
        status, _ = client.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise MailboxError(f'The mailbox has no folder "{folder}".', server="imap")
        validity = _uid_validity(client, folder)
        if uid_validity is None or validity != uid_validity:
            uids = _search(client, "SINCE", since.strftime("%d-%b-%Y"), *from_any(addresses))
        else:
            uids = _search(client, "UID", f"{last_uid + 1}:*", *from_any(addresses))
            uids = [uid for uid in uids if uid > last_uid]
        return _fetch(client, uids) if uids else []
