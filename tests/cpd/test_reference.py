"""CPD's standards and practice areas: seeded, and kept by admins with the register's lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from registry.accounts.roles import Role
from registry.audit.service import search as audit_search
from registry.core import reference
from registry.cpd.reference import PRACTICE_AREAS, STANDARDS
from registry.errors import InvalidInput
from tests.accounts.helpers import csrf_headers, user_signed_in_as
from tests.cpd.helpers import log, practitioner_with_record

HTML = {"accept": "text/html"}


@pytest.fixture(autouse=True)
async def _lists_put_back(engine: Any) -> AsyncIterator[None]:
    saved = {each: await reference.list_items(each) for each in (STANDARDS, PRACTICE_AREAS)}
    yield
    for each, items in saved.items():
        table = each.table
        await table.delete().where(table.id.not_in([item.id for item in items]))
        for item in items:
            await table.update({table.name: item.name, table.active: item.active}).where(
                table.id == item.id
            )


async def test_the_five_standards_and_the_practice_areas_are_seeded(engine: Any) -> None:
    standards = await reference.list_items(STANDARDS)
    assert len(standards) == 5
    areas = {item.name for item in await reference.list_items(PRACTICE_AREAS)}
    assert {
        "Risk assessment and management",
        "Public protection and safeguarding",
        "Desistance and rehabilitation",
        "Victims and restorative justice",
        "Diversity and inclusion",
        "Professional ethics",
    } <= areas


async def test_admins_add_rename_and_retire_areas_on_the_shared_pages(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_signed_in_as(Role.admin)
    client.cookies.update(admin.cookies())
    headers = HTML | await csrf_headers(client)
    overview = await client.get("/admin/reference", headers=headers)
    assert "CPD practice areas" in overview.text
    assert "Standards of CPD" in overview.text
    added = await client.post(
        "/admin/reference/cpd_practice_areas",
        data={"code": "youth_justice", "name": "Youth justice"},
        headers=headers,
    )
    assert added.status_code == 303
    listed = await client.get(added.headers["location"], headers=headers)
    assert "Added Youth justice" in listed.text
    assert "CPD activities" in listed.text
    retired = await client.post(
        "/admin/reference/cpd_practice_areas/youth_justice",
        data={"name": "Youth justice work", "active": "no"},
        headers=headers,
    )
    assert retired.status_code == 303
    trail = await audit_search(action="cpd.reference_changed")
    assert trail.entries[0].changes["after"] == {"name": "Youth justice work", "active": False}


async def test_a_retired_area_is_refused_for_new_activities_but_kept_on_old_ones(
    engine: Any,
) -> None:
    person = await practitioner_with_record()
    old = await log(person, practice_areas=["ethics"])
    await reference.update_item(PRACTICE_AREAS, "ethics", name="Professional ethics", active=False)
    with pytest.raises(InvalidInput) as refused:
        await log(person, practice_areas=["ethics"])
    assert refused.value.field == "practice_areas"
    assert "retired" in refused.value.detail
    assert [area.code for area in old.practice_areas] == ["ethics"]
    in_use = await reference.get_item(PRACTICE_AREAS, "ethics")
    assert in_use.in_use == 1
