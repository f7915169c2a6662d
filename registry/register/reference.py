"""Reference data for admins: designated roles, regions and qualification types.

Codes are permanent (the API, imports and open data use them); names can change and entries can
be retired from new use. Renaming rewrites the public entries that show the name, in the same
transaction, so the public register never shows the old name after the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import service
from registry.register.tables import (
    DesignatedRole,
    EntryQualification,
    EntryRole,
    QualificationType,
    Region,
    RegisterEntry,
)

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,39}")


class ReferenceKind(StrEnum):
    roles = "roles"
    regions = "regions"
    qualifications = "qualifications"


TABLES: dict[ReferenceKind, Any] = {
    ReferenceKind.roles: DesignatedRole,
    ReferenceKind.regions: Region,
    ReferenceKind.qualifications: QualificationType,
}
LABELS = {
    ReferenceKind.roles: ("Designated roles", "designated role"),
    ReferenceKind.regions: ("Regions", "region"),
    ReferenceKind.qualifications: ("Qualification types", "qualification type"),
}


@dataclass(frozen=True)
class ReferenceItem:
    id: int
    code: str
    name: str
    active: bool
    in_use: int  # entries that carry it


async def list_items(kind: ReferenceKind) -> list[ReferenceItem]:
    table = TABLES[kind]
    rows = await table.select().order_by(table.sort_order).order_by(table.id)
    usage = await _usage(kind)
    return [
        ReferenceItem(r["id"], r["code"], r["name"], r["active"], usage.get(r["id"], 0))
        for r in rows
    ]


async def add_item(kind: ReferenceKind, code: str, name: str) -> ReferenceItem:
    code, name = code.strip().lower(), _check_name(name)
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput(
            "The code must be 2 to 40 lower-case letters, digits or underscores, starting "
            "with a letter, like east_of_england",
            field="code",
        )
    table = TABLES[kind]
    async with transaction():
        if await table.exists().where(table.code == code):
            raise Conflict(
                f"There is already a {LABELS[kind][1]} with the code {code}", field="code"
            )
        await _refuse_same_name(kind, name)
        last = (
            await table.select(table.sort_order).order_by(table.sort_order, ascending=False).first()
        )
        order = (last["sort_order"] if last else 0) + 1
        await table.insert(table(code=code, name=name, active=True, sort_order=order))
        await audit.record("register.reference_added", kind.value, code, after={"name": name})
    return await get_item(kind, code)


async def update_item(kind: ReferenceKind, code: str, *, name: str, active: bool) -> ReferenceItem:
    name = _check_name(name)
    table = TABLES[kind]
    async with transaction():
        before = await get_item(kind, code)
        if active:
            await _refuse_same_name(kind, name, other_than=code)
        await table.update({table.name: name, table.active: active}).where(table.code == code)
        if name != before.name:
            await _rewrite_public_entries(kind, before.id)
        await audit.record(
            "register.reference_changed",
            kind.value,
            code,
            before={"name": before.name, "active": before.active},
            after={"name": name, "active": active},
        )
    return await get_item(kind, code)


async def get_item(kind: ReferenceKind, code: str) -> ReferenceItem:
    table = TABLES[kind]
    row = await table.select().where(table.code == code).first()
    if row is None:
        raise NotFound(f"There is no {LABELS[kind][1]} with the code {code}")
    usage = await _usage(kind)
    return ReferenceItem(
        row["id"], row["code"], row["name"], row["active"], usage.get(row["id"], 0)
    )


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Enter a name", field="name")
    if len(name) > 120:
        raise InvalidInput("The name must be 120 characters or fewer", field="name")
    return name


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


async def _refuse_same_name(kind: ReferenceKind, name: str, *, other_than: str = "") -> None:
    """Two items in use with one name could not be told apart in a list to choose from; a
    retired item's name may be reused."""
    table = TABLES[kind]
    rows = await table.select(table.code, table.name).where(table.active.eq(True))
    for row in rows:
        if row["code"] != other_than and _same_name(row["name"]) == _same_name(name):
            raise Conflict(
                f"There is already a {LABELS[kind][1]} called {row['name']}", field="name"
            )


async def _entries_using(kind: ReferenceKind, item_id: int) -> list[int]:
    if kind is ReferenceKind.regions:
        rows = await RegisterEntry.select(RegisterEntry.id).where(RegisterEntry.region == item_id)
    elif kind is ReferenceKind.roles:
        rows = await EntryRole.select(EntryRole.entry.as_alias("id")).where(
            EntryRole.role == item_id
        )
    else:
        rows = await EntryQualification.select(EntryQualification.entry.as_alias("id")).where(
            EntryQualification.qualification_type == item_id
        )
    return sorted({row["id"] for row in rows})


async def _rewrite_public_entries(kind: ReferenceKind, item_id: int) -> None:
    today = clock.now().date()
    for entry_id in await _entries_using(kind, item_id):
        await service.refresh_entry(entry_id, today)


async def _usage(kind: ReferenceKind) -> dict[int, int]:
    if kind is ReferenceKind.regions:
        sql = "SELECT region AS item, COUNT(*) AS n FROM register_entry GROUP BY region"
    elif kind is ReferenceKind.roles:
        sql = "SELECT role AS item, COUNT(*) AS n FROM register_entry_role GROUP BY role"
    else:
        sql = (
            "SELECT qualification_type AS item, COUNT(*) AS n"
            " FROM register_entry_qualification GROUP BY qualification_type"
        )
    return {int(row["item"]): int(row["n"]) for row in await RegisterEntry.raw(sql)}
