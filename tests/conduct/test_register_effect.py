"""The register follows orders in and out of force with no lag: at once when a decision takes
effect, and at the start of the day an order starts or ends (the hourly job, run across
midnight with the clock moved on); an open case refuses voluntary removal; removal by a
decision takes the entry off the register with the five-year bar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from registry.conduct import interim_orders, register_effect, workflow
from registry.conduct.sanctions import Terms
from registry.conduct.tables import InterimKind, SanctionKind, Stage
from registry.conduct.workflow import Move, MoveIn
from registry.config import Settings
from registry.core import clock
from registry.core.scheduler import JobContext
from registry.errors import Conflict
from registry.register import service as register
from registry.register.tables import EntryHistory, EntryState, RegisterStatus
from tests.conduct.helpers import TODAY, case_at, days, people, someone_else


async def _status(entry_id: int) -> RegisterStatus:
    entry = await register.get_entry(entry_id)
    # The derived status and the public document agree: both are written together.
    assert entry.public.status is entry.status
    return entry.status


async def _job(settings: Settings) -> str:
    return await register_effect.keep_register_in_step(JobContext(clock.now(), settings))


async def _decide(case_id: int, who: Any, terms: Terms) -> workflow.CaseRecord:
    case = await workflow.get_case(case_id)
    return await workflow.perform(
        case_id,
        Move.impaired,
        by=who.adjudicator,
        version=case.version,
        data=MoveIn(reason="Impaired", terms=terms),
    )


async def test_accepted_conditions_show_on_the_entry_in_the_same_transaction(
    engine: Any,
) -> None:
    who = await people()
    await case_at(Stage.sanction_in_force, who)
    entry = await register.get_entry(who.entry.id)
    assert entry.status is RegisterStatus.registered_with_conditions
    [shown] = entry.public.restrictions
    assert shown.kind == "conditions"
    assert "Work under supervision" in shown.summary
    assert shown.starts_on == TODAY.date()


async def test_a_suspension_starts_after_the_appeal_period_and_ends_on_its_last_day(
    engine: Any, settings: Settings, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await _decide(case_id, who, Terms(SanctionKind.suspension, 6, summary="Six months"))
    assert await _status(who.entry.id) is RegisterStatus.registered
    # The last minute of the appeal period: still registered, and the job changes nothing.
    advance(days(27) + timedelta(hours=11, minutes=59))
    assert "0 entries" in await _job(settings)
    assert await _status(who.entry.id) is RegisterStatus.registered
    # Across midnight: the first run of the day suspends; a second run finds nothing to do.
    advance(timedelta(minutes=2))
    assert clock.now().date() == TODAY.date() + days(28)
    assert "1 entries" in await _job(settings)
    assert await _status(who.entry.id) is RegisterStatus.suspended
    assert (await workflow.get_case(case_id)).stage is Stage.sanction_in_force
    assert "0 entries rewritten for orders starting or ending; 0 cases" in await _job(settings)
    # Its last day is the day before the same date six months on: the next day it has ended.
    advance(days(183))
    await _job(settings)
    assert await _status(who.entry.id) is RegisterStatus.registered
    await _job(settings)
    assert (await workflow.get_case(case_id)).stage is Stage.closed


async def test_a_day_the_job_missed_is_caught_up(
    engine: Any, settings: Settings, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await _decide(case_id, who, Terms(SanctionKind.suspension, 1, summary="One month"))
    advance(days(40))  # the start day passed with no job run
    await _job(settings)
    assert await _status(who.entry.id) is RegisterStatus.suspended
    advance(days(60))  # and so did the end day
    await _job(settings)
    assert await _status(who.entry.id) is RegisterStatus.registered


async def test_an_immediate_order_changes_the_entry_with_the_decision(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await _decide(
        case_id,
        who,
        Terms(SanctionKind.suspension, 12, summary="Suspended at once", immediate=True),
    )
    assert await _status(who.entry.id) is RegisterStatus.suspended


async def test_removal_takes_the_entry_off_the_register_when_it_takes_effect(
    engine: Any, settings: Settings, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await _decide(case_id, who, Terms(SanctionKind.removal, summary="Removed"))
    assert (await register.get_entry(who.entry.id)).state is EntryState.registered
    advance(days(28))
    await _job(settings)
    entry = await register.get_entry(who.entry.id)
    assert entry.state is EntryState.removed
    assert entry.status is RegisterStatus.removed
    assert entry.public.removed_on == clock.now().date()
    assert await EntryHistory.exists().where(
        (EntryHistory.entry == who.entry.id) & (EntryHistory.reason.like("%" + "case%"))
    )
    await _job(settings)  # twice: nothing more
    assert (await register.get_entry(who.entry.id)).state is EntryState.removed


async def test_a_removed_practitioner_cannot_apply_for_restoration_for_five_years(
    engine: Any,
) -> None:
    from registry.accounts.roles import Role
    from registry.conduct import limits
    from registry.register.applications import eligibility
    from registry.register.tables import ApplicationKind

    who = await people()
    case_id = await case_at(Stage.hearing, who)
    await _decide(case_id, who, Terms(SanctionKind.removal, summary="Removed", immediate=True))
    assert (await register.get_entry(who.entry.id)).state is EntryState.removed
    assert limits.RESTORATION_AFTER_REMOVAL_YEARS == eligibility.RESTORATION_AFTER_REMOVAL_YEARS
    assert Role.practitioner in who.practitioner.roles
    with pytest.raises(Conflict, match="5 years after removal"):
        await eligibility.check_can_apply(
            who.practitioner.user_id or 0, ApplicationKind.restoration
        )


async def test_an_open_case_refuses_voluntary_removal_and_a_closed_one_does_not(
    engine: Any,
) -> None:
    who = await people()
    case_id = await case_at(Stage.triage, who)
    with pytest.raises(Conflict, match="while a concern"):
        await register.request_voluntary_removal(who.entry.id, reason="Retiring")
    case = await workflow.get_case(case_id)
    await workflow.perform(
        case_id,
        Move.close_no_further_action,
        by=who.caseworker,
        version=case.version,
        data=MoveIn(reason="Nothing in it"),
    )
    left = await register.request_voluntary_removal(who.entry.id, reason="Retiring")
    assert left.state is EntryState.voluntarily_removed


async def test_a_review_that_revokes_a_sanction_lifts_it_at_once(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.review, who)
    assert await _status(who.entry.id) is RegisterStatus.registered_with_conditions
    case = await workflow.get_case(case_id)
    await workflow.perform(
        case_id,
        Move.review_revoke,
        by=who.adjudicator,
        version=case.version,
        data=MoveIn(reason="Conditions met early"),
    )
    assert await _status(who.entry.id) is RegisterStatus.registered


async def test_a_review_extends_within_the_limit_counted_from_the_start(
    engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.review, who)
    case = await workflow.get_case(case_id)
    from registry.errors import InvalidInput

    with pytest.raises(InvalidInput, match="1 to 36 months"):
        await workflow.perform(
            case_id,
            Move.review_extend,
            by=who.adjudicator,
            version=case.version,
            data=MoveIn(
                reason="More time",
                terms=Terms(SanctionKind.conditions, 40, "Supervision", "Extended"),
            ),
        )
    done = await workflow.perform(
        case_id,
        Move.review_extend,
        by=who.adjudicator,
        version=case.version,
        data=MoveIn(
            reason="More time",
            terms=Terms(SanctionKind.conditions, 36, "Supervision", "Extended"),
        ),
    )
    [shown] = (await register.get_entry(who.entry.id)).public.restrictions
    assert shown.ends_on == done.due_on
    assert shown.ends_on is not None
    assert shown.ends_on.year == TODAY.year + 3


async def test_a_long_list_of_entries_finds_the_orders_a_short_one_does(engine: Any) -> None:
    """A bulk check asks for the orders in force on thousands of entries at once, which SQLite
    reads another way (the list checked only against the orders not yet ended): a sanction and
    an interim order are found the same either way, and the rest of the list has none."""
    who = await people()
    await case_at(Stage.sanction_in_force, who)
    other = await someone_else(who, "sam@example.org")
    case_id = await case_at(Stage.investigation, other)
    await interim_orders.make(
        case_id,
        InterimKind.interim_conditions,
        months=6,
        conditions="No lone home visits",
        reason="A risk to the public while the case runs",
        by=who.adjudicator,
        version=(await workflow.get_case(case_id)).version,
    )
    ids = [who.entry.id, other.entry.id]
    short = await register_effect.restrictions(ids, TODAY.date())
    assert [[r.kind.value for r in short[i]] for i in ids] == [
        ["conditions"],
        ["interim_conditions"],
    ]
    absent = range(10_000_000, 10_000_000 + register_effect.LONG_LIST)
    assert await register_effect.restrictions([*absent, *ids, *absent], TODAY.date()) == short
