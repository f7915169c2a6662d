"""The case's state machine: every allowed move from where it starts, every refused move from
every stage (409 with the moves allowed, nothing changed), moves by roles not allowed, and what
the moves need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from registry.accounts.roles import Role
from registry.conduct import workflow
from registry.conduct.sanctions import Terms
from registry.conduct.tables import Case, CaseEvent, Sanction, SanctionKind, Stage
from registry.conduct.workflow import MOVES, Move, MoveIn, MoveRefused
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.conduct.helpers import (
    case_at,
    data_for,
    days,
    mover_for,
    people,
)

# What each move needs beyond its stage before it is allowed: a case decided without a sanction
# (not impaired) for closing after the appeal period, and days passing for the moves a date
# allows.
SETUP: dict[Move, tuple[Stage, list[Move], int]] = {
    Move.refer_to_case_examiners: (Stage.investigation, [], 29),
    Move.close_after_appeal_period: (Stage.hearing, [Move.not_impaired], 28),
    Move.outcome_not_accepted_in_time: (Stage.accepted_outcome, [], 29),
    Move.sanction_takes_effect: (Stage.decided, [], 28),
    Move.close_case: (Stage.sanction_in_force, [], 200),
}


def _start(move: Move) -> Stage:
    [stage] = MOVES[move].allowed_from
    return stage


async def _snapshot(case_id: int) -> tuple[int, str, int, int]:
    case = await workflow.get_case(case_id)
    events = await CaseEvent.count().where(CaseEvent.case == case_id)
    return case.version, case.stage.value, events, await Sanction.count()


@pytest.mark.parametrize("move", list(Move))
async def test_every_allowed_move_is_made_and_recorded(
    engine: Any, advance: Callable[[timedelta], None], move: Move
) -> None:
    who = await people()
    stage, then, wait = SETUP.get(move, (_start(move), [], 0))
    case_id = await case_at(stage, who, then=then)
    advance(days(wait))
    before = await workflow.get_case(case_id)
    assert move in workflow.allowed_moves(before, mover_for(move, who))
    after = await workflow.perform(
        case_id, move, by=mover_for(move, who), version=before.version, data=data_for(move, who)
    )
    assert after.stage is MOVES[move].to
    assert after.version == before.version + 1
    last = (
        await CaseEvent.select()
        .where(CaseEvent.case == case_id)
        .order_by(CaseEvent.id, ascending=False)
        .first()
    )
    assert last is not None
    assert (last["event"], last["from_stage"], last["to_stage"]) == (
        move.value,
        before.stage.value,
        MOVES[move].to.value,
    )
    assert last["by_user"] == mover_for(move, who).user_id


@pytest.mark.parametrize("stage", list(Stage))
async def test_every_move_not_allowed_from_a_stage_is_refused_with_the_allowed_moves(
    engine: Any, stage: Stage
) -> None:
    who = await people()
    case_id = await case_at(stage, who)
    before = await _snapshot(case_id)
    refused_moves = [move for move in Move if stage not in MOVES[move].allowed_from]
    assert refused_moves
    for move in refused_moves:
        mover = mover_for(move, who)
        case = await workflow.get_case(case_id)
        with pytest.raises(MoveRefused) as refused:
            await workflow.perform(
                case_id, move, by=mover, version=case.version, data=data_for(move, who)
            )
        assert refused.value.allowed == [m.value for m in workflow.allowed_moves(case, mover)]
        assert f"'{move.value}'" in refused.value.detail
        assert await _snapshot(case_id) == before


@pytest.mark.parametrize("move", list(Move))
async def test_a_move_by_a_role_it_is_not_for_is_refused(engine: Any, move: Move) -> None:
    who = await people()
    stage, then, _ = SETUP.get(move, (_start(move), [], 0))
    case_id = await case_at(stage, who, then=then)
    before = await _snapshot(case_id)
    allowed = MOVES[move].roles
    for wrong in (who.caseworker, who.examiner, who.adjudicator):
        if wrong.roles & allowed:
            continue
        with pytest.raises(PermissionDenied):
            await workflow.perform(
                case_id, move, by=wrong, version=before[0], data=data_for(move, who)
            )
    if Role.practitioner in allowed:
        other = workflow.Mover(who.caseworker.user_id, who.practitioner.roles)
        with pytest.raises(NotFound):
            await workflow.perform(case_id, move, by=other, version=before[0])
    assert await _snapshot(case_id) == before


async def test_a_move_on_a_case_changed_since_it_was_read_is_refused(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.received, who)
    seen = (await workflow.get_case(case_id)).version
    await workflow.perform(case_id, Move.start_triage, by=who.caseworker, version=seen)
    with pytest.raises(Conflict, match="has changed since you opened it"):
        await workflow.perform(
            case_id,
            Move.close_no_further_action,
            by=who.caseworker,
            version=seen,
            data=MoveIn(reason="Nothing in it"),
        )
    assert (await workflow.get_case(case_id)).stage is Stage.triage


@pytest.mark.parametrize(
    ("move", "data", "field"),
    [
        (Move.close_no_further_action, MoveIn(reason="  "), "reason"),
        (Move.close_no_further_action, MoveIn(reason="x" * 10_001), "reason"),
    ],
)
async def test_a_move_missing_what_it_needs_is_refused(
    engine: Any, move: Move, data: MoveIn, field: str
) -> None:
    who = await people()
    case_id = await case_at(Stage.triage, who)
    before = await _snapshot(case_id)
    with pytest.raises(InvalidInput) as refused:
        await workflow.perform(case_id, move, by=who.caseworker, version=before[0], data=data)
    assert refused.value.field == field
    assert await _snapshot(case_id) == before


async def test_case_examiners_decide_in_twos_and_record_only_their_own_decision(
    engine: Any,
) -> None:
    who = await people()
    case_id = await case_at(Stage.case_examiners, who)
    version = (await workflow.get_case(case_id)).version
    examiner, second = who.examiner.user_id or 0, who.second_examiner.user_id or 0
    caseworker = who.caseworker.user_id or 0
    for examiners, message in (
        ((examiner,), "name both"),
        ((examiner, examiner), "name both"),
        ((second, caseworker), "name yourself"),
        ((examiner, caseworker), "Both examiners must be case examiners"),
    ):
        with pytest.raises(InvalidInput, match=message):
            await workflow.perform(
                case_id,
                Move.no_case_to_answer,
                by=who.examiner,
                version=version,
                data=MoveIn(reason="No case", examiners=examiners),
            )
    assert (await workflow.get_case(case_id)).version == version


async def test_the_response_window_holds_the_case_until_answered_or_passed(
    engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    case_id = await case_at(Stage.investigation, who)
    case = await workflow.get_case(case_id)
    assert case.due_on == (await workflow.get_case(case_id)).opened_at.date() + days(28)
    with pytest.raises(Conflict, match="has until"):
        await workflow.perform(
            case_id,
            Move.refer_to_case_examiners,
            by=who.caseworker,
            version=case.version,
            data=MoveIn(reason="Ready"),
        )
    advance(days(29))
    moved = await workflow.perform(
        case_id,
        Move.refer_to_case_examiners,
        by=who.caseworker,
        version=case.version,
        data=MoveIn(reason="No response in time"),
    )
    assert moved.stage is Stage.case_examiners


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (Terms(SanctionKind.suspension, 48, summary="Four years"), "1 to 12 months"),
        (Terms(SanctionKind.suspension, 13, summary="Too long"), "1 to 12 months"),
        (Terms(SanctionKind.warning, 24, summary="Two years"), "1 or 3 or 5 years"),
        (Terms(SanctionKind.conditions, 37, "Supervision", "Too long"), "1 to 36 months"),
        (Terms(SanctionKind.conditions, 6, "", "No conditions"), "Enter the conditions"),
        (Terms(SanctionKind.removal, 12, summary="Removal has no length"), "has no length"),
        (Terms(SanctionKind.suspension, 6), "Enter a summary"),
        (Terms(SanctionKind.advice, summary="Not at a hearing"), "cannot impose advice"),
    ],
)
async def test_a_sanction_out_of_limits_is_refused_and_nothing_is_stored(
    engine: Any, terms: Terms, message: str
) -> None:
    who = await people()
    case_id = await case_at(Stage.hearing, who)
    before = await _snapshot(case_id)
    with pytest.raises(InvalidInput, match=message):
        await workflow.perform(
            case_id,
            Move.impaired,
            by=who.adjudicator,
            version=before[0],
            data=MoveIn(reason="Impaired", terms=terms),
        )
    assert await _snapshot(case_id) == before
    assert await Sanction.count() == 0


async def test_a_warning_from_case_examiners_is_one_three_or_five_years(engine: Any) -> None:
    who = await people()
    case_id = await case_at(Stage.case_examiners, who)
    version = (await workflow.get_case(case_id)).version
    data = workflow.MoveIn(
        reason="Warning",
        examiners=(who.examiner.user_id or 0, who.second_examiner.user_id or 0),
        terms=Terms(SanctionKind.warning, 24, summary="Two years"),
    )
    with pytest.raises(InvalidInput, match="A warning lasts 1 or 3 or 5 years"):
        await workflow.perform(
            case_id, Move.give_warning, by=who.examiner, version=version, data=data
        )
    assert await Sanction.count() == 0
    assert await Case.count().where(Case.version == version) == 1


async def test_an_unidentified_case_cannot_be_investigated(engine: Any) -> None:
    who = await people()
    from registry.conduct import concerns
    from tests.conduct.helpers import concern_about

    raised = await concerns.raise_concern(
        concern_about("", about_name="Sam Nobody", about_workplace="Leeds probation office")
    )
    assert raised.needs_identifying
    case = await workflow.perform(raised.case_id, Move.start_triage, by=who.caseworker, version=1)
    with pytest.raises(Conflict, match="Identify the practitioner"):
        await workflow.perform(
            raised.case_id,
            Move.open_investigation,
            by=who.caseworker,
            version=case.version,
            data=MoveIn(reason="Allegations"),
        )


def test_every_stage_but_closed_is_left_by_some_move() -> None:
    starts = {stage for transition in MOVES.values() for stage in transition.allowed_from}
    assert starts == set(Stage) - {Stage.closed}
    reached = {transition.to for transition in MOVES.values()}
    assert reached == set(Stage) - {Stage.received}
