"""The public entry tells the truth after someone leaves the register: when, and how."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from registry.core import clock
from registry.piccolo_app import MIGRATIONS_FOLDER
from registry.register import service
from registry.register.schemas import REMOVAL_REASONS
from registry.register.service import EntryMove
from registry.register.tables import RegisterEntry, RegisterStatus
from tests.register.helpers import put_on_register

LEFT = datetime(2026, 12, 22, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("move", "how"),
    [
        (EntryMove.lapse, "The registration lapsed because it was not renewed"),
        (EntryMove.voluntary_removal, "The practitioner asked to leave the register"),
        (EntryMove.removal, "Removed from the register by a fitness to practise decision"),
    ],
)
async def test_an_entry_off_the_register_says_when_and_how_it_left(
    client: httpx.AsyncClient, engine: Any, move: EntryMove, how: str
) -> None:
    entry = await put_on_register()
    with clock.frozen_at(LEFT):
        await service.move_entry(entry.id, move, reason="Test")
    document = (await client.get(f"/api/v1/register/{entry.registration_number}")).json()
    assert document["removed_on"] == "2026-12-22"
    assert document["removal_reason"] == how
    page = await client.get(f"/register/{entry.registration_number}")
    assert "Left the register on" in page.text
    assert "22 December 2026" in page.text
    assert how in page.text
    assert "Registered until" not in page.text
    assert "Restrictions in force" not in page.text  # not "None" for someone removed


async def test_an_entry_on_the_register_has_no_removal(
    client: httpx.AsyncClient, engine: Any
) -> None:
    entry = await put_on_register()
    document = (await client.get(f"/api/v1/register/{entry.registration_number}")).json()
    assert document["removed_on"] is None
    assert document["removal_reason"] is None
    page = await client.get(f"/register/{entry.registration_number}")
    assert "Registered until" in page.text
    assert date.fromisoformat(document["registered_until"]).year >= 2026


async def test_the_migration_gives_entries_already_off_the_register_their_removal(
    client: httpx.AsyncClient, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on = await put_on_register("Ada", "Stays")
    off = await put_on_register("Bea", "Left")
    with clock.frozen_at(LEFT):
        await service.move_entry(off.id, EntryMove.lapse, reason="Test")
    for entry in (on, off):  # as documents written before the fields existed
        document = json.loads((await service.public_document(entry.registration_number)).json)
        del document["removed_on"], document["removal_reason"]
        await RegisterEntry.update({RegisterEntry.public_document: json.dumps(document)}).where(
            RegisterEntry.id == entry.id
        )

    monkeypatch.syspath_prepend(str(MIGRATIONS_FOLDER))  # as Piccolo imports migrations
    migration = importlib.import_module("registry_2026_11_27t16_10_00_000000")
    for _ in range(2):  # safe to run again
        for step in (await migration.forwards()).raw:
            await step()

    left = (await client.get(f"/api/v1/register/{off.registration_number}")).json()
    assert (left["removed_on"], left["removal_reason"]) == (
        "2026-12-22",
        REMOVAL_REASONS[RegisterStatus.lapsed],
    )
    stays = (await client.get(f"/api/v1/register/{on.registration_number}")).json()
    assert (stays["removed_on"], stays["removal_reason"]) == (None, None)
