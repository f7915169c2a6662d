"""What other parts of the service tell the register.

Fitness to practise owns sanctions, interim orders and concerns; the register needs to know
which restrictions are in force on an entry (they decide its status and show on the public
entry) and whether a concern is open (which blocks voluntary removal). Each domain registers a
source here when it lands; until then there are none, and nothing is restricted or open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class RestrictionKind(StrEnum):
    interim_conditions = "interim_conditions"
    interim_suspension = "interim_suspension"
    conditions = "conditions"
    suspension = "suspension"
    warning = "warning"


SUSPENDING = {RestrictionKind.suspension, RestrictionKind.interim_suspension}
CONDITIONAL = {RestrictionKind.conditions, RestrictionKind.interim_conditions}


@dataclass(frozen=True)
class Restriction:
    kind: RestrictionKind
    summary: str  # what the public entry says, e.g. "Must work under supervision"
    starts_on: date
    ends_on: date | None
    decision_url: str  # the published decision


RestrictionSource = Callable[[Sequence[int], date], Awaitable[dict[int, list[Restriction]]]]
ConcernSource = Callable[[int], Awaitable[bool]]

_restriction_sources: list[RestrictionSource] = []
_concern_sources: list[ConcernSource] = []


def add_restriction_source(source: RestrictionSource) -> None:
    _restriction_sources.append(source)


def add_concern_source(source: ConcernSource) -> None:
    _concern_sources.append(source)


async def restrictions_in_force(entry_ids: Sequence[int], on: date) -> dict[int, list[Restriction]]:
    found: dict[int, list[Restriction]] = {entry_id: [] for entry_id in entry_ids}
    for source in _restriction_sources:
        for entry_id, restrictions in (await source(entry_ids, on)).items():
            found.setdefault(entry_id, []).extend(restrictions)
    return found


async def has_open_concern(practitioner_id: int) -> bool:
    return any([await source(practitioner_id) for source in _concern_sources])
