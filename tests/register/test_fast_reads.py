"""The public lookup answered before the framework (registry.web.fastpath): exactly the answer
its route gives, read fresh every time, and the framework's answer for anything else; and the
entry page from a kept frame (registry.web.templating.VisitorPages): the page rendered whole."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from registry.db import fetch_one_now, transaction
from registry.register import api as register_api
from registry.register import pages, service
from registry.register.schemas import PublicSearchPage
from registry.register.service import EntryMove
from registry.web import templating
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
# httpx asks for gzip by default, and a compressed page is the framework's to make.
PLAIN_HTML = {**HTML, "accept-encoding": "identity"}

# A query string sends the request through the framework (the fast path takes none), which
# ignores a parameter it does not know: the same request, answered by the route itself.
FRAMEWORK = {"via": "framework"}


def _shape(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    """The answer without its request id (a problem document repeats it)."""
    request_id = response.headers["x-request-id"]
    headers = {
        k: v for k, v in response.headers.items() if k not in ("x-request-id", "content-length")
    }
    return response.status_code, response.content.replace(request_id.encode(), b""), headers


async def test_the_fast_answer_is_the_routes_answer(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    url = f"/api/v1/register/{entry.registration_number}"
    for headers in ({}, {"accept-encoding": "gzip"}, {"accept": "application/json"}):
        fast = await client.get(url, headers=headers)
        framework = await client.get(url, params=FRAMEWORK, headers=headers)
        assert _shape(fast) == _shape(framework)
        assert fast.headers["x-request-id"] != framework.headers["x-request-id"]
        assert "set-cookie" not in fast.headers
    etag = fast.headers["etag"]
    for sent in (etag, f'"other", {etag}', '"other"', "x" * 1001):
        fast = await client.get(url, headers={"if-none-match": sent})
        framework = await client.get(url, params=FRAMEWORK, headers={"if-none-match": sent})
        assert _shape(fast) == _shape(framework), sent
    # Typed in lower case, with its hyphen: the same entry, as the route reads it.
    typed = entry.registration_number.lower()
    fast = await client.get(f"/api/v1/register/{typed}")
    framework = await client.get(f"/api/v1/register/{typed}", params=FRAMEWORK)
    assert _shape(fast) == _shape(framework)
    assert fast.status_code == 200


async def test_what_the_fast_path_cannot_answer_the_framework_does(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register()
    for path, status in (
        ("/api/v1/register/PR1234563", 404),  # well formed, not on the register
        ("/api/v1/register/PR1234564", 422),  # its check character is wrong
        ("/api/v1/register/PR%0A1234563", 404),  # a control character names nothing
        (f"/api/v1/register/{entry.registration_number}/more", 404),
    ):
        response = await client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["x-request-id"]
    # A token is checked by the framework: a wrong one is refused, as on every API route.
    refused = await client.get(
        f"/api/v1/register/{entry.registration_number}",
        headers={"authorization": "Bearer prr_not-a-token"},
    )
    assert refused.status_code in (200, 401)
    assert (
        refused.status_code
        == (
            await client.get(
                f"/api/v1/register/{entry.registration_number}",
                params=FRAMEWORK,
                headers={"authorization": "Bearer prr_not-a-token"},
            )
        ).status_code
    )


async def test_every_change_is_seen_on_the_next_fast_answer(client: httpx.AsyncClient) -> None:
    entry = await put_on_register()
    url = f"/api/v1/register/{entry.registration_number}"
    first = await client.get(url)
    await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-1")
    removed = await client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert removed.status_code == 200
    assert removed.json()["status"] == "removed"
    await service.move_entry(entry.id, EntryMove.restoration, reason="Restored on appeal")
    restored = await client.get(url, headers={"if-none-match": removed.headers["etag"]})
    assert restored.status_code == 200
    assert restored.json()["status"] == "registered"


async def test_a_short_read_sees_its_own_transaction_and_only_committed_rows_outside_it(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register()
    sql = "SELECT version FROM register_entry WHERE id = {}"
    before = await fetch_one_now(sql, entry.id)
    assert before is not None
    async with transaction():
        await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-2")
        inside = await fetch_one_now(sql, entry.id)
        assert inside is not None
        assert inside["version"] > before["version"]
    after = await fetch_one_now(sql, entry.id)
    assert after == inside
    assert await fetch_one_now(sql, 2_000_000_000) is None


def _without_nonce(page: httpx.Response) -> str:
    nonce = page.headers["content-security-policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'nonce="{nonce}"' in page.text
    return page.text.replace(nonce, "")


async def test_an_entry_page_from_its_kept_frame_is_the_page_rendered_whole(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await put_on_register("Priya", "Sharma")
    url = f"/register/{entry.registration_number}"
    framed = [await client.get(url, headers=HTML) for _ in range(2)]
    assert _without_nonce(framed[0]) == _without_nonce(framed[1])
    assert framed[0].headers["x-request-id"] != framed[1].headers["x-request-id"]
    monkeypatch.setattr(pages, "ENTRY_PAGES", templating.VisitorPages())
    monkeypatch.setattr(templating, "_top_level_imports", lambda environment, template: None)
    whole = await client.get(url, headers=HTML)
    assert _without_nonce(whole) == _without_nonce(framed[0])
    assert "Priya Sharma" in whole.text


async def test_an_entry_page_shows_every_change_on_the_next_request(
    client: httpx.AsyncClient,
) -> None:
    entry = await put_on_register("Priya", "Sharma")
    url = f"/register/{entry.registration_number}"
    # Without a cookie (the fast path, from a kept page) and with one (the framework).
    for cookie in ({}, {"cookie": "registry_csrf=abc"}):
        asked = {**PLAIN_HTML, **cookie}
        client.cookies.clear()
        for _ in range(2):  # the second from the page kept by the first
            assert "must not practise" not in (await client.get(url, headers=asked)).text
        await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-3")
        client.cookies.clear()
        removed = await client.get(url, headers=asked)
        assert "must not practise" in removed.text
        assert "Left the register on" in removed.text
        await service.move_entry(entry.id, EntryMove.restoration, reason="Restored on appeal")
        client.cookies.clear()
        restored = await client.get(url, headers=asked)
        assert "must not practise" not in restored.text
        assert "Registered until" in restored.text


def _visitor_page(page: httpx.Response) -> tuple[int, str, dict[str, str]]:
    """A page as a visitor without a cookie gets it, without what is made afresh for each
    request: its request id, script nonce and form token (in the page and in its cookie)."""
    token = page.cookies["registry_csrf"]
    headers = {
        k: v.replace(token, "")
        for k, v in page.headers.items()
        if k not in ("x-request-id", "content-security-policy")
    }
    return page.status_code, _without_nonce(page).replace(token, ""), headers


async def test_a_visitors_entry_page_is_the_routes_page_byte_for_byte(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    entry = await put_on_register("Priya", "Sharma")
    for typed in (entry.registration_number, entry.registration_number.lower()):
        url = f"/register/{typed}"
        client.cookies.clear()
        fast = await client.get(url, headers=PLAIN_HTML)
        client.cookies.clear()
        framework = await client.get(url, params=FRAMEWORK, headers=PLAIN_HTML)
        client.cookies.clear()
        again = await client.get(url, headers=PLAIN_HTML)  # the kept page, filled in afresh
        assert _visitor_page(fast) == _visitor_page(framework) == _visitor_page(again)
        assert list(fast.headers.keys()) == list(framework.headers.keys())
        assert fast.headers["x-request-id"] != again.headers["x-request-id"]
        assert fast.cookies["registry_csrf"] != again.cookies["registry_csrf"]
        assert "Priya Sharma" in fast.text
    assert app.state["kept_entry_pages"].held > 0


async def test_what_the_page_fast_path_cannot_answer_the_framework_does(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    entry = await put_on_register("Priya", "Sharma")
    url = f"/register/{entry.registration_number}"
    for path in (
        "/register/PR1234563",  # well formed, not on the register
        "/register/PR1234564",  # its check character is wrong
        f"{url}/decisions",
        "/register/download",
    ):
        client.cookies.clear()
        response = await client.get(path, headers=PLAIN_HTML)
        client.cookies.clear()
        framework = await client.get(path, params=FRAMEWORK, headers=PLAIN_HTML)
        assert response.status_code == framework.status_code, path
    app.state["kept_entry_pages"] = templating.KeptPages(max_bytes=1024 * 1024)
    # A visitor holding a cookie (a session, a form token), or whose page is compressed, is
    # answered by the framework: nothing is kept for them.
    client.cookies.clear()
    held = await client.get(url, headers={**PLAIN_HTML, "cookie": "registry_csrf=abc"})
    assert held.status_code == 200
    assert "set-cookie" not in held.headers
    gzipped = await client.get(url, headers={**HTML, "accept-encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert app.state["kept_entry_pages"].held == 0


def test_kept_pages_are_bounded_and_only_given_for_the_same_document() -> None:
    kept = templating.KeptPages(max_bytes=3 * 1024)
    page = templating.KeptPage((b"<p>", templating.NONCE, b"x" * 100), own_bytes=100)
    for n in range(10):
        kept.put(f"/register/{n}", "document", page)
    assert kept.held <= 3 * 1024
    assert kept.get("/register/0", "document") is None  # the oldest went first
    assert kept.get("/register/9", "document") == page.pieces
    assert kept.get("/register/9", "another document") is None
    assert templating.fill(page.pieces, b"N", b"T") == b"<p>N" + b"x" * 100


SEARCHES = (
    "q=smi",
    "q=Smith",
    "q=smi&page_size=1",
    "q=smi&page_size=1&page=2",
    "q=jane+smi",
    "q=J%C3%A1ne",
    "q=",
    "",
    "region=london&status=registered",
    "q=smi&status=removed",
    "q=smi&status=nonsense",  # refused: 422
    "q=smi&page=9",  # past the last page: 404
    "q=smi&page=0",
    "q=smi&page=01",
    "q=smi&page_size=101",
    "q=smi&q=jon",
    "q=" + "x" * 101,
    "q=smi&region=" + "x" * 41,
    "q=smi&role=nonsense",
    "q=%FF",
    "q=smith%00",
    "q=smi%E2%80%AEth",
    "q=smi%0Ath",
    "q=smi&unknown=1",
)


async def test_the_fast_search_is_the_routes_search(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[int] = []  # by the fast path
    made = register_api._json_answer

    def counted(*args: Any) -> Any:
        answer = made(*args)
        answered.append(answer is not None)
        return answer

    monkeypatch.setattr(register_api, "_json_answer", counted)
    for given, family in (("Jane", "Smith"), ("Jon", "Smithers"), ("Ann", "Jones")):
        await put_on_register(given, family)
    for query in SEARCHES:
        for headers in ({}, {"accept-encoding": "identity"}):
            fast = await client.get(f"/api/v1/register?{query}", headers=headers)
            framework = await client.get(f"/api/v1/register?{query}&via=framework", headers=headers)
            fast_shape, framework_shape = _shape(fast), _shape(framework)
            if fast.status_code == 200:
                # The time the page was made is the one thing two answers may differ by.
                fast_shape = (200, b"", fast_shape[2])
                framework_shape = (200, b"", framework_shape[2])
                assert {**fast.json(), "generated_at": ""} == {
                    **framework.json(),
                    "generated_at": "",
                }
            assert fast_shape == framework_shape, query
    assert sum(answered) >= 10  # the plain searches, not compressed
    plain = await client.get("/api/v1/register?q=smi", headers={"accept-encoding": "identity"})
    assert plain.json()["total"] == 2
    # Each entry as the lookup serves it, and the page as its schema serialises it.
    assert (
        plain.content
        == PublicSearchPage.model_validate_json(plain.content)
        .model_dump_json(by_alias=True)
        .encode()
    )
    etag = plain.headers["etag"]
    for sent in (etag, f'"other", {etag}', '"other"', "x" * 1001):
        fast = await client.get("/api/v1/register?q=smi", headers={"if-none-match": sent})
        framework = await client.get(
            "/api/v1/register?q=smi&via=framework", headers={"if-none-match": sent}
        )
        assert fast.status_code == framework.status_code, sent
        assert fast.headers.get("etag") == framework.headers.get("etag")


async def test_every_change_is_seen_on_the_next_fast_search(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    url = "/api/v1/register?q=smi"
    first = await client.get(url)
    await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-4")
    removed = await client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert removed.status_code == 200
    assert [item["status"] for item in removed.json()["items"]] == ["removed"]
