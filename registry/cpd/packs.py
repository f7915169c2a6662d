"""Rule packs: the CPD requirement of a registration year, with the date it takes effect.

An activity is judged under the pack in force on its date. A pack is never edited: a change to
the requirement is a new pack, in force from a later date. New packs start after today (and
after every pack already made), so no activity already logged ever changes pack, and a pack in
use is never rewritten under anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.cpd.schemas import RulePackIn, hours_text
from registry.cpd.tables import ActivityType, RulePack
from registry.db import serialise_on, transaction
from registry.errors import Conflict, InvalidInput, NotFound

PACK_LOCK = 0x0C9D_0001  # one new pack at a time, so two cannot both take the next date


@dataclass(frozen=True)
class Pack:
    id: int
    name: str
    effective_from: date
    min_total_quarters: int
    min_participatory_quarters: int
    min_reflective_accounts: int
    min_peer_reflections: int
    min_practice_areas: int
    capped_type: ActivityType | None
    cap_quarters: int | None
    created_at: datetime

    @property
    def cap_label(self) -> str:
        if self.capped_type is None or self.cap_quarters is None:
            return ""
        return f"{hours_text(self.cap_quarters)} hours"


def _pack(row: dict[str, Any]) -> Pack:
    capped = str(row["capped_type"] or "")
    return Pack(
        id=int(row["id"]),
        name=str(row["name"]),
        effective_from=as_date(row["effective_from"]),
        min_total_quarters=int(row["min_total_quarters"]),
        min_participatory_quarters=int(row["min_participatory_quarters"]),
        min_reflective_accounts=int(row["min_reflective_accounts"]),
        min_peer_reflections=int(row["min_peer_reflections"]),
        min_practice_areas=int(row["min_practice_areas"]),
        capped_type=ActivityType(capped) if capped else None,
        cap_quarters=int(row["cap_quarters"]) if row["cap_quarters"] is not None else None,
        created_at=row["created_at"],
    )


def as_date(value: object) -> date:
    """A date column as read on either engine (a raw read on SQLite may give its text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def list_packs() -> list[Pack]:
    """Every pack, the newest start first."""
    rows = await RulePack.select().order_by(RulePack.effective_from, ascending=False)
    return [_pack(row) for row in rows]


async def get_pack(pack_id: int) -> Pack:
    row = await RulePack.select().where(RulePack.id == pack_id).first()
    if row is None:
        raise NotFound("There is no such rule pack")
    return _pack(row)


async def pack_on(day: date) -> Pack:
    """The pack in force on ``day``."""
    row = (
        await RulePack.select()
        .where(RulePack.effective_from <= day)
        .order_by(RulePack.effective_from, ascending=False)
        .first()
    )
    if row is None:  # the migration's pack starts in 1900: only a broken database gets here
        raise NotFound(f"No CPD rule pack is in force on {day.isoformat()}")
    return _pack(row)


async def create_pack(data: RulePackIn, *, by_user_id: int | None) -> Pack:
    """A new pack from ``data.effective_from``, which must be after today and after the start of
    every pack already made: packs are superseded, never edited."""
    today = clock.now().date()
    if data.effective_from <= today:
        raise InvalidInput(
            "The date it comes into force must be in the future: a pack already judging "
            "activities cannot be changed, only superseded from a later date",
            field="effective_from",
        )
    async with transaction():
        await serialise_on(RulePack, PACK_LOCK)
        latest = (
            await RulePack.select(RulePack.effective_from)
            .order_by(RulePack.effective_from, ascending=False)
            .first()
        )
        if latest is not None and data.effective_from <= as_date(latest["effective_from"]):
            raise Conflict(
                "A pack already comes into force on or after that date: choose a later date",
                field="effective_from",
            )
        values: dict[str, Any] = {
            "name": data.name,
            "effective_from": data.effective_from,
            "min_total_quarters": _quarters(data.min_total_hours),
            "min_participatory_quarters": _quarters(data.min_participatory_hours),
            "min_reflective_accounts": data.min_reflective_accounts,
            "min_peer_reflections": data.min_peer_reflections,
            "min_practice_areas": data.min_practice_areas,
            "capped_type": data.capped_type.value if data.capped_type else "",
            "cap_quarters": _quarters(data.cap_hours) if data.cap_hours is not None else None,
        }
        inserted = await RulePack.insert(
            RulePack(**values, created_at=clock.now().astimezone(UTC), created_by=by_user_id)
        ).returning(RulePack.id)
        pack_id = int(inserted[0]["id"])
        await audit.record(
            "cpd.rule_pack_created",
            "cpd_rule_pack",
            pack_id,
            after={key: str(value) for key, value in values.items()},
        )
    return await get_pack(pack_id)


def _quarters(hours: Decimal) -> int:
    return int(hours * 4)
