"""Watchlists through the API: add, remove, replace (JSON or CSV) with the bulk check's number
rules; webhook endpoints (https, no private addresses outside development, secret shown once);
another organisation's list, endpoint and log are not found; a key needs the watchlist scope."""

from __future__ import annotations

import httpx
import pytest

from registry.audit.tables import AuditEntry
from registry.employers import watchlists
from registry.employers.tables import Watch, WebhookEndpoint
from registry.errors import InvalidInput
from tests.employers.helpers import bearer, employer
from tests.register.helpers import put_on_register

LIST = "/api/v1/organisation/watchlist"
HOOKS = "/api/v1/organisation/webhooks"


async def test_a_member_adds_removes_and_replaces_numbers(client: httpx.AsyncClient) -> None:
    north = await employer()
    a = await put_on_register("Ada", "Lovelace")
    b = await put_on_register("Brian", "Cox")
    head = north.admin.bearer()
    added = await client.post(
        LIST, json={"registration_number": f" {a.registration_number.lower()} "}, headers=head
    )
    assert added.status_code == 201, added.text
    assert added.json()["registration_number"] == a.registration_number
    again = await client.post(
        LIST, json={"registration_number": a.registration_number}, headers=head
    )
    assert again.status_code == 201
    assert (await client.get(LIST, headers=head)).json()["count"] == 1

    bad = await client.post(LIST, json={"registration_number": "PR1000012"}, headers=head)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")

    replaced = await client.put(
        LIST,
        json={
            "registration_numbers": [
                b.registration_number,
                a.registration_number,
                b.registration_number,
            ]
        },
        headers=head,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["count"] == 2
    refused = await client.put(
        LIST, json={"registration_numbers": [a.registration_number, "nonsense"]}, headers=head
    )
    assert refused.status_code == 422
    assert "Line 2" in refused.text
    assert await Watch.count() == 2  # nothing changed

    removed = await client.delete(f"{LIST}/{a.registration_number}", headers=head)
    assert removed.status_code == 204
    gone = await client.delete(f"{LIST}/{a.registration_number}", headers=head)
    assert gone.status_code == 404
    assert await AuditEntry.count().where(AuditEntry.action.like("employers.watch%")) == 3


async def test_the_list_is_replaced_from_a_csv(client: httpx.AsyncClient) -> None:
    north = await employer()
    a = await put_on_register("Ada", "Lovelace")
    csv = f"Name,Registration number\nAda,{a.registration_number}\nBlank,\n".encode()
    response = await client.put(
        f"{LIST}/csv", files={"file": ("staff.csv", csv, "text/csv")}, headers=north.admin.bearer()
    )
    assert response.status_code == 200, response.text
    assert [w["registration_number"] for w in response.json()["watched"]] == [a.registration_number]
    wrong = await client.put(
        f"{LIST}/csv",
        files={"file": ("staff.csv", b"name\nAda\n", "text/csv")},
        headers=north.admin.bearer(),
    )
    assert wrong.status_code == 422
    assert "no column" in wrong.text


async def test_a_key_needs_the_watchlist_scope(client: httpx.AsyncClient) -> None:
    north = await employer()
    verify_only = await north.key("verify")
    watching = await north.key("watchlist", name="Payroll")
    assert (await client.get(LIST, headers=bearer(verify_only))).status_code == 403
    assert (await client.get(LIST, headers=bearer(watching))).status_code == 200
    assert (await client.get(HOOKS, headers=bearer(watching))).status_code == 200


async def test_another_organisations_endpoint_and_log_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    south = await employer("Southern Trust", "south")
    _, _secret = await watchlists.add_endpoint(
        north.organisation.id,
        "http://127.0.0.1:9/hook",
        environment="development",
        secret_key="x" * 32,
        by_user_id=None,
    )
    endpoint_id = (await WebhookEndpoint.select(WebhookEndpoint.id).first() or {})["id"]
    head = south.admin.bearer()
    for response in (
        await client.get(f"{HOOKS}/{endpoint_id}/deliveries", headers=head),
        await client.delete(f"{HOOKS}/{endpoint_id}", headers=head),
        await client.post(f"{HOOKS}/{endpoint_id}/test", headers=head),
    ):
        assert response.status_code == 404, response.text
    assert (await client.get(HOOKS, headers=head)).json() == []
    assert await WebhookEndpoint.count() == 1
    own = await client.get(f"{HOOKS}/{endpoint_id}/deliveries", headers=north.admin.bearer())
    assert own.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://192.168.1.1/hook",
        "https://user:pw@example.org/hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_outside_development_private_and_plain_addresses_are_refused(url: str) -> None:
    for environment in ("production", "test"):
        with pytest.raises(InvalidInput):
            watchlists.check_url(url, environment)


def test_in_development_a_loopback_receiver_is_allowed() -> None:
    assert watchlists.check_url("http://127.0.0.1:8080/hook", "development")


async def test_an_endpoint_is_refused_by_the_api_outside_development_and_its_secret_shown_once(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    refused = await client.post(
        HOOKS, json={"url": "https://127.0.0.1/hook"}, headers=north.admin.bearer()
    )
    assert refused.status_code == 422
    assert "loopback" in refused.text
    assert await WebhookEndpoint.count() == 0
