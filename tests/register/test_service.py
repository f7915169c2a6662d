"""Entries: created with a number, status derived never typed, every change kept as history."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest

from registry.audit.service import search as audit_search
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import hooks, service
from registry.register.hooks import Restriction, RestrictionKind
from registry.register.numbers import parse_registration_number
from registry.register.tables import EntryState, Practitioner, RegisterEntry, RegisterStatus
from tests.register.helpers import person, put_on_register


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
    [created] = await service.history(entry.id)
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
    details = person().__dict__ | change
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

    monkeypatch.setattr(hooks, "_restriction_sources", [source])
    refreshed = await service.refresh_entry(entry.id, date(2026, 11, 23))
    assert refreshed.status is RegisterStatus.suspended
    assert refreshed.public.restrictions[0].summary == "Suspended while a case is investigated"
    assert refreshed.version == entry.version + 1
    served = await service.public_document(entry.registration_number)
    assert '"status":"suspended"' in served.json
    changes = [item.change for item in await service.history(entry.id)]
    assert changes == ["created", "status_changed"]


async def test_state_changes_need_a_reason_and_are_kept(engine: Any) -> None:
    entry = await put_on_register()
    with pytest.raises(InvalidInput):
        await service.set_state(entry.id, EntryState.removed, reason=" ")
    removed = await service.set_state(entry.id, EntryState.removed, reason="Decision FTP-12")
    assert removed.status is RegisterStatus.removed
    with pytest.raises(Conflict):
        await service.set_state(entry.id, EntryState.removed, reason="again")
    history = await service.history(entry.id)
    assert [(h.change, h.reason) for h in history][1] == ("state_changed", "Decision FTP-12")


async def test_voluntary_removal_is_refused_while_a_concern_is_open(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await put_on_register()

    async def open_concern(practitioner_id: int) -> bool:
        return practitioner_id == entry.practitioner_id

    monkeypatch.setattr(hooks, "_concern_sources", [open_concern])
    with pytest.raises(Conflict, match="while a concern"):
        await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert (await service.get_entry(entry.id)).status is RegisterStatus.registered
    monkeypatch.setattr(hooks, "_concern_sources", [])
    left = await service.request_voluntary_removal(entry.id, reason="Retiring")
    assert left.status is RegisterStatus.voluntarily_removed


async def test_an_unknown_well_formed_number_is_not_found(engine: Any) -> None:
    with pytest.raises(NotFound):
        await service.public_document("PR1234563")


# --- search -------------------------------------------------------------------------------


async def test_search_ignores_case_accents_and_needs_only_the_start_of_words(engine: Any) -> None:
    await put_on_register("Zoë", "O'Brien")
    await put_on_register("Joanna", "Smith")
    await put_on_register("John", "Smithson", region="wales")
    await put_on_register("Amy", "Jones")

    async def names(**filters: Any) -> list[str]:
        return [entry.name for entry in (await service.search(**filters)).entries]

    assert await names(query="zoe obrien") == ["Zoë O'Brien"]
    assert await names(query="ZOË") == ["Zoë O'Brien"]
    assert await names(query="smi jo") == ["Joanna Smith", "John Smithson"]
    assert await names(query="smith", region="wales") == ["John Smithson"]
    assert await names(query="nobody") == []
    assert await names() == ["Amy Jones", "Zoë O'Brien", "Joanna Smith", "John Smithson"]


async def test_search_by_number_and_by_status_and_role(engine: Any) -> None:
    jane = await put_on_register("Jane", "Doe", roles=("senior_probation_officer",))
    other = await put_on_register("Rob", "Roe")
    await service.set_state(other.id, EntryState.lapsed, reason="Not renewed")

    found = await service.search(query=jane.registration_number.lower())
    assert [e.registration_number for e in found.entries] == [jane.registration_number]
    assert (await service.search(status="lapsed")).entries[0].name == "Rob Roe"
    assert (await service.search(role="senior_probation_officer")).total == 1
    with pytest.raises(InvalidInput, match="last character"):
        await service.search(query="PR1234564")
    with pytest.raises(InvalidInput, match="not a status"):
        await service.search(status="struck_off")


async def test_search_pages_in_name_order(engine: Any) -> None:
    for letter in "EDCBA":
        await put_on_register("Sam", f"{letter}ardy")
    first = await service.search(page_size=2)
    second = await service.search(page=2, page_size=2)
    assert first.total == 5
    assert [e.family_name for e in first.entries + second.entries] == [
        "Aardy",
        "Bardy",
        "Cardy",
        "Dardy",
    ]


async def test_renaming_keeps_the_search_index_in_step(engine: Any) -> None:
    entry = await put_on_register("Kim", "Before")
    await Practitioner.update(
        {Practitioner.family_name: "After", Practitioner.search_name: "after kim"}
    ).where(Practitioner.id == entry.practitioner_id)
    assert (await service.search(query="before")).total == 0
    assert (await service.search(query="after")).total == 1
