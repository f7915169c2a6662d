"""Entries: created with a number, status derived never typed, every change kept as history."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from datetime import date
from typing import Any

import pytest

from registry.audit.service import search as audit_search
from registry.errors import Conflict, InvalidInput, NotFound
from registry.piccolo_app import MIGRATIONS_FOLDER
from registry.register import hooks, names, service
from registry.register import search as public_register
from registry.register.hooks import Restriction, RestrictionKind
from registry.register.numbers import parse_registration_number
from registry.register.service import EntryMove
from registry.register.tables import (
    EntryState,
    NameKey,
    Practitioner,
    RegisterEntry,
    RegisterStatus,
)
from tests.register.helpers import person, put_on_register, register_history


async def test_a_new_entry_has_a_valid_number_public_fields_and_history(engine: Any) -> None:
    entry = await put_on_register("Zoë", "O'Brien-Smith")
    assert parse_registration_number(entry.registration_number) == entry.registration_number
    public = entry.public
    assert public.name == "Zoë O'Brien-Smith"
    assert public.status is RegisterStatus.registered
    assert [role.name for role in public.roles] == ["Probation Officer"]
    assert public.region.name == "London"
    assert public.qualifications[0].name.startswith("Professional Qualification in Probation")
    dumped = public.model_dump()
    assert "date_of_birth" not in dumped
    assert "email" not in dumped
    [created] = await register_history(entry.id)
    assert created.change == "created"
    trail = await audit_search(action="register.entry_created")
    assert trail.entries[0].target_id == entry.registration_number


async def test_numbers_handed_out_at_the_same_time_never_collide(engine: Any) -> None:
    entries = await asyncio.gather(*[put_on_register(f"Person{n}", "Parallel") for n in range(12)])
    numbers = {entry.registration_number for entry in entries}
    assert len(numbers) == 12


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"given_names": ""}, "given_names"),
        ({"family_name": "x" * 101}, "family_name"),
        ({"family_name": '=HYPERLINK("http://evil.example")'}, "family_name"),
        ({"given_names": "Jane\nDoe"}, "given_names"),
        ({"date_of_birth": date(2030, 1, 1)}, "date_of_birth"),
        ({"date_of_birth": date(2010, 1, 1)}, "date_of_birth"),
    ],
)
async def test_bad_personal_details_are_refused_and_nothing_is_stored(
    engine: Any, change: dict[str, Any], field: str
) -> None:
    given = person()
    details = {each.name: getattr(given, each.name) for each in dataclasses.fields(given)}
    details |= change
    with pytest.raises(InvalidInput) as refused:
        await service.create_entry(
            service.EntryIn(
                person=service.PersonIn(**details),
                role_codes=["probation_officer"],
                region_code="london",
                registered_since=date(2024, 1, 1),
                registered_until=date(2026, 11, 30),
            ),
            reason="test",
        )
    assert refused.value.field == field
    assert await Practitioner.count() == 0


@pytest.mark.parametrize(
    ("roles", "region", "field"),
    [
        (("chief_officer",), "london", "role"),
        (("probation_officer",), "atlantis", "region"),
        ((), "london", "roles"),
    ],
)
async def test_unknown_codes_are_refused_naming_the_field(
    engine: Any, roles: tuple[str, ...], region: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await put_on_register(roles=roles, region=region)
    assert refused.value.field == field
    assert await RegisterEntry.count() == 0


def test_status_is_derived_from_the_entry_and_the_orders_in_force() -> None:
    def order(kind: RestrictionKind) -> Restriction:
        return Restriction(kind, "x", date(2026, 1, 1), None, "https://example.org/decision")

    derive = service.derive_status
    assert derive(EntryState.registered, []) is RegisterStatus.registered
    assert (
        derive(EntryState.registered, [order(RestrictionKind.warning)]) is RegisterStatus.registered
    )
    assert derive(EntryState.registered, [order(RestrictionKind.interim_conditions)]) is (
        RegisterStatus.registered_with_conditions
    )
    suspended = [order(RestrictionKind.conditions), order(RestrictionKind.suspension)]
    assert derive(EntryState.registered, suspended) is RegisterStatus.suspended
    assert derive(EntryState.removed, suspended) is RegisterStatus.removed
    assert derive(EntryState.lapsed, []) is RegisterStatus.lapsed


async def test_an_order_in_force_changes_the_status_and_the_public_entry_at_once(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await put_on_register()
    suspension = Restriction(
        RestrictionKind.interim_suspension,
        "Suspended while a case is investigated",
        date(2026, 11, 1),
        date(2027, 5, 1),
        "https://register.example/decisions/1",
    )

    async def source(entry_ids: Any, on: date) -> dict[int, list[Restriction]]:
        return {entry.id: [suspension]}

    with hooks.extra_sources(restriction_sources=[source]):
        refreshed = await service.refresh_entry(entry.id, date(2026, 11, 23))
    assert refreshed.status is RegisterStatus.suspended
    assert refreshed.public.restrictions[0].summary == "Suspended while a case is investigated"
    assert refreshed.version == entry.version + 1
    served = await service.public_document(entry.registration_number)
    assert '"status":"suspended"' in served.json
    changes = [item.change for item in await register_history(entry.id)]
    assert changes == ["created", "status_changed"]


async def test_state_changes_need_a_reason_and_are_kept(engine: Any) -> None:
    entry = await put_on_register()
    with pytest.raises(InvalidInput):
        await service.move_entry(entry.id, EntryMove.removal, reason=" ")
    removed = await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-12")
    assert removed.status is RegisterStatus.removed
    with pytest.raises(Conflict):
        await service.move_entry(entry.id, EntryMove.removal, reason="again")
    history = await register_history(entry.id)
    assert [(h.change, h.reason) for h in history][1] == ("state_changed", "Decision FTP-12")


async def test_voluntary_removal_is_refused_while_a_concern_is_open(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await put_on_register()

    async def open_concern(practitioner_id: int) -> bool:
        return practitioner_id == entry.practitioner_id

    with (
        hooks.extra_sources(concern_sources=[open_concern]),
        pytest.raises(Conflict, match="while a concern"),
    ):
        await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert (await service.get_entry(entry.id)).status is RegisterStatus.registered
    left = await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert left.status is RegisterStatus.voluntarily_removed


async def test_an_unknown_well_formed_number_is_not_found(engine: Any) -> None:
    with pytest.raises(NotFound):
        await service.public_document("PR1234563")


# --- change of name ----------------------------------------------------------------------


async def test_a_change_of_name_is_searchable_at_once_and_kept_in_history(engine: Any) -> None:
    entry = await put_on_register("Kim", "Beforehand")
    renamed = await service.change_name(entry.id, "Kim", "Åfterwards", reason="Marriage")

    assert renamed.public.name == "Kim Åfterwards"
    assert renamed.version == entry.version + 1
    for gone in ("beforehand", "befor", "bef kim"):
        assert (await public_register.search(query=gone)).total == 0, gone
    for found in ("afterwards", "AFTER", "aft ki", "kim afterw"):
        assert [e.name for e in (await public_register.search(query=found)).entries] == [
            "Kim Åfterwards"
        ], found
    change = (await register_history(entry.id))[-1]
    assert (change.change, change.before, change.after, change.reason) == (
        "name_changed",
        {"given_names": "Kim", "family_name": "Beforehand"},
        {"given_names": "Kim", "family_name": "Åfterwards"},
        "Marriage",
    )
    assert (await audit_search(action="register.name_changed")).entries[0].target_id == (
        entry.registration_number
    )


@pytest.mark.parametrize(
    ("given", "family", "reason", "field"),
    [
        ("Kim", "", "Marriage", "family_name"),
        ("=cmd", "Smith", "Marriage", "given_names"),
        ("Kim", "x" * 101, "Marriage", "family_name"),
        ("Kim", "Smith", " ", "reason"),
    ],
)
async def test_a_change_of_name_with_bad_input_changes_nothing(
    engine: Any, given: str, family: str, reason: str, field: str
) -> None:
    entry = await put_on_register("Kim", "Stays")
    with pytest.raises(InvalidInput) as refused:
        await service.change_name(entry.id, given, family, reason=reason)
    assert refused.value.field == field
    assert [e.name for e in (await public_register.search(query="stays")).entries] == ["Kim Stays"]
    assert (await service.get_entry(entry.id)).version == entry.version


async def test_entries_made_before_name_keys_get_theirs_from_the_migration(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = await put_on_register("Ada", "Older")
    await put_on_register("Bea", "Newer")
    await NameKey.delete().where(NameKey.entry == older.id)
    assert (await public_register.search(query="older")).total == 0

    monkeypatch.syspath_prepend(str(MIGRATIONS_FOLDER))  # as Piccolo imports migrations
    migration = importlib.import_module("registry_2026_11_27t21_46_01_000000")
    for _ in range(2):  # the second run adds nothing twice
        for step in (await migration.forwards()).raw:
            await step()

    assert [e.name for e in (await public_register.search(query="old ad")).entries] == ["Ada Older"]
    assert await NameKey.count().where(NameKey.entry == older.id) == len(
        names.search_keys("older ada")
    )
    found = await public_register.search(query="ada", region=older.public.region.code)
    assert [e.name for e in found.entries] == ["Ada Older"]
    assert (await public_register.search(query="ada", status="lapsed")).total == 0
    assert [e.name for e in (await public_register.search(query="newer")).entries] == ["Bea Newer"]
