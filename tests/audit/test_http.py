"""The audit trail over HTTP: what staff see on the page and their tools get from the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from registry.accounts.roles import Role
from registry.audit.service import record
from registry.audit.tables import AuditEntry
from registry.core import clock
from tests.accounts.helpers import SignedIn, make_user, user_signed_in_as

HTML = {"accept": "text/html"}


async def _change_roles(client: httpx.AsyncClient, admin: SignedIn, user_id: int) -> httpx.Response:
    return await client.patch(
        f"/api/v1/admin/users/{user_id}",
        json={"roles": ["caseworker", "registrar"]},
        headers=admin.bearer(),
    )


async def test_a_change_made_through_the_api_is_on_the_trail_with_who_where_and_which_request(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_signed_in_as(Role.admin)
    colleague = await make_user(Role.caseworker)
    response = await _change_roles(client, admin, colleague.id)
    assert response.status_code == 200

    trail = await client.get(
        "/api/v1/audit",
        params={"action": "accounts.roles_changed", "target_id": str(colleague.id)},
        headers=admin.bearer(),
    )
    assert trail.status_code == 200
    body = trail.json()
    assert body["total"] == 1
    entry = body["items"][0]
    assert entry["actor_id"] == admin.account.id
    assert entry["actor_label"] == admin.account.email
    assert entry["client_address"] == "127.0.0.1"
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["changes"] == {
        "before": {"roles": ["caseworker"]},
        "after": {"roles": ["caseworker", "registrar"]},
    }
    assert len(entry["hash"]) == 64


async def test_a_refused_change_leaves_no_entry(client: httpx.AsyncClient) -> None:
    admin = await user_signed_in_as(Role.admin)
    colleague = await make_user(Role.caseworker)
    before = await AuditEntry.count()
    response = await client.patch(
        f"/api/v1/admin/users/{colleague.id}", json={"roles": []}, headers=admin.bearer()
    )
    assert response.status_code in (400, 422)
    assert await AuditEntry.count() == before


async def test_the_api_filters_by_time_and_pages_newest_first(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for day in range(5):
        with clock.frozen_at(start + timedelta(days=day)):
            await record("register.entry_created", "registration", f"PP{day:05d}")

    response = await client.get(
        "/api/v1/audit",
        params={
            "action": "register.",
            "occurred_from": "2026-03-02T00:00:00Z",
            "occurred_before": "2026-03-05T00:00:00Z",
            "page_size": 2,
        },
        headers=registrar.bearer(),
    )
    body = response.json()
    assert body["total"] == 3
    assert [item["target_id"] for item in body["items"]] == ["PP00003", "PP00002"]


async def test_the_api_refuses_a_bad_page_size_as_a_problem(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    response = await client.get(
        "/api/v1/audit", params={"page_size": 100000}, headers=registrar.bearer()
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "page_size" in response.text


async def test_practitioners_and_employers_cannot_read_the_trail(client: httpx.AsyncClient) -> None:
    for role in (Role.practitioner, Role.employer):
        outsider = await user_signed_in_as(role)
        assert (await client.get("/api/v1/audit", headers=outsider.bearer())).status_code == 403
        client.cookies.set("registry_session", outsider.session_token)
        assert (await client.get("/audit", headers=HTML)).status_code == 403
        client.cookies.clear()


async def test_staff_see_entries_on_the_page_and_can_filter_them(
    client: httpx.AsyncClient,
) -> None:
    admin = await user_signed_in_as(Role.admin)
    colleague = await make_user(Role.caseworker, "cara.caseworker@regulator.example")
    await _change_roles(client, admin, colleague.id)
    client.cookies.set("registry_session", admin.session_token)

    everything = await client.get("/audit", headers=HTML)
    assert everything.status_code == 200
    assert "accounts.roles_changed" in everything.text
    assert "accounts.user_created" in everything.text

    filtered = await client.get(
        "/audit", params={"action": "accounts.roles", "target_type": "user"}, headers=HTML
    )
    assert "accounts.roles_changed" in filtered.text
    assert "accounts.user_created" not in filtered.text
    assert "1 entry" in filtered.text
    assert "<dt>roles</dt>" in filtered.text
    assert "<dd>caseworker → caseworker, registrar</dd>" in filtered.text


async def test_a_backwards_date_range_is_explained_on_the_page(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    client.cookies.set("registry_session", registrar.session_token)
    response = await client.get(
        "/audit", params={"from_date": "2026-05-02", "to_date": "2026-05-01"}, headers=HTML
    )
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert "The &#39;to&#39; date must be the same as or after the &#39;from&#39; date" in (
        response.text
    )
    assert 'href="#to_date-day"' in response.text  # the first box of the date


async def test_a_date_range_includes_both_whole_days(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    for moment in ("2026-05-01T00:00:00", "2026-05-02T23:59:59", "2026-05-03T00:00:00"):
        with clock.frozen_at(datetime.fromisoformat(moment).replace(tzinfo=UTC)):
            await record("register.entry_created", "registration", moment)
    client.cookies.set("registry_session", registrar.session_token)
    response = await client.get(
        "/audit",
        params={"action": "register.", "from_date": "2026-05-01", "to_date": "2026-05-02"},
        headers=HTML,
    )
    assert "2 entries" in response.text
    assert "2026-05-03T00:00:00" not in response.text


async def test_long_trails_are_paged(client: httpx.AsyncClient) -> None:
    registrar = await user_signed_in_as(Role.registrar)
    for number in range(55):
        await record("register.entry_created", "registration", f"PP{number:05d}")
    client.cookies.set("registry_session", registrar.session_token)
    first = await client.get("/audit", params={"action": "register."}, headers=HTML)
    assert "55 entries" in first.text
    assert "PP00054" in first.text
    assert "PP00004" not in first.text
    assert 'href="/audit?action=register.&amp;page=2"' in first.text
    second = await client.get("/audit", params={"action": "register.", "page": 2}, headers=HTML)
    assert "PP00004" in second.text
    assert "PP00054" not in second.text
