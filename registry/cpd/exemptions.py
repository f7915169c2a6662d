"""Exemptions from the CPD requirement, and the renewal's check that the closing year is met.

A practitioner asks to be excused for some days (parental leave, long-term sickness, or another
reason they give); a registrar grants or refuses. A granted exemption shrinks every target of
the registration years it falls in pro rata by the days it covers (``scaled``): half a year
exempt, half the hours and half the accounts, rounded up to the next quarter hour or whole
account so an exemption never excuses more than its days. Overlapping exemptions count each day
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from registry.audit import service as audit
from registry.core import clock
from registry.cpd import activities, packs
from registry.cpd.schemas import ExemptionIn
from registry.cpd.tables import Exemption, ExemptionKind, ExemptionState
from registry.db import lock_row, transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register.tables import RegisterEntry

TARGET = "cpd_exemption"
NOT_FOUND = "There is no such exemption"
REQUESTED_PAGE = "/cpd/exemptions/new"


@dataclass(frozen=True)
class ExemptionRecord:
    id: int
    practitioner_id: int
    registration_number: str
    name: str
    kind: ExemptionKind
    reason: str
    starts_on: date
    ends_on: date
    state: ExemptionState
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


_COLUMNS = (
    Exemption.id,
    Exemption.practitioner,
    Exemption.kind,
    Exemption.reason,
    Exemption.starts_on,
    Exemption.ends_on,
    Exemption.state,
    Exemption.requested_at,
    Exemption.decided_at,
    Exemption.decision_reason,
    Exemption.practitioner.given_names.as_alias("given_names"),
    Exemption.practitioner.family_name.as_alias("family_name"),
)


async def _numbers(practitioner_ids: set[int]) -> dict[int, str]:
    if not practitioner_ids:
        return {}
    rows = await RegisterEntry.select(
        RegisterEntry.practitioner, RegisterEntry.registration_number
    ).where(RegisterEntry.practitioner.is_in(list(practitioner_ids)))
    return {row["practitioner"]: row["registration_number"] for row in rows}


async def _records(rows: list[dict[str, Any]]) -> list[ExemptionRecord]:
    numbers = await _numbers({row["practitioner"] for row in rows})
    return [
        ExemptionRecord(
            id=row["id"],
            practitioner_id=row["practitioner"],
            registration_number=numbers.get(row["practitioner"], ""),
            name=f"{row['given_names']} {row['family_name']}",
            kind=ExemptionKind(row["kind"]),
            reason=row["reason"],
            starts_on=packs.as_date(row["starts_on"]),
            ends_on=packs.as_date(row["ends_on"]),
            state=ExemptionState(row["state"]),
            requested_at=row["requested_at"],
            decided_at=row["decided_at"],
            decision_reason=row["decision_reason"],
        )
        for row in rows
    ]


# --- the practitioner ---------------------------------------------------------------------


async def request(account_id: int, data: ExemptionIn) -> ExemptionRecord:
    owner = await activities.owner_of(account_id)
    if data.ends_on < owner.registered_since:
        raise InvalidInput(
            "The exemption must cover days after you joined the register, "
            f"{owner.registered_since:%-d %B %Y}",
            field="ends_on",
        )
    async with transaction():
        inserted = await Exemption.insert(
            Exemption(
                practitioner=owner.practitioner_id,
                kind=data.kind.value,
                reason=data.reason,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                state=ExemptionState.requested.value,
                requested_at=clock.now().astimezone(UTC),
                requested_by=account_id,
            )
        ).returning(Exemption.id)
        exemption_id = int(inserted[0]["id"])
        await audit.record(
            "cpd.exemption_requested",
            TARGET,
            exemption_id,
            after={
                "kind": data.kind.value,
                "starts_on": str(data.starts_on),
                "ends_on": str(data.ends_on),
            },
        )
    return await get(exemption_id)


async def list_own(account_id: int) -> list[ExemptionRecord]:
    owner = await activities.owner_of(account_id)
    rows = (
        await Exemption.select(*_COLUMNS)
        .where(Exemption.practitioner == owner.practitioner_id)
        .order_by(Exemption.starts_on, ascending=False)
    )
    return await _records(rows)


# --- the registrar ------------------------------------------------------------------------


async def get(exemption_id: int) -> ExemptionRecord:
    rows = await Exemption.select(*_COLUMNS).where(Exemption.id == exemption_id)
    if not rows:
        raise NotFound(NOT_FOUND)
    return (await _records(rows))[0]


async def list_all(*, waiting_only: bool = False) -> list[ExemptionRecord]:
    """Requests waiting first, oldest first; then decided ones, newest first."""
    query = Exemption.select(*_COLUMNS)
    if waiting_only:
        query = query.where(Exemption.state == ExemptionState.requested.value)
    rows = await query.order_by(Exemption.requested_at)
    waiting = [row for row in rows if row["state"] == ExemptionState.requested.value]
    decided = [row for row in rows if row["state"] != ExemptionState.requested.value]
    decided.sort(key=lambda row: row["decided_at"], reverse=True)
    return await _records(waiting + decided)


async def decide(
    exemption_id: int, *, grant: bool, reason: str, by_user_id: int
) -> ExemptionRecord:
    """Grant or refuse a request once; a refusal must say why."""
    reason = reason.strip()
    if not grant and not reason:
        raise InvalidInput("Say why the exemption is refused", field="reason")
    async with transaction():
        await lock_row(Exemption, exemption_id)
        current = await get(exemption_id)
        if current.state is not ExemptionState.requested:
            raise Conflict(f"This exemption has already been {current.state.value}")
        state = ExemptionState.granted if grant else ExemptionState.refused
        await Exemption.update(
            {
                Exemption.state: state.value,
                Exemption.decided_at: clock.now().astimezone(UTC),
                Exemption.decided_by: by_user_id,
                Exemption.decision_reason: reason,
            }
        ).where(Exemption.id == exemption_id)
        await audit.record(
            f"cpd.exemption_{state.value}",
            TARGET,
            exemption_id,
            before={"state": current.state.value},
            after={"state": state.value, "reason": reason},
        )
    return await get(exemption_id)


# --- pro rata -----------------------------------------------------------------------------


async def granted_spans(practitioner_id: int, first: date, last: date) -> list[tuple[date, date]]:
    """The (first day, last day) of each granted exemption touching ``first`` to ``last``."""
    rows = await Exemption.select(Exemption.starts_on, Exemption.ends_on).where(
        (Exemption.practitioner == practitioner_id)
        & (Exemption.state == ExemptionState.granted.value)
        & (Exemption.starts_on <= last)
        & (Exemption.ends_on >= first)
    )
    return [(packs.as_date(row["starts_on"]), packs.as_date(row["ends_on"])) for row in rows]


def days_covered(granted: list[tuple[date, date]], first: date, last: date) -> int:
    """Days from ``first`` to ``last`` inside any of the ``granted`` spans, each counted once."""
    spans = sorted((max(start, first), min(end, last)) for start, end in granted)
    days = 0
    reached = first - timedelta(days=1)  # the last day already counted
    for start, end in spans:
        start = max(start, reached + timedelta(days=1))
        if end >= start:
            days += (end - start).days + 1
            reached = end
    return days


async def exempt_days(practitioner_id: int, first: date, last: date) -> int:
    """Days from ``first`` to ``last`` covered by a granted exemption, each day counted once."""
    return days_covered(await granted_spans(practitioner_id, first, last), first, last)


def scaled(target: int, days: int, exempt: int) -> int:
    """``target`` for the ``days - exempt`` days not exempt, rounded up (whole units)."""
    if days <= 0:
        return target
    remaining = max(0, days - exempt)
    return -(-target * remaining // days)
