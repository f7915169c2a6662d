"""Staff moving one case at once: exactly one move wins, every other is refused (409), and the
case carries one move, never a lost update. On PostgreSQL each attempt runs in its own
transaction on its own pooled connection, in parallel; on SQLite writers queue on the write lock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from registry.audit.tables import AuditEntry
from registry.conduct import concerns, workflow
from registry.conduct.interim_orders import make
from registry.conduct.tables import (
    Case,
    CaseEvent,
    Concern,
    ConcernAttempt,
    InterimKind,
    InterimOrder,
    Stage,
)
from registry.conduct.workflow import Move, MoveIn
from registry.errors import Conflict, TooManyRequests
from tests.conduct.helpers import case_at, concern_about, people

AT_ONCE = 8  # within the default pool of ten, leaving room for the test's own reads


async def _outcome(attempt: Any) -> str:
    try:
        await attempt
    except Conflict:
        return "refused"
    return "made"


async def test_staff_deciding_one_case_at_once_make_one_move(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.triage, who)
    seen = (await workflow.get_case(case_id)).version
    attempts = [
        workflow.perform(
            case_id,
            Move.close_no_further_action if n % 2 else Move.open_investigation,
            by=who.caseworker,
            version=seen,
            data=MoveIn(reason=f"Decision {n}"),
        )
        for n in range(AT_ONCE)
    ]
    outcomes = await asyncio.gather(*(_outcome(attempt) for attempt in attempts))
    assert sorted(outcomes) == ["made"] + ["refused"] * (AT_ONCE - 1)
    case = await workflow.get_case(case_id)
    assert case.version == seen + 1
    moves = await CaseEvent.select(CaseEvent.event).where(
        (CaseEvent.case == case_id) & (CaseEvent.from_stage == Stage.triage.value)
    )
    assert len(moves) == 1
    assert case.stage.value == MOVES_TO[moves[0]["event"]]


MOVES_TO = {move.value: transition.to.value for move, transition in workflow.MOVES.items()}


async def test_two_interim_orders_at_once_make_one(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    seen = (await workflow.get_case(case_id)).version
    attempts = [
        make(
            case_id,
            InterimKind.interim_suspension,
            months=6,
            conditions="",
            reason="Risk",
            by=who.adjudicator,
            version=seen,
        )
        for _ in range(AT_ONCE)
    ]
    outcomes = await asyncio.gather(*(_outcome(attempt) for attempt in attempts))
    assert outcomes.count("made") == 1
    assert await InterimOrder.count() == 1


async def _limited(attempt: Any) -> str:
    try:
        await attempt
    except TooManyRequests:
        return "refused"
    return "made"


async def test_concerns_sent_at_once_from_one_address_are_counted_one_by_one(
    engine: Any,
) -> None:
    """The limit holds when they arrive together: exactly ten are taken, the rest refused, and
    every attempt is kept (the refused ones with their audit entries)."""
    sent = concerns.CONCERNS_PER_ADDRESS + 2
    attempts = [
        concerns.raise_concern(
            concern_about("", about_name=f"Sam {n}", about_workplace="The office"),
            client_address="203.0.113.9",
        )
        for n in range(sent)
    ]
    outcomes = await asyncio.gather(*(_limited(attempt) for attempt in attempts))
    assert outcomes.count("made") == concerns.CONCERNS_PER_ADDRESS
    assert await Concern.count() == concerns.CONCERNS_PER_ADDRESS
    assert await Case.count() == concerns.CONCERNS_PER_ADDRESS
    assert await ConcernAttempt.count() == sent
    limited = AuditEntry.action == "conduct.concerns_limited"
    assert await AuditEntry.count().where(limited) == sent - concerns.CONCERNS_PER_ADDRESS
