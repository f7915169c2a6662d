"""The audit trail: record what was done, by whom, to what; verify nothing was altered since.

Entries are only ever appended. Each carries the hash of the one before it::

    hash = sha256_hex(prev_hash + canonical_json({
        "occurred_at": "2026-11-23T09:30:00.000000Z",   # UTC, to the microsecond
        "actor_id": 7 | null, "actor_label": ..., "action": ..., "target_type": ...,
        "target_id": "...", "changes": "<the stored changes text>",
        "client_address": ..., "request_id": ...,
    }))

with ``prev_hash`` 64 zeros for the first entry. ``changes`` is hashed as the exact text stored,
so any edit to it, even of whitespace, breaks the hash. Changing an entry breaks its hash;
deleting one breaks the link of the next. Deleting the newest entries leaves a shorter chain that
still verifies, so the newest hash (``ChainReport.last_hash``) is what to keep elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from piccolo.columns.combination import WhereRaw

from registry.audit.canonical import JSONValue, canonical_json, plain, utc_iso
from registry.audit.context import Actor, current_actor
from registry.audit.tables import AuditEntry
from registry.core import clock
from registry.core.bulk import insert_rows
from registry.db import escape_like, fetch_one, on_postgres, serialise_on
from registry.errors import InvalidInput

GENESIS_HASH = "0" * 64
# Any fixed number will do, as long as nothing else in the database takes the same advisory lock.
APPEND_LOCK_KEY = 0x7265_6769_7374_7279  # "registry" in ASCII
VERIFY_BATCH_SIZE = 1000
MAX_PAGE_SIZE = 200
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
# The column widths: PostgreSQL enforces them and SQLite does not, so check them here for both.
WIDTHS = {
    "action": 80,
    "target_type": 60,
    "target_id": 80,
    "actor_label": 254,
    "client_address": 64,
    "request_id": 64,
}
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "changes",
    "client_address",
    "request_id",
)

STORED_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")
INSERT_ENTRY = (
    f"INSERT INTO audit_entry ({', '.join(STORED_FIELDS)})"  # noqa: S608 - names, not input
    f" VALUES ({', '.join('{}' for _ in STORED_FIELDS)}) RETURNING id"
)

Break = Literal["hash mismatch", "broken link"]


@dataclass(frozen=True)
class RecordedEntry:
    """One entry of the audit trail as read back; there is no way to change it."""

    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    changes: dict[str, Any]  # {"before": {...}, "after": {...}}, only the keys that changed
    client_address: str
    request_id: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int  # entries checked and found sound, in id order
    broken_at: int | None = None  # the id of the first entry that fails
    reason: Break | None = None
    last_hash: str = GENESIS_HASH  # the newest sound entry's hash, worth keeping elsewhere


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[RecordedEntry, ...]  # newest first
    page: int
    page_size: int
    total: int  # entries matching the filters, on every page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


async def record(
    action: str,
    target_type: str,
    target_id: str | int,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    occurred_at: datetime | None = None,
) -> RecordedEntry:
    """Append one entry, inside the caller's transaction if there is one, else in its own.

    Call it in the same transaction as the change it records, so that both happen or neither.
    ``actor`` defaults to whoever the current request or job says is acting.
    """
    values, changes = entry_values(action, target_type, target_id, before, after, actor)
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise ValueError("occurred_at must carry a time zone")
    if on_postgres() and is_plain(values["target_id"]):
        return await _append_in_database(values, changes, occurred_at)
    db = AuditEntry._meta.db
    async with db.transaction():
        # Two PostgreSQL transactions could both read the same newest entry and fork the chain,
        # so appends queue on a lock held until the surrounding transaction ends.
        await serialise_on(AuditEntry, APPEND_LOCK_KEY)
        values["prev_hash"] = await _last_hash()
        # Taken once the lock is held, so that later ids never carry earlier times.
        values["occurred_at"] = (occurred_at or clock.now()).astimezone(UTC)
        values["hash"] = entry_hash(values["prev_hash"], values)
        inserted = await fetch_one(INSERT_ENTRY, *(values[name] for name in STORED_FIELDS))
    assert inserted is not None  # RETURNING always answers a row
    return _recorded({**values, "id": inserted["id"]}, changes)


# The database's own append (migration 2026-11-28T04:50:00): the lock, the newest hash and the
# insert in one round trip. Its arguments are APPEND_ARGUMENTS, in order; a statement that
# writes the audited row too (an activity and its entry) calls it with the row's new id.
APPEND_ARGUMENTS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "changes",
    "client_address",
    "request_id",
    "head",
    "mid",
    "tail",
)
APPEND_IN_DATABASE = (
    "SELECT entry_id, entry_occurred_at, entry_prev_hash, entry_hash"  # noqa: S608 - no input
    f" FROM audit_append({', '.join('{}' for _ in APPEND_ARGUMENTS)})"
)


async def _append_in_database(
    values: dict[str, Any], changes: dict[str, JSONValue], occurred_at: datetime | None
) -> RecordedEntry:
    """:func:`record` on PostgreSQL: one statement, in the caller's transaction if there is
    one, else a transaction of its own (the lock is held until it commits either way)."""
    arguments = database_append(values, occurred_at)
    appended = await fetch_one(APPEND_IN_DATABASE, *(arguments[name] for name in APPEND_ARGUMENTS))
    assert appended is not None  # the function always answers its entry
    return appended_entry(values, changes, appended)


def database_append(values: Mapping[str, Any], occurred_at: datetime | None) -> dict[str, Any]:
    """The arguments of the database's append (APPEND_ARGUMENTS) for an entry's ``values``
    (every hashed field but the time, which the database takes after the lock unless a test
    has set the clock or the caller gives one)."""
    if occurred_at is None and not clock.is_system():
        occurred_at = clock.now()
    head, mid, tail = hash_pieces(values)
    return {
        **values,
        "occurred_at": occurred_at.astimezone(UTC) if occurred_at is not None else None,
        "head": head,
        "mid": mid,
        "tail": tail,
    }


def appended_entry(
    values: Mapping[str, Any], changes: dict[str, JSONValue], appended: Mapping[str, Any]
) -> RecordedEntry:
    """The entry the database's append wrote (``appended``: its answer) as :func:`record`
    answers it."""
    return _recorded(
        {
            **values,
            "id": appended["entry_id"],
            "occurred_at": appended["entry_occurred_at"],
            "prev_hash": appended["entry_prev_hash"],
            "hash": appended["entry_hash"],
        },
        changes,
    )


def is_plain(target_id: str) -> bool:
    """Whether ``target_id`` is spelled in JSON as itself between quotes (ids and codes are),
    as the database's append needs: it puts the id into the hashed text as it stores it."""
    return canonical_json(target_id) == f'"{target_id}"'


def hash_pieces(values: Mapping[str, Any]) -> tuple[str, str, str]:
    """The canonical JSON :func:`entry_hash` hashes, cut around the two values left to the
    database, the time and the target id: ``head + utc_iso(time) + mid + target_id + tail``
    is that JSON (keys sorted, so the order of HASHED_FIELDS does not matter)."""
    pieces: list[str] = []
    current = "{"
    for number, name in enumerate(sorted(HASHED_FIELDS)):
        comma = "," if number else ""
        if name in ("occurred_at", "target_id"):
            pieces.append(f'{current}{comma}"{name}":"')
            current = '"'
        else:
            current += f'{comma}"{name}":{canonical_json(values[name])}'
    head, mid = pieces
    return head, mid, current + "}"


def entry_values(
    action: str,
    target_type: str,
    target_id: str | int,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    actor: Actor | None = None,
) -> tuple[dict[str, Any], dict[str, JSONValue]]:
    """An entry's fields but the time and the hashes, checked, and its changes."""
    who = actor if actor is not None else current_actor()
    changes = changes_between(before, after)
    values: dict[str, Any] = {
        "actor_id": who.id,
        "actor_label": who.label,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "changes": canonical_json(changes),
        "client_address": who.client_address,
        "request_id": who.request_id,
    }
    _check(values)
    return values, changes


@dataclass(frozen=True)
class Record:
    """One entry for :func:`record_many`: what :func:`record` takes, by the current actor."""

    action: str
    target_type: str
    target_id: str | int
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


async def record_many(records: Sequence[Record]) -> None:
    """Append ``records`` in order, in the caller's transaction: what :func:`record` does for
    each, with the lock taken and the newest hash read once, and one multi-row insert (a batch
    of imported entries, say, whose per-entry lock and read would cost more than the insert).
    """
    if not records:
        return
    who = current_actor()
    rows: list[dict[str, Any]] = []
    for item in records:
        values: dict[str, Any] = {
            "actor_id": who.id,
            "actor_label": who.label,
            "action": item.action,
            "target_type": item.target_type,
            "target_id": str(item.target_id),
            "changes": canonical_json(changes_between(item.before, item.after)),
            "client_address": who.client_address,
            "request_id": who.request_id,
        }
        _check(values)
        rows.append(values)
    db = AuditEntry._meta.db
    async with db.transaction():
        await serialise_on(AuditEntry, APPEND_LOCK_KEY)
        prev = await _last_hash()
        for values in rows:
            values["prev_hash"] = prev
            values["occurred_at"] = clock.now().astimezone(UTC)
            values["hash"] = prev = entry_hash(prev, values)
        columns = ("occurred_at", *HASHED_FIELDS[1:], "prev_hash", "hash")
        inserted = await insert_rows(
            AuditEntry,
            columns,
            [[values[name] for name in columns] for values in rows],
            returning=("id", "hash"),
        )
        # The chain runs in id order: one statement numbers its rows in the order given, and
        # this says so before the transaction may commit (a surprise rolls the batch back).
        by_id = [row["hash"] for row in sorted(inserted, key=lambda row: row["id"])]
        if by_id != [values["hash"] for values in rows]:
            raise RuntimeError("the audit entries were not numbered in the order given")


def changes_between(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, JSONValue]:
    """Both sides of every key whose value differs; a side without the key leaves it out."""
    old = _plain_mapping(before)
    new = _plain_mapping(after)
    changed = {
        key
        for key in old.keys() | new.keys()
        # Compared as canonical JSON so that 1 and true, or 1 and 1.0, count as different.
        if key not in old or key not in new or canonical_json(old[key]) != canonical_json(new[key])
    }
    return {
        "before": {key: old[key] for key in changed if key in old},
        "after": {key: new[key] for key in changed if key in new},
    }


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    fields = {name: entry[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = utc_iso(entry["occurred_at"])
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode("utf-8")).hexdigest()


async def verify_chain(batch_size: int = VERIFY_BATCH_SIZE) -> ChainReport:
    """Recompute every entry's hash and check it links to the entry before, oldest first."""
    expected_prev = GENESIS_HASH
    checked = 0
    async for row in _entries_by_id(batch_size):
        failure = _fault(row, expected_prev)
        if failure is not None:
            return ChainReport(
                ok=False,
                entries=checked,
                broken_at=row["id"],
                reason=failure,
                last_hash=expected_prev,
            )
        expected_prev = row["hash"]
        checked += 1
    return ChainReport(ok=True, entries=checked, last_hash=expected_prev)


async def search(
    *,
    action: str | None = None,
    actor_id: int | None = None,
    actor_label: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    occurred_from: datetime | None = None,
    occurred_before: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> AuditPage:
    """Entries matching every filter given, newest first, one page at a time.

    ``action`` matches a prefix (``register.`` finds every register action); ``actor_label``
    matches any part of the label, ignoring case; the time range includes ``occurred_from`` and
    excludes ``occurred_before``. Empty filters are ignored.
    """
    if page < 1:
        raise InvalidInput("Page must be 1 or more", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"Page size must be from 1 to {MAX_PAGE_SIZE}", field="page_size")
    for name, moment in (("occurred_from", occurred_from), ("occurred_before", occurred_before)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("Give the time with its time zone", field=name)
    conditions: list[Any] = []
    if action:
        conditions.append(WhereRaw("action LIKE {} ESCAPE '\\'", escape_like(action.lower()) + "%"))
    if actor_id is not None:
        conditions.append(AuditEntry.actor_id == actor_id)
    if actor_label:
        pattern = "%" + escape_like(actor_label.lower()) + "%"
        conditions.append(WhereRaw("LOWER(actor_label) LIKE {} ESCAPE '\\'", pattern))
    if target_type:
        conditions.append(AuditEntry.target_type == target_type)
    if target_id is not None and target_id != "":
        conditions.append(AuditEntry.target_id == str(target_id))
    if occurred_from is not None:
        conditions.append(AuditEntry.occurred_at >= occurred_from)
    if occurred_before is not None:
        conditions.append(AuditEntry.occurred_at < occurred_before)
    return await _page(conditions, page, page_size)


async def _page(conditions: list[Any], page: int, page_size: int) -> AuditPage:
    rows_query = AuditEntry.select().order_by(AuditEntry.occurred_at, _id(), ascending=False)
    count_query = AuditEntry.count()
    if conditions:
        rows_query = rows_query.where(*conditions)
        count_query = count_query.where(*conditions)
    rows = await rows_query.limit(page_size).offset((page - 1) * page_size)
    total = await count_query
    return AuditPage(
        entries=tuple(_entry(row) for row in rows), page=page, page_size=page_size, total=total
    )


def _check(values: Mapping[str, Any]) -> None:
    if not ACTION_PATTERN.fullmatch(values["action"]):
        raise ValueError(f"audit action {values['action']!r} is not like 'domain.thing_done'")
    for name, width in WIDTHS.items():
        if len(values[name]) > width:
            raise ValueError(f"audit {name} is longer than {width} characters")


def _plain_mapping(side: Mapping[str, Any] | None) -> dict[str, JSONValue]:
    spelled = plain(side or {})
    assert isinstance(spelled, dict)
    return spelled


async def _last_hash() -> str:
    # In the appending transaction, on its connection: SQL written once, not built per entry
    # (every audited write pays for this and the insert).
    newest = await fetch_one("SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1")
    return GENESIS_HASH if newest is None else str(newest["hash"])


async def _entries_by_id(batch_size: int) -> AsyncIterator[dict[str, Any]]:
    # Keyset pages by id: memory stays flat however long the trail grows.
    after = 0
    while True:
        batch = await AuditEntry.select().where(_id() > after).order_by(_id()).limit(batch_size)
        for row in batch:
            yield row
        if len(batch) < batch_size:
            return
        after = batch[-1]["id"]


def _fault(row: Mapping[str, Any], expected_prev: str) -> Break | None:
    # The hash first: a row whose own hash fails was itself altered; a sound row whose link
    # fails means the entry before it was removed or rewritten.
    if entry_hash(row["prev_hash"], row) != row["hash"]:
        return "hash mismatch"
    if row["prev_hash"] != expected_prev:
        return "broken link"
    return None


def _recorded(row: Mapping[str, Any], changes: dict[str, JSONValue]) -> RecordedEntry:
    """An entry just written, from what was written: its changes as computed, not parsed back
    from the text stored."""
    return _entry(row, changes)


def _entry(row: Mapping[str, Any], changes: dict[str, Any] | None = None) -> RecordedEntry:
    return RecordedEntry(
        id=row["id"],
        occurred_at=row["occurred_at"],
        actor_id=row["actor_id"],
        actor_label=row["actor_label"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        changes=parse_changes(row["changes"]) if changes is None else changes,
        client_address=row["client_address"],
        request_id=row["request_id"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def parse_changes(text: str) -> dict[str, Any]:
    # A tampered entry must still show on the staff page, as the text it now holds.
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return parsed if isinstance(parsed, dict) else {"unreadable": text}


def _id() -> Any:
    # Piccolo adds the ``id`` column when the class is built, so type checkers cannot see it.
    return AuditEntry._meta.primary_key
