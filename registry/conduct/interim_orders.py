"""Interim orders: conditions or a suspension while a case runs, to protect the public before
anything is decided.

An adjudicator (an interim orders panel) may make one at any stage after triage, for up to 18
months, taking effect at once; it is reviewed within 6 months and every 6 months after; a review
continues, revokes or extends it, and an extension beyond 18 months in all needs a court's order,
whose reference is recorded. Each change rewrites the register's entry in its transaction, and
every change is a case event, made against the case's version like a move of the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from enum import StrEnum
from typing import Any

from registry.audit import service as audit
from registry.conduct import limits
from registry.conduct.sanctions import add_months
from registry.conduct.tables import INTERIM_LABELS, InterimKind, InterimOrder, Stage
from registry.conduct.workflow import (
    ADJUDICATOR,
    Mover,
    add_event,
    bump,
    get_case,
)
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.register import service as register

# Any stage after triage, while the case is open.
INTERIM_STAGES = frozenset(
    {
        Stage.investigation,
        Stage.case_examiners,
        Stage.accepted_outcome,
        Stage.hearing,
        Stage.decided,
        Stage.review,
    }
)
NOT_FOUND = "There is no such interim order"


class ReviewOutcome(StrEnum):
    continue_order = "continue"
    extend = "extend"
    revoke = "revoke"


@dataclass(frozen=True)
class InterimRecord:
    id: int
    case_id: int
    entry_id: int
    kind: InterimKind
    conditions: str
    starts_on: date
    ends_on: date
    next_review_on: date
    court_order_reference: str
    revoked_on: date | None

    @property
    def label(self) -> str:
        return INTERIM_LABELS[self.kind]

    def in_force(self, today: date) -> bool:
        return self.starts_on <= today <= self.ends_on and (
            self.revoked_on is None or today < self.revoked_on
        )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _record(row: Mapping[str, Any]) -> InterimRecord:
    return InterimRecord(
        id=row["id"],
        case_id=row["case"],
        entry_id=row["entry"],
        kind=InterimKind(row["kind"]),
        conditions=row["conditions"],
        starts_on=_date(row["starts_on"]),
        ends_on=_date(row["ends_on"]),
        next_review_on=_date(row["next_review_on"]),
        court_order_reference=row["court_order_reference"],
        revoked_on=_date(row["revoked_on"]) if row["revoked_on"] else None,
    )


async def orders_of(case_id: int) -> list[InterimRecord]:
    rows = await InterimOrder.select().where(InterimOrder.case == case_id).order_by(InterimOrder.id)
    return [_record(row) for row in rows]


def _check_adjudicator(by: Mover) -> None:
    if not (ADJUDICATOR & by.roles):
        raise PermissionDenied("Interim orders are made and reviewed by adjudicators only")


def parse_kind(value: str) -> InterimKind:
    try:
        return InterimKind(value)
    except ValueError:
        raise InvalidInput(
            f"'{value[:40]}' is not an interim order. Choose interim_conditions or "
            "interim_suspension",
            field="kind",
        ) from None


def _end_for(starts: date, months: int, court_order_reference: str) -> date:
    """The last day of an order ``months`` long from ``starts``: beyond 18 months only with a
    court's order."""
    if months < 1:
        raise InvalidInput("An interim order lasts at least 1 month", field="months")
    if months > limits.INTERIM_MAX_MONTHS and not court_order_reference:
        raise InvalidInput(
            f"An interim order lasts {limits.INTERIM_MAX_MONTHS} months at most; longer needs "
            "a court's order: give its reference",
            field="months",
        )
    if months > 120:
        raise InvalidInput("An interim order cannot run for more than 10 years", field="months")
    return add_months(starts, months) - timedelta(days=1)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Enter the reason", field="reason")
    if len(reason) > limits.MAX_TEXT:
        raise InvalidInput("The reason must be 10,000 characters or fewer", field="reason")
    return reason


def _court_reference(value: str) -> str:
    value = value.strip()
    if len(value) > 100:
        raise InvalidInput(
            "The court order reference must be 100 characters or fewer",
            field="court_order_reference",
        )
    return value


async def make(
    case_id: int,
    kind: InterimKind,
    *,
    months: int,
    conditions: str,
    reason: str,
    by: Mover,
    version: int,
    court_order_reference: str = "",
) -> InterimRecord:
    """Make an interim order on the case, in force from today: the entry changes now."""
    _check_adjudicator(by)
    reason = _reason(reason)
    conditions = conditions.strip()
    if kind is InterimKind.interim_conditions and not conditions:
        raise InvalidInput("Enter the conditions the practitioner must meet", field="conditions")
    if kind is InterimKind.interim_suspension and conditions:
        raise InvalidInput("Only interim conditions carry conditions", field="conditions")
    if len(conditions) > limits.MAX_TEXT:
        raise InvalidInput("The conditions must be 10,000 characters or fewer", field="conditions")
    court = _court_reference(court_order_reference)
    today = clock.now().date()
    ends = _end_for(today, months, court)
    async with transaction():
        case = await get_case(case_id)
        if version != case.version:
            raise Conflict(
                f"Case {case.reference} has changed since you opened it. Look at it again."
            )
        if case.stage not in INTERIM_STAGES or case.entry_id is None:
            raise Conflict(
                f"Case {case.reference} is at '{case.stage_label}': interim orders are made "
                "after triage, while the case is open"
            )
        if any(order.in_force(today) for order in await orders_of(case_id)):
            raise Conflict("An interim order is in force on this case: review it instead")
        await bump(case, {})
        inserted = await InterimOrder.insert(
            InterimOrder(
                case=case_id,
                entry=case.entry_id,
                kind=kind.value,
                conditions=conditions,
                made_at=clock.now().astimezone(UTC),
                made_by=by.user_id,
                starts_on=today,
                ends_on=ends,
                next_review_on=min(add_months(today, limits.INTERIM_REVIEW_MONTHS), ends),
                court_order_reference=court,
            )
        ).returning(InterimOrder.id)
        order_id = int(inserted[0]["id"])
        details = {"order": order_id, "kind": kind.value, "ends_on": ends.isoformat()}
        await add_event(
            case_id, "interim_order_made", None, None, by=by, reason=reason, details=details
        )
        await audit.record(
            "conduct.interim_order_made", "conduct_case", case.reference, after=details
        )
        await register.refresh_entry(case.entry_id, today)
    return await get(order_id)


async def get(order_id: int) -> InterimRecord:
    row = await InterimOrder.select().where(InterimOrder.id == order_id).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return _record(row)


async def review(
    order_id: int,
    outcome: ReviewOutcome,
    *,
    reason: str,
    by: Mover,
    version: int,
    months: int | None = None,
    court_order_reference: str = "",
) -> InterimRecord:
    """Review an order in force: continue it (next review in 6 months), revoke it (off the entry
    today), or extend it to ``months`` in all from its start (beyond 18 only by court order)."""
    _check_adjudicator(by)
    reason = _reason(reason)
    court = _court_reference(court_order_reference)
    today = clock.now().date()
    async with transaction():
        order = await get(order_id)
        case = await get_case(order.case_id)
        if version != case.version:
            raise Conflict(
                f"Case {case.reference} has changed since you opened it. Look at it again."
            )
        if not order.in_force(today):
            raise Conflict("This interim order is not in force")
        values: dict[Any, Any] = {}
        if outcome is ReviewOutcome.revoke:
            values[InterimOrder.revoked_on] = today
        else:
            ends = order.ends_on
            if outcome is ReviewOutcome.extend:
                if months is None:
                    raise InvalidInput("Give the order's new length in months", field="months")
                ends = _end_for(order.starts_on, months, court or order.court_order_reference)
                if ends <= order.ends_on:
                    raise InvalidInput(
                        "An extension must end later than the order does now", field="months"
                    )
                values[InterimOrder.ends_on] = ends
                if court:
                    values[InterimOrder.court_order_reference] = court
            values[InterimOrder.next_review_on] = min(
                add_months(today, limits.INTERIM_REVIEW_MONTHS), ends
            )
        await bump(case, {})
        await InterimOrder.update(values).where(InterimOrder.id == order_id)
        details = {"order": order_id, "outcome": outcome.value, "months": months}
        await add_event(
            order.case_id,
            f"interim_order_{outcome.value}",
            None,
            None,
            by=by,
            reason=reason,
            details=details,
        )
        await audit.record(
            f"conduct.interim_order_{outcome.value}",
            "conduct_case",
            case.reference,
            after=details,
        )
        await register.refresh_entry(order.entry_id, today)
    return await get(order_id)
