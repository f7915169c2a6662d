"""Interim orders: after triage only, by adjudicators, up to 18 months (longer only with a court
order), reviewed within 6 months and every 6 after; in force on the entry at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from registry.conduct import interim_orders, workflow
from registry.conduct.interim_orders import ReviewOutcome
from registry.conduct.tables import InterimKind, InterimOrder, Stage
from registry.errors import Conflict, InvalidInput, PermissionDenied
from registry.register import service as register
from registry.register.tables import RegisterStatus
from tests.conduct.helpers import TODAY, case_at, days, people


async def _make(case_id: int, who: Any, **changes: Any) -> interim_orders.InterimRecord:
    case = await workflow.get_case(case_id)
    values: dict[str, Any] = {
        "months": 18,
        "conditions": "",
        "reason": "A risk to the public while the case runs",
        "by": who.adjudicator,
        "version": case.version,
        **changes,
    }
    kind = values.pop("kind", InterimKind.interim_suspension)
    return await interim_orders.make(case_id, kind, **values)


async def test_an_interim_suspension_suspends_the_entry_at_once_with_review_dates(
    engine: Any,
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    order = await _make(case_id, who)
    assert order.starts_on == TODAY.date()
    assert order.ends_on == date(2028, 9, 14)
    assert order.next_review_on == date(2027, 9, 15)
    entry = await register.get_entry(who.entry.id)
    assert entry.status is RegisterStatus.suspended
    assert [r.kind for r in entry.public.restrictions] == ["interim_suspension"]


@pytest.mark.parametrize("stage", [Stage.received, Stage.triage, Stage.closed])
async def test_no_interim_order_before_triage_is_done_or_after_closure(
    engine: Any, stage: Stage
) -> None:
    who = await people()
    case_id = await case_at(stage, who)
    with pytest.raises(Conflict, match="after triage"):
        await _make(case_id, who)
    assert await InterimOrder.count() == 0


async def test_limits_and_roles_of_interim_orders(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    with pytest.raises(InvalidInput, match="18 months at most"):
        await _make(case_id, who, months=19)
    with pytest.raises(PermissionDenied):
        await _make(case_id, who, by=who.caseworker)
    with pytest.raises(InvalidInput, match="Enter the conditions"):
        await _make(case_id, who, kind=InterimKind.interim_conditions)
    assert await InterimOrder.count() == 0
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.registered
    longer = await _make(case_id, who, months=24, court_order_reference="HC-2027-0042")
    assert longer.court_order_reference == "HC-2027-0042"


async def test_reviews_continue_extend_only_by_court_order_and_revoke(
    engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    order = await _make(
        case_id, who, kind=InterimKind.interim_conditions, months=12, conditions="No lone visits"
    )
    assert (await register.get_entry(who.entry.id)).status is (
        RegisterStatus.registered_with_conditions
    )
    advance(days(170))

    async def review(outcome: ReviewOutcome, **more: Any) -> interim_orders.InterimRecord:
        case = await workflow.get_case(case_id)
        return await interim_orders.review(
            order.id, outcome, reason="Reviewed", by=who.adjudicator, version=case.version, **more
        )

    kept = await review(ReviewOutcome.continue_order)
    assert kept.next_review_on == date(2028, 3, 1)
    assert kept.next_review_on > order.next_review_on
    with pytest.raises(InvalidInput, match="court's order"):
        await review(ReviewOutcome.extend, months=20)
    extended = await review(ReviewOutcome.extend, months=18)
    assert extended.ends_on == date(2028, 9, 14)
    beyond = await review(ReviewOutcome.extend, months=24, court_order_reference="HC-1")
    assert beyond.court_order_reference == "HC-1"
    await review(ReviewOutcome.revoke)
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.registered
    with pytest.raises(Conflict, match="not in force"):
        await review(ReviewOutcome.continue_order)


async def test_an_interim_order_ends_on_its_last_day(
    engine: Any, settings: Any, advance: Callable[[timedelta], None]
) -> None:
    from registry.conduct import register_effect
    from registry.core import clock
    from registry.core.scheduler import JobContext

    who = await people()
    case_id = await case_at(Stage.investigation, who)
    order = await _make(case_id, who, months=1)
    advance(order.ends_on - TODAY.date())
    await register_effect.keep_register_in_step(JobContext(clock.now(), settings))
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.suspended
    advance(days(1))
    await register_effect.keep_register_in_step(JobContext(clock.now(), settings))
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.registered


async def test_caseworkers_are_reminded_of_a_review_once_from_two_weeks_before(
    engine: Any, settings: Any, advance: Callable[[timedelta], None]
) -> None:
    from registry.conduct import register_effect
    from registry.core import clock
    from registry.core.scheduler import JobContext
    from registry.notifications.tables import OutboxMessage

    who = await people()
    case_id = await case_at(Stage.investigation, who)
    order = await _make(case_id, who)

    async def run() -> int:
        await register_effect.keep_register_in_step(JobContext(clock.now(), settings))
        sent = OutboxMessage.count().where(OutboxMessage.template == "conduct_interim_review_due")
        return int(await sent)

    advance(order.next_review_on - TODAY.date() - days(15))
    assert await run() == 0
    advance(days(1))
    assert await run() == 1  # the one caseworker, no one assigned
    assert await run() == 1


async def test_the_final_outcome_replaces_an_interim_order(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.accepted_outcome, who)
    await _make(case_id, who)
    assert (await register.get_entry(who.entry.id)).status is RegisterStatus.suspended
    case = await workflow.get_case(case_id)
    assert who.practitioner.user_id is not None
    await workflow.perform(
        case_id, workflow.Move.accept_outcome, by=who.practitioner, version=case.version
    )
    assert (await register.get_entry(who.entry.id)).status is (
        RegisterStatus.registered_with_conditions
    )
