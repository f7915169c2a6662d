"""CPD pages: logging an activity with evidence, seeing progress, changing and removing it."""

from __future__ import annotations

import re
from typing import Any

import httpx

from registry.accounts.roles import Role
from registry.core import reference
from registry.cpd.reference import PRACTICE_AREAS
from registry.cpd.tables import Activity, RulePack
from tests.accounts.helpers import SignedIn, csrf_headers, user_signed_in_as
from tests.cpd.helpers import log, practitioner_with_record

HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n% a certificate\n"


def form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Desistance conference",
        "done_on-day": "12",
        "done_on-month": "2",
        "done_on-year": "2027",
        "hours": "6.5",
        "activity_type": "conference",
        "participatory": "yes",
        "practice_areas": ["desistance", "victims"],
        "standards": ["mix_of_learning"],
        "what_happened": "Two days of talks.",
        "what_learned": "How peer mentors help.",
        "practice_changed": "I now suggest a mentor early.",
        "peer_reflection": "no",
        "peer_role": "",
        **changes,
    }


async def _signed_in(client: httpx.AsyncClient, person: SignedIn) -> dict[str, str]:
    client.cookies.update(person.cookies())
    return HTML | await csrf_headers(client)


async def test_logging_an_activity_with_evidence_shows_on_the_dashboard(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    headers = await _signed_in(client, person)
    blank = await client.get("/cpd", headers=headers)
    assert "0 / 30 hours" in blank.text
    assert 'href="/cpd"' in blank.text  # "Your CPD" in the navigation
    saved = await client.post("/cpd/activities/new", data=form(), headers=headers)
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"], headers=headers)
    assert "Activity logged" in page.text
    assert "Desistance and rehabilitation, Victims and restorative justice" in page.text
    activity_id = int(re.findall(r"/cpd/activities/(\d+)", saved.headers["location"])[0])
    uploaded = await client.post(
        f"/cpd/activities/{activity_id}/evidence",
        files={"evidence": ("slides.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert uploaded.status_code == 303
    page = await client.get(uploaded.headers["location"], headers=headers)
    assert "slides.pdf" in page.text
    download = re.findall(r'href="(/cpd/evidence/\d+)"', page.text)[0]
    assert (await client.get(download, headers=headers)).content == PDF
    dashboard = await client.get("/cpd", headers=headers)
    assert "6.5 / 30 hours" in dashboard.text
    assert "6.5 / 10 hours" in dashboard.text
    assert "2 / 3 areas" in dashboard.text
    assert "23.5 more hours" in dashboard.text
    assert "Desistance conference" in dashboard.text


async def test_mistakes_are_shown_beside_each_field_and_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    headers = await _signed_in(client, person)
    answer = await client.post(
        "/cpd/activities/new",
        data=form(
            title="",
            hours="1.1",
            **{"done_on-day": "31", "done_on-month": "2"},
            practice_areas=[],
            peer_reflection="yes",
        ),
        headers=headers,
    )
    assert answer.status_code == 422
    for words in (
        "There is a problem",
        "Enter the title of the activity",
        "Date of the activity must be a real date",
        'href="#done_on-day"',
        "Hours must be in quarter hours",
        "Select at least one practice area",
        "Enter the role of the peer you reflected with",
    ):
        assert words in answer.text, words
    assert 'value="Two days of talks."' not in answer.text  # a textarea keeps its text inside
    assert "Two days of talks." in answer.text
    assert await Activity.count() == 0


async def test_a_future_date_is_refused_on_the_page(client: httpx.AsyncClient) -> None:
    person = await practitioner_with_record()
    headers = await _signed_in(client, person)
    answer = await client.post(
        "/cpd/activities/new",
        data=form(**{"done_on-day": "16", "done_on-month": "3"}),
        headers=headers,
    )
    assert answer.status_code == 422
    assert "must be today or in the past" in answer.text


async def test_changing_and_removing_an_activity(client: httpx.AsyncClient) -> None:
    person = await practitioner_with_record()
    record = await log(person)
    headers = await _signed_in(client, person)
    edit = await client.get(f"/cpd/activities/{record.id}/edit", headers=headers)
    assert 'value="Risk assessment refresher"' in edit.text
    assert 'value="1.5"' in edit.text
    changed = await client.post(
        f"/cpd/activities/{record.id}/edit", data=form(title="Renamed"), headers=headers
    )
    assert changed.status_code == 303
    assert "Renamed" in (await client.get(f"/cpd/activities/{record.id}", headers=headers)).text
    confirm = await client.get(f"/cpd/activities/{record.id}/delete", headers=headers)
    assert "Are you sure you want to remove this activity?" in confirm.text
    removed = await client.post(f"/cpd/activities/{record.id}/delete", headers=headers)
    assert removed.headers["location"] == "/cpd?done=removed"
    assert await Activity.count() == 0


async def test_evidence_is_served_to_its_owner_and_cpd_staff_only(
    client: httpx.AsyncClient,
) -> None:
    owner = await practitioner_with_record()
    record = await log(owner)
    headers = await _signed_in(client, owner)
    await client.post(
        f"/cpd/activities/{record.id}/evidence",
        files={"evidence": ("notes.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    page = await client.get(f"/cpd/activities/{record.id}", headers=headers)
    download = re.findall(r'href="(/cpd/evidence/\d+)"', page.text)[0]
    other = await practitioner_with_record("other@example.org")
    client.cookies.update(other.cookies())
    assert (await client.get(download, headers=headers)).status_code == 404
    assert (await client.get(f"/cpd/activities/{record.id}", headers=headers)).status_code == 404
    assessor = await user_signed_in_as(Role.cpd_assessor)
    client.cookies.update(assessor.cookies())
    assert (await client.get(download, headers=headers)).content == PDF
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.update(registrar.cookies())
    assert (await client.get(download, headers=headers)).status_code == 403


async def test_a_practitioner_not_on_the_register_is_told_when_the_record_starts(
    client: httpx.AsyncClient,
) -> None:
    person = await user_signed_in_as(Role.practitioner)
    headers = await _signed_in(client, person)
    page = await client.get("/cpd", headers=headers)
    assert "starts when you join the register" in page.text


async def test_admins_add_a_rule_pack_on_its_page(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    headers = await _signed_in(client, admin)
    listed = await client.get("/admin/cpd/rule-packs", headers=headers)
    assert "Default CPD requirement" in listed.text
    values = {
        "name": "From December",
        "effective_from-day": "1",
        "effective_from-month": "12",
        "effective_from-year": "2027",
        "min_total_hours": "30",
        "min_participatory_hours": "10",
        "min_reflective_accounts": "2",
        "min_peer_reflections": "1",
        "min_practice_areas": "4",
        "capped_type": "",
        "cap_hours": "",
    }
    refused = await client.post(
        "/admin/cpd/rule-packs", data={**values, "effective_from-year": "2026"}, headers=headers
    )
    assert refused.status_code == 422
    assert "must be in the future" in refused.text
    made = await client.post("/admin/cpd/rule-packs", data=values, headers=headers)
    assert made.status_code == 303
    assert (
        "Added From December" in (await client.get(made.headers["location"], headers=headers)).text
    )
    assert await RulePack.count() == 2


async def test_a_retired_area_an_activity_carries_is_still_offered_when_changing_it(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record()
    record = await log(person, practice_areas=["victims"])
    await reference.update_item(
        PRACTICE_AREAS, "victims", name="Victims and restorative justice", active=False
    )
    try:
        headers = await _signed_in(client, person)
        edit = await client.get(f"/cpd/activities/{record.id}/edit", headers=headers)
        assert re.search(r'value="victims"\s+checked', edit.text)
        fresh = await client.get("/cpd/activities/new", headers=headers)
        assert 'value="victims"' not in fresh.text
        kept = await client.post(
            f"/cpd/activities/{record.id}/edit",
            data=form(practice_areas=["victims"]),
            headers=headers,
        )
        assert kept.status_code == 303
    finally:
        await reference.update_item(
            PRACTICE_AREAS, "victims", name="Victims and restorative justice", active=True
        )
