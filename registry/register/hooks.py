"""What other parts of the service tell the register.

Fitness to practise owns sanctions, interim orders and concerns; the register needs to know
which restrictions are in force on an entry (they decide its status and show on the public
entry) and whether a concern is open (which blocks voluntary removal). And the other way round:
certificates, employers' watchlists and any later domain must hear of every change to an entry,
in the transaction that makes it. A domain declares its restriction sources, concern sources and
change subscribers in its manifest (:class:`registry.core.domain.Domain`); this module asks every
domain in force, so nothing depends on which modules happen to have been imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from registry.core.domain import Domain, active_domains, domains_in_force


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


@dataclass(frozen=True)
class EntryChange:
    """What the public could see change about one entry, told to every change subscriber inside
    the transaction that changed it (``status`` equals ``previous_status`` when only other
    public facts changed: a renewal, a new name).

    ``cause`` says what happened when the register knows: :data:`CREATED` for a new entry
    (``previous_status`` is then empty), an entry move's name (``renewal``, ``restoration``,
    ``lapse``, …), :data:`NAME_CHANGED`; empty for any other rewrite (an order in force, a
    renamed role)."""

    entry_id: int
    registration_number: str
    previous_status: str
    status: str
    changed_at: datetime
    cause: str = ""


@dataclass(frozen=True)
class RenewalShortfall:
    """Something a domain says is missing before an entry may renew for the next year: what
    (``12.5 / 30 hours: 17.5 more hours``), and where the practitioner puts it right."""

    text: str
    href: str
    link_text: str


CREATED = "created"
NAME_CHANGED = "name_changed"


RestrictionSource = Callable[[Sequence[int], date], Awaitable[dict[int, list[Restriction]]]]
ConcernSource = Callable[[int], Awaitable[bool]]
ChangeSubscriber = Callable[[EntryChange], Awaitable[None]]
# The same for many changes at once (a batch of imported entries), in the order they happened.
BatchChangeSubscriber = Callable[[Sequence[EntryChange]], Awaitable[None]]
# (entry id, the registration year closing, that year's first and last day) -> what is missing.
RenewalCheck = Callable[[int, int, date, date], Awaitable[list[RenewalShortfall]]]


async def restrictions_in_force(entry_ids: Sequence[int], on: date) -> dict[int, list[Restriction]]:
    found: dict[int, list[Restriction]] = {entry_id: [] for entry_id in entry_ids}
    found.update(await restrictions_of(entry_ids, on))
    return found


async def restrictions_of(entry_ids: Sequence[int], on: date) -> dict[int, list[Restriction]]:
    """:func:`restrictions_in_force` for only the entries with some: for a long list, most of
    which have none (a bulk check's 10,000 ids, where an empty list for each cost more than the
    statements that found them)."""
    found: dict[int, list[Restriction]] = {}
    for domain in active_domains():
        for source in domain.restriction_sources:
            for entry_id, restrictions in (await source(entry_ids, on)).items():
                if restrictions:
                    found.setdefault(entry_id, []).extend(restrictions)
    return found


async def has_open_concern(practitioner_id: int) -> bool:
    for domain in active_domains():
        for source in domain.concern_sources:
            if await source(practitioner_id):
                return True
    return False


async def renewal_shortfalls(
    entry_id: int, year: int, first: date, last: date
) -> list[RenewalShortfall]:
    """Everything every domain says is missing before the entry may renew after ``year``."""
    missing: list[RenewalShortfall] = []
    for domain in active_domains():
        for check in domain.renewal_checks:
            missing.extend(await check(entry_id, year, first, last))
    return missing


async def entry_changed(change: EntryChange) -> None:
    for domain in active_domains():
        for subscriber in domain.change_subscribers:
            await subscriber(change)


async def entries_changed(changes: Sequence[EntryChange]) -> None:
    """:func:`entry_changed` for each of ``changes``: a domain with batch subscribers has them
    told once of the lot (they stand for all its change subscribers); any other domain's
    subscribers are told of each change in turn."""
    if not changes:
        return
    for domain in active_domains():
        if domain.batch_change_subscribers:
            for batch_subscriber in domain.batch_change_subscribers:
                await batch_subscriber(changes)
            continue
        for change in changes:
            for subscriber in domain.change_subscribers:
                await subscriber(change)


@contextlib.contextmanager
def extra_sources(
    *,
    restriction_sources: Sequence[RestrictionSource] = (),
    concern_sources: Sequence[ConcernSource] = (),
    change_subscribers: Sequence[ChangeSubscriber] = (),
    batch_change_subscribers: Sequence[BatchChangeSubscriber] = (),
    renewal_checks: Sequence[RenewalCheck] = (),
) -> Iterator[None]:
    """For tests: the service's domains plus one more with these hooks, inside the block."""
    extra = Domain(
        name="test_hooks",
        restriction_sources=restriction_sources,
        concern_sources=concern_sources,
        change_subscribers=change_subscribers,
        batch_change_subscribers=batch_change_subscribers,
        renewal_checks=renewal_checks,
    )
    with domains_in_force([*active_domains(), extra]):
        yield
