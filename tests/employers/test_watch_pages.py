"""The watchlist page: numbers added, removed and replaced by a form; an endpoint added with
its secret shown once; a test event queued and shown in the endpoint's delivery log."""

from __future__ import annotations

import httpx

from registry.employers import watchlists
from registry.employers.tables import Watch, WebhookEndpoint, WebhookEvent
from tests.accounts.helpers import SignedIn, csrf_headers
from tests.employers.helpers import employer
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
PAGE = "/organisation/watchlist"


async def _as(client: httpx.AsyncClient, person: SignedIn) -> dict[str, str]:
    client.cookies.update(person.cookies())
    return HTML | await csrf_headers(client)


async def test_the_watchlist_page_adds_removes_and_replaces(client: httpx.AsyncClient) -> None:
    north = await employer()
    a = await put_on_register("Ada", "Lovelace")
    headers = await _as(client, north.admin)
    assert (await client.get(PAGE, headers=headers)).status_code == 200
    added = await client.post(
        f"{PAGE}/add", data={"registration_number": a.registration_number}, headers=headers
    )
    assert added.status_code == 303
    shown = await client.get(added.headers["location"], headers=headers)
    assert a.registration_number in shown.text
    wrong = await client.post(f"{PAGE}/add", data={"registration_number": "PR12"}, headers=headers)
    assert wrong.status_code == 422
    assert "govuk-error-summary" in wrong.text
    removed = await client.post(
        f"{PAGE}/remove", data={"registration_number": a.registration_number}, headers=headers
    )
    assert removed.status_code == 303
    assert await Watch.count() == 0
    replaced = await client.post(
        f"{PAGE}/replace",
        files={"numbers": (None, f"{a.registration_number}\n\n")},
        headers=headers,
    )
    assert replaced.status_code == 303, replaced.text
    assert await Watch.count() == 1


async def test_an_endpoint_is_refused_outside_development_on_the_page(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    headers = await _as(client, north.admin)
    refused = await client.post(
        f"{PAGE}/webhooks", data={"url": "https://127.0.0.1/hook"}, headers=headers
    )
    assert refused.status_code == 422
    assert "loopback" in refused.text
    assert await WebhookEndpoint.count() == 0


async def test_a_test_event_shows_in_the_endpoints_delivery_log(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    endpoint, secret = await watchlists.add_endpoint(
        north.organisation.id,
        "http://127.0.0.1:9/hook",
        environment="development",
        secret_key="k" * 32,
        by_user_id=None,
    )
    headers = await _as(client, north.admin)
    page = await client.get(PAGE, headers=headers)
    assert "http://127.0.0.1:9/hook" in page.text
    assert secret not in page.text
    sent = await client.post(f"{PAGE}/webhooks/{endpoint.id}/test", headers=headers)
    assert sent.status_code == 303
    log = await client.get(f"{PAGE}/webhooks/{endpoint.id}", headers=headers)
    assert log.status_code == 200
    assert "evt_" in log.text
    assert (await WebhookEvent.count()) == 1
