"""Reference data: admins add and rename roles, regions and qualifications; codes stay put."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.errors import Conflict, InvalidInput
from registry.register import reference, service
from registry.register import search as public_register
from registry.register.reference import ReferenceKind
from registry.register.tables import Region
from tests.accounts.helpers import csrf_headers, user_signed_in_as
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}


@pytest.fixture(autouse=True)
async def _reference_data_put_back(engine: Any) -> AsyncIterator[None]:
    """The seeded lists outlive each test (the service needs them): leave them as found."""
    saved = {kind: await reference.list_items(kind) for kind in ReferenceKind}
    yield
    for kind, items in saved.items():
        table = reference.TABLES[kind]
        await table.delete().where(table.id.not_in([item.id for item in items]))
        for item in items:
            await table.update({table.name: item.name, table.active: item.active}).where(
                table.id == item.id
            )


async def test_the_seeded_lists_are_there(engine: Any) -> None:
    regions = await reference.list_items(ReferenceKind.regions)
    assert len(regions) == 12
    assert "Wales" in {item.name for item in regions}
    roles = {item.code for item in await reference.list_items(ReferenceKind.roles)}
    assert {"probation_officer", "probation_services_officer", "senior_probation_officer"} <= roles


async def test_renaming_shows_on_public_entries_at_once(engine: Any) -> None:
    entry = await put_on_register(region="kent_surrey_sussex")
    await reference.update_item(
        ReferenceKind.regions, "kent_surrey_sussex", name="Kent, Surrey & Sussex", active=True
    )
    served = await service.get_entry(entry.id)
    assert served.public.region.name == "Kent, Surrey & Sussex"
    assert served.public.region.code == "kent_surrey_sussex"
    trail = await audit_search(action="register.reference_changed")
    assert trail.entries[0].changes["after"] == {"name": "Kent, Surrey & Sussex"}


async def test_a_retired_item_is_refused_for_new_entries_but_kept_on_old_ones(engine: Any) -> None:
    old = await put_on_register(region="wales")
    await reference.update_item(ReferenceKind.regions, "wales", name="Wales", active=False)
    with pytest.raises(InvalidInput) as refused:
        await put_on_register("New", "Person", region="wales")
    assert refused.value.field == "region"
    assert (await service.get_entry(old.id)).public.region.code == "wales"
    assert (await public_register.search(region="wales")).total == 1


async def test_adding_checks_the_code_and_refuses_a_duplicate(engine: Any) -> None:
    added = await reference.add_item(
        ReferenceKind.qualifications, "ba_criminology", "BA Criminology"
    )
    assert added.active
    with pytest.raises(Conflict):
        await reference.add_item(ReferenceKind.qualifications, "ba_criminology", "Again")
    for bad in ("BA Criminology", "x", "9lives"):
        with pytest.raises(InvalidInput) as refused:
            await reference.add_item(ReferenceKind.qualifications, bad, "Name")
        assert refused.value.field == "code"
    with pytest.raises(InvalidInput) as refused:
        await reference.add_item(ReferenceKind.qualifications, "blank", "  ")
    assert refused.value.field == "name"


async def test_a_second_item_with_the_name_of_one_in_use_is_refused(engine: Any) -> None:
    with pytest.raises(Conflict) as refused:
        await reference.add_item(ReferenceKind.regions, "wales_again", "  wALES ")
    assert (refused.value.field, refused.value.detail) == (
        "name",
        "There is already a region called Wales",
    )
    north = await reference.add_item(ReferenceKind.regions, "north", "North")
    with pytest.raises(Conflict):  # nor by renaming another to it
        await reference.update_item(ReferenceKind.regions, north.code, name="wales", active=True)
    # A retired name may be used again, but not brought back while another has it.
    await reference.update_item(ReferenceKind.regions, "wales", name="Wales", active=False)
    await reference.update_item(ReferenceKind.regions, north.code, name="Wales", active=True)
    with pytest.raises(Conflict):
        await reference.update_item(ReferenceKind.regions, "wales", name="Wales", active=True)


async def test_admins_add_a_region_through_the_page(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    client.cookies.set("registry_session", admin.session_token)
    headers = {**HTML, **await csrf_headers(client)}
    page = await client.get("/admin/reference/regions", headers=HTML)
    assert page.status_code == 200
    assert "Yorkshire and the Humber" in page.text

    bad = await client.post(
        "/admin/reference/regions", data={"code": "Not A Code", "name": "Isle"}, headers=headers
    )
    assert bad.status_code == 422
    assert "There is a problem" in bad.text
    assert 'href="#code"' in bad.text
    assert await Region.count() == 12

    added = await client.post(
        "/admin/reference/regions",
        data={"code": "isle_of_man", "name": "Isle of Man"},
        headers=headers,
    )
    assert added.status_code == 303
    assert await Region.count() == 13
    listed = await client.get(added.headers["location"], headers=HTML)
    assert "Added Isle of Man" in listed.text  # by its name, not its code

    again = await client.post(
        "/admin/reference/regions",
        data={"code": "mann", "name": "isle of  man"},
        headers=headers,
    )
    assert again.status_code == 409
    assert "There is already a region called Isle of Man" in again.text
    assert 'href="#name"' in again.text


async def test_only_admins_reach_reference_data(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.set("registry_session", registrar.session_token)
    assert (await client.get("/admin/reference", headers=HTML)).status_code == 403
    unknown_kind = await user_signed_in_as(Role.admin, "second.admin@regulator.example")
    client.cookies.set("registry_session", unknown_kind.session_token)
    assert (await client.get("/admin/reference/planets", headers=HTML)).status_code in (
        400,
        404,
        422,
    )
