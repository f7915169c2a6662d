"""The register entry's own state machine: every move from every state is allowed or refused by
the table of moves, and a refused move changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from registry.audit.service import search as audit_search
from registry.errors import Conflict, InvalidInput
from registry.register import hooks, service
from registry.register.schemas import STATUS_LABELS
from registry.register.service import ENTRY_MOVES, EntryMove
from registry.register.tables import EntryHistory, EntryState, RegisterEntry, RegisterStatus
from tests.register.helpers import put_on_register, register_history


def test_the_moves_say_who_may_leave_and_who_may_come_back() -> None:
    allowed = {move: ENTRY_MOVES[move].allowed_from for move in EntryMove}
    assert allowed[EntryMove.voluntary_removal] == {EntryState.registered}
    assert allowed[EntryMove.lapse] == {EntryState.registered}
    assert EntryState.removed not in allowed[EntryMove.removal]
    assert EntryState.registered not in allowed[EntryMove.restoration]
    assert {move: ENTRY_MOVES[move].to for move in EntryMove} == {
        EntryMove.lapse: EntryState.lapsed,
        EntryMove.voluntary_removal: EntryState.voluntarily_removed,
        EntryMove.removal: EntryState.removed,
        EntryMove.restoration: EntryState.registered,
        EntryMove.renewal: EntryState.registered,
    }


async def _entry_in(state: EntryState) -> service.Entry:
    entry = await put_on_register()
    # Set straight in the table: the starting point of each case, not a move under test.
    await RegisterEntry.update(
        {RegisterEntry.state: state.value, RegisterEntry.status: state.value}
    ).where(RegisterEntry.id == entry.id)
    return await service.get_entry(entry.id)


async def _recorded(entry: service.Entry) -> tuple[Any, int, int]:
    row = await RegisterEntry.select().where(RegisterEntry.id == entry.id).first()
    history = await EntryHistory.count().where(EntryHistory.entry == entry.id)
    audited = (await audit_search(target_id=entry.registration_number)).total
    return row, history, audited


@pytest.mark.parametrize("move", list(EntryMove))
@pytest.mark.parametrize("state", list(EntryState))
async def test_every_move_from_every_state_is_allowed_or_refused_by_the_machine(
    engine: Any, state: EntryState, move: EntryMove
) -> None:
    entry = await _entry_in(state)
    transition = ENTRY_MOVES[move]
    before = await _recorded(entry)
    if state in transition.allowed_from:
        moved = await service.move_entry(entry.id, move, reason="Decision FTP-3")
        assert moved.state is transition.to
        if transition.to is not state:
            [*_, changed, derived] = await register_history(entry.id)
            assert (changed.change, changed.before, changed.after, changed.reason) == (
                "state_changed",
                {"state": state.value},
                {"state": transition.to.value},
                "Decision FTP-3",
            )
            assert derived.change == "status_changed"
        return
    label = STATUS_LABELS[RegisterStatus(state.value)].lower()
    said = f"already {label}." if state is transition.to else f"{label}, so it cannot be"
    with pytest.raises(Conflict, match=f"^{entry.registration_number} is {said}"):
        await service.move_entry(entry.id, move, reason="Decision FTP-3")
    assert await _recorded(entry) == before


async def test_a_move_needs_a_reason(engine: Any) -> None:
    entry = await put_on_register()
    with pytest.raises(InvalidInput):
        await service.move_entry(entry.id, EntryMove.removal, reason=" ")
    assert (await service.get_entry(entry.id)).state is EntryState.registered


async def test_the_open_concern_is_checked_in_the_transaction_that_removes(engine: Any) -> None:
    """A concern raised between the check and the move must not be missed: both happen in one
    transaction, holding the entry."""
    entry = await put_on_register()
    checked_in_transaction: list[bool] = []

    async def no_concern(practitioner_id: int) -> bool:
        checked_in_transaction.append(RegisterEntry._meta.db.transaction_exists())
        return False

    with hooks.extra_sources(concern_sources=[no_concern]):
        left = await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert left.state is EntryState.voluntarily_removed
    assert checked_in_transaction == [True]
