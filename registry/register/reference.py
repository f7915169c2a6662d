"""The register's reference data: designated roles, regions and qualification types.

The rules (permanent codes, names that change, items retired rather than deleted) are the
shared ones of :mod:`registry.core.reference`; the register declares its three lists here, and
rewrites the public entries that show a name when it changes, in the same transaction, so the
public register never shows the old name after the change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from registry.core import clock
from registry.core import reference as shared
from registry.core.reference import ReferenceItem, ReferenceList
from registry.register import service
from registry.register.tables import (
    DesignatedRole,
    EntryQualification,
    EntryRole,
    QualificationType,
    Region,
    RegisterEntry,
)

__all__ = ["LISTS", "TABLES", "ReferenceItem", "ReferenceKind"]


class ReferenceKind(StrEnum):
    roles = "roles"
    regions = "regions"
    qualifications = "qualifications"


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


def _rewriting(kind: ReferenceKind) -> Any:
    async def rewrite_public_entries(item_id: int) -> None:
        today = clock.now().date()
        for entry_id in await _entries_using(kind, item_id):
            await service.refresh_entry(entry_id, today)

    return rewrite_public_entries


LISTS: dict[ReferenceKind, ReferenceList] = {
    ReferenceKind.roles: ReferenceList(
        "roles",
        "Designated roles",
        "designated role",
        DesignatedRole,
        "register",
        "SELECT role AS item, COUNT(*) AS n FROM register_entry_role GROUP BY role",
        renamed=_rewriting(ReferenceKind.roles),
    ),
    ReferenceKind.regions: ReferenceList(
        "regions",
        "Regions",
        "region",
        Region,
        "register",
        "SELECT region AS item, COUNT(*) AS n FROM register_entry GROUP BY region",
        renamed=_rewriting(ReferenceKind.regions),
    ),
    ReferenceKind.qualifications: ReferenceList(
        "qualifications",
        "Qualification types",
        "qualification type",
        QualificationType,
        "register",
        "SELECT qualification_type AS item, COUNT(*) AS n"
        " FROM register_entry_qualification GROUP BY qualification_type",
        renamed=_rewriting(ReferenceKind.qualifications),
    ),
}
TABLES: dict[ReferenceKind, Any] = {kind: each.table for kind, each in LISTS.items()}


async def list_items(kind: ReferenceKind) -> list[ReferenceItem]:
    return await shared.list_items(LISTS[kind])


async def get_item(kind: ReferenceKind, code: str) -> ReferenceItem:
    return await shared.get_item(LISTS[kind], code)


async def add_item(kind: ReferenceKind, code: str, name: str) -> ReferenceItem:
    return await shared.add_item(LISTS[kind], code, name)


async def update_item(kind: ReferenceKind, code: str, *, name: str, active: bool) -> ReferenceItem:
    return await shared.update_item(LISTS[kind], code, name=name, active=active)
