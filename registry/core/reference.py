"""Reference data any domain keeps: short lists admins add to, rename and retire.

A domain declares each of its lists once, as a :class:`ReferenceList` in its manifest
(``Domain.reference_lists``): the register its designated roles, regions and qualification
types, CPD its standards and practice areas. One set of rules serves them all, and the admin
pages at ``/admin/reference`` show every list in force.

Codes are permanent (the API, imports and open data use them); names can change and entries can
be retired from new use, never deleted, so every record that names one keeps its history. A
domain that shows a name elsewhere (the register's public entries) rewrites it on a rename,
through ``renamed``, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from registry.audit import service as audit
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, NotFound

CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_NAME = 120


@dataclass(frozen=True)
class ReferenceList:
    """One list: its table (``code``, ``name``, ``active``, ``sort_order`` columns), what people
    call it, and how to count the records that use each item."""

    kind: str  # its address: /admin/reference/<kind>
    title: str  # "Designated roles"
    singular: str  # "designated role"
    table: Any  # a Piccolo table with code, name, active and sort_order
    audit_prefix: str  # the domain's name: "register" records register.reference_added
    # SELECT <column> AS item, COUNT(*) AS n FROM <table using it> GROUP BY <column>
    usage_sql: str
    used_by: str = "Register entries"  # the heading of the usage column
    in_use_question: str = "Can new applications and entries use it?"
    renamed_note: str = "A new name shows on their public entries at once."
    # Called with an item's id inside the transaction that renames it.
    renamed: Callable[[int], Awaitable[None]] | None = None


@dataclass(frozen=True)
class ReferenceItem:
    id: int
    code: str
    name: str
    active: bool
    in_use: int  # records that carry it


def reference_lists() -> dict[str, ReferenceList]:
    """Every list the domains in force declare, by kind, in declaration order."""
    from registry.core.domain import active_domains  # late: domain.py names this module

    found: dict[str, ReferenceList] = {}
    for domain in active_domains():
        for each in domain.reference_lists:
            if each.kind in found:
                raise ValueError(f"reference list {each.kind!r} is declared twice")
            found[each.kind] = each
    return found


def reference_list(kind: str) -> ReferenceList:
    found = reference_lists().get(kind)
    if found is None:
        raise NotFound("There is no such list of reference data")
    return found


async def list_items(of: ReferenceList) -> list[ReferenceItem]:
    table = of.table
    rows = await table.select().order_by(table.sort_order).order_by(table.id)
    usage = await _usage(of)
    return [_item(row, usage) for row in rows]


async def get_item(of: ReferenceList, code: str) -> ReferenceItem:
    table = of.table
    row = await table.select().where(table.code == code).first()
    if row is None:
        raise NotFound(f"There is no {of.singular} with the code {code}")
    return _item(row, await _usage(of))


async def add_item(of: ReferenceList, code: str, name: str) -> ReferenceItem:
    code, name = code.strip().lower(), _check_name(name)
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidInput(
            "The code must be 2 to 40 lower-case letters, digits or underscores, starting "
            "with a letter, like east_of_england",
            field="code",
        )
    table = of.table
    async with transaction():
        if await table.exists().where(table.code == code):
            raise Conflict(f"There is already a {of.singular} with the code {code}", field="code")
        await _refuse_same_name(of, name)
        last = (
            await table.select(table.sort_order).order_by(table.sort_order, ascending=False).first()
        )
        order = (last["sort_order"] if last else 0) + 1
        await table.insert(table(code=code, name=name, active=True, sort_order=order))
        await audit.record(
            f"{of.audit_prefix}.reference_added", of.kind, code, after={"name": name}
        )
    return await get_item(of, code)


async def update_item(of: ReferenceList, code: str, *, name: str, active: bool) -> ReferenceItem:
    name = _check_name(name)
    table = of.table
    async with transaction():
        before = await get_item(of, code)
        if active:
            await _refuse_same_name(of, name, other_than=code)
        await table.update({table.name: name, table.active: active}).where(table.code == code)
        if name != before.name and of.renamed is not None:
            await of.renamed(before.id)
        await audit.record(
            f"{of.audit_prefix}.reference_changed",
            of.kind,
            code,
            before={"name": before.name, "active": before.active},
            after={"name": name, "active": active},
        )
    return await get_item(of, code)


def _item(row: dict[str, Any], usage: dict[int, int]) -> ReferenceItem:
    return ReferenceItem(
        row["id"], row["code"], row["name"], row["active"], usage.get(row["id"], 0)
    )


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Enter a name", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The name must be {MAX_NAME} characters or fewer", field="name")
    return name


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


async def _refuse_same_name(of: ReferenceList, name: str, *, other_than: str = "") -> None:
    """Two items in use with one name could not be told apart in a list to choose from; a
    retired item's name may be reused."""
    table = of.table
    rows = await table.select(table.code, table.name).where(table.active.eq(True))
    for row in rows:
        if row["code"] != other_than and _same_name(row["name"]) == _same_name(name):
            raise Conflict(f"There is already a {of.singular} called {row['name']}", field="name")


async def _usage(of: ReferenceList) -> dict[int, int]:
    return {int(row["item"]): int(row["n"]) for row in await of.table.raw(of.usage_sql)}
