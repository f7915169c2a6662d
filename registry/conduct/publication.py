"""What the public sees of fitness to practise: decisions published for the life of their
sanction (a removal's indefinitely), withdrawn when it ends or is revoked; interim orders while
in force; hearings in the next eight weeks (public or private, never what they are about)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from registry.conduct import limits
from registry.conduct.decision_pdf import DecisionFacts
from registry.conduct.interim_orders import InterimRecord, orders_of
from registry.conduct.service import SanctionRecord, sanction_record
from registry.conduct.tables import (
    SANCTION_LABELS,
    Case,
    InterimOrder,
    Sanction,
    SanctionKind,
    Stage,
)
from registry.core import clock
from registry.errors import NotFound
from registry.register import service as register

PUBLISHED_KINDS = [
    SanctionKind.warning.value,
    SanctionKind.conditions.value,
    SanctionKind.suspension.value,
    SanctionKind.removal.value,
]


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class Published:
    sanction: SanctionRecord
    decided_on: date


def _published(row: dict[str, Any]) -> Published:
    decided: datetime = row["decided_at"]
    return Published(sanction_record(row), decided.date())


def _live(today: date) -> Any:
    return (
        Sanction.kind.is_in(PUBLISHED_KINDS)
        & (Sanction.starts_on <= today)
        & (Sanction.ends_on.is_null() | (Sanction.ends_on >= today))
        & (Sanction.revoked_on.is_null() | (Sanction.revoked_on > today))
    )


async def decisions(number: str) -> tuple[str, list[Published], list[InterimRecord]]:
    """The entry's published decisions and interim orders in force (NotFound: no such entry)."""
    entry_id = await register.entry_id_for(number)
    today = clock.now().date()
    rows = await Sanction.select().where((Sanction.entry == entry_id) & _live(today))
    interim_rows = (
        await InterimOrder.select(InterimOrder.case)
        .where(InterimOrder.entry == entry_id)
        .distinct()
    )
    interim = [
        order
        for row in interim_rows
        for order in await orders_of(row["case"])
        if order.entry_id == entry_id and order.in_force(today)
    ]
    entry = await register.get_entry(entry_id)
    return entry.registration_number, [_published(dict(row)) for row in rows], interim


async def decision(number: str, sanction_id: int) -> Published:
    entry_id = await register.entry_id_for(number)
    row = (
        await Sanction.select()
        .where(
            (Sanction.id == sanction_id) & (Sanction.entry == entry_id) & _live(clock.now().date())
        )
        .first()
    )
    if row is None:
        raise NotFound("There is no such published decision")
    return _published(dict(row))


async def decision_document(number: str, sanction_id: int, base_url: str) -> DecisionFacts:
    """What a published decision's PDF states; not found once it is no longer published (the
    same rule as its page)."""
    published = await decision(number, sanction_id)
    entry = await register.get_entry(await register.entry_id_for(number))
    sanction = published.sanction
    path = f"/register/{entry.registration_number}/decisions/{sanction.id}"
    return DecisionFacts(
        decision_id=sanction.id,
        label=SANCTION_LABELS[sanction.kind],
        practitioner_name=entry.public.name,
        registration_number=entry.registration_number,
        decided_on=published.decided_on,
        starts_on=sanction.starts_on,
        ends_on=sanction.ends_on,
        summary=sanction.summary,
        conditions=sanction.conditions,
        page_url=base_url.rstrip("/") + path,
    )


@dataclass(frozen=True)
class ListedHearing:
    registration_number: str
    practitioner_name: str
    hearing_on: date
    private: bool
    remote: bool
    venue: str


async def hearings() -> list[ListedHearing]:
    today = clock.now().date()
    until = today + timedelta(weeks=limits.HEARINGS_AHEAD_WEEKS)
    rows = (
        await Case.select(
            Case.hearing_on,
            Case.hearing_private,
            Case.hearing_remote,
            Case.hearing_venue,
            Case.entry.registration_number.as_alias("number"),
            Case.entry._.practitioner._.given_names.as_alias("given"),
            Case.entry._.practitioner._.family_name.as_alias("family"),
        )
        .where(
            (Case.stage == Stage.hearing.value)
            & Case.entry.is_not_null()
            & (Case.hearing_on >= today)
            & (Case.hearing_on <= until)
        )
        .order_by(Case.hearing_on)
    )
    found = []
    for row in rows:
        on = _date(row["hearing_on"])
        assert on is not None
        private = bool(row["hearing_private"])
        found.append(
            ListedHearing(
                registration_number=row["number"],
                practitioner_name=f"{row['given']} {row['family']}",
                hearing_on=on,
                private=private,
                remote=bool(row["hearing_remote"]),
                venue="" if private else row["hearing_venue"],
            )
        )
    return found
