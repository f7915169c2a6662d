"""The public register over HTTP: JSON with ETags a CDN can use, and pages anyone can read."""

from __future__ import annotations

import html
from datetime import date

import httpx
import pytest

from registry.register import search as public_register
from registry.register import service
from registry.register.service import EntryMove
from tests.register.helpers import person, put_on_register

HTML = {"accept": "text/html"}


async def test_an_entry_is_served_with_an_etag_and_revalidated(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Jane", "Smith")
    response = await client.get(f"/api/v1/register/{entry.registration_number}")
    assert response.status_code == 200
    body = response.json()
    assert body["registration_number"] == entry.registration_number
    assert body["status"] == "registered"
    assert "date_of_birth" not in body
    assert "email" not in body
    assert response.headers["cache-control"] == "public, max-age=0, must-revalidate"
    etag = response.headers["etag"]

    again = await client.get(
        f"/api/v1/register/{entry.registration_number}", headers={"if-none-match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_a_change_is_seen_on_the_very_next_request(client: httpx.AsyncClient) -> None:
    entry = await put_on_register()
    url = f"/api/v1/register/{entry.registration_number}"
    etag = (await client.get(url)).headers["etag"]
    await service.move_entry(entry.id, EntryMove.removal, reason="Decision FTP-1")
    response = await client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response.json()["status"] == "removed"
    assert response.headers["etag"] != etag


async def test_unknown_numbers_are_404_and_malformed_ones_422(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/api/v1/register/PR1234563")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "PR1234563 is not on the register" in unknown.json()["detail"]

    mistyped = await client.get("/api/v1/register/PR1234564")
    assert mistyped.status_code == 422
    problem = mistyped.json()
    assert "last character does not match" in problem["detail"]

    nonsense = await client.get("/api/v1/register/hello")
    assert nonsense.status_code == 422


async def test_the_search_api_filters_and_pages(client: httpx.AsyncClient) -> None:
    await put_on_register("Ann", "Able", region="wales")
    await put_on_register("Ben", "Baker", region="wales", roles=("senior_probation_officer",))
    await put_on_register("Cat", "Able", region="london")
    response = await client.get(
        "/api/v1/register", params={"q": "able", "region": "wales", "page_size": 10}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert [item["name"] for item in body["items"]] == ["Ann Able"]
    assert "generated_at" in body
    assert "etag" in response.headers

    role = await client.get("/api/v1/register", params={"role": "senior_probation_officer"})
    assert [item["name"] for item in role.json()["items"]] == ["Ben Baker"]


async def test_the_search_api_explains_bad_filters(client: httpx.AsyncClient) -> None:
    for params, words in (
        ({"region": "atlantis"}, "not a region code"),
        ({"status": "struck_off"}, "not a status"),
        ({"page_size": "1000"}, "page_size"),
    ):
        response = await client.get("/api/v1/register", params=params)
        assert response.status_code in (400, 422), params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert words in response.text, response.text


async def test_the_search_page_lists_matches_with_their_status(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Priya", "Sharma", until=date(2027, 11, 30))
    page = await client.get("/register", params={"q": "shar"}, headers=HTML)
    assert page.status_code == 200
    assert "1 practitioner" in page.text
    assert f'href="/register/{entry.registration_number}"' in page.text
    assert "Registered" in page.text

    none = await client.get("/register", params={"q": "zzz"}, headers=HTML)
    assert "No practitioners match your search" in none.text


async def test_a_search_past_the_count_limit_says_more_and_how_to_narrow_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public_register, "COUNT_LIMIT", 2)
    for given in ("Ann", "Bea", "Cat"):
        await put_on_register(given, "Smith")

    body = (await client.get("/api/v1/register", params={"q": "smith"})).json()
    assert (body["total"], body["more"], len(body["items"])) == (2, True, 3)
    page = await client.get("/register", params={"q": "smith"}, headers=HTML)
    assert "More than 2 practitioners, page 1" in page.text
    assert "Add more of the name" in page.text
    exact = (await client.get("/api/v1/register", params={"q": "smith ann"})).json()
    assert (exact["total"], exact["more"]) == (1, False)


async def test_paging_past_the_last_page_is_not_found_not_an_empty_page(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public_register, "COUNT_LIMIT", 3)
    for given in ("Ann", "Bea", "Cat", "Dee", "Eve"):
        await put_on_register(given, "Smith")
    last = await client.get("/register", params={"q": "smith", "page": 1}, headers=HTML)
    assert last.status_code == 200  # 20 a page: the count limit of 3 fits on page 1
    for past in (2, 151):
        page = await client.get("/register", params={"q": "smith", "page": past}, headers=HTML)
        assert page.status_code == 404
        assert "Page not found" in page.text
        assert f"There is no page {past} of these results: they end at page 1" in page.text
    api = await client.get("/api/v1/register", params={"q": "smith", "page_size": 2, "page": 3})
    assert api.status_code == 404
    assert api.json()["detail"] == "There is no page 3 of these results: they end at page 2"
    nobody = await client.get("/register", params={"q": "zzz", "page": 1}, headers=HTML)
    assert "No practitioners match your search" in nobody.text


async def test_the_search_page_shows_a_mistyped_number_as_an_error(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/register", params={"q": "PR1234564"}, headers=HTML)
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert 'href="#q"' in page.text


async def test_the_entry_page_shows_public_fields_only(client: httpx.AsyncClient) -> None:
    entry = await put_on_register("Priya", "Sharma")
    page = await client.get(f"/register/{entry.registration_number}", headers=HTML)
    assert page.status_code == 200
    assert "Priya Sharma" in page.text
    assert "30 November 2027" in page.text
    assert "priya.sharma@example.org" not in page.text
    assert "1985" not in page.text  # the date of birth is private
    assert "There are no conditions, suspensions or warnings" in page.text

    missing = await client.get("/register/PR1234563", headers=HTML)
    assert missing.status_code == 404


async def test_the_entry_page_shows_each_qualification_on_its_own_line(
    client: httpx.AsyncClient,
) -> None:
    entry = await service.create_entry(
        service.EntryIn(
            person=person("Priya", "Sharma"),
            role_codes=["probation_officer"],
            region_code="london",
            registered_since=date(2020, 4, 1),
            registered_until=date(2027, 11, 30),
            qualifications=[
                service.QualificationIn("pqip", date(2019, 7, 1)),
                service.QualificationIn("dips", date(2010, 7, 1)),
            ],
        ),
        reason="Test entry",
    )
    document = (await client.get(f"/api/v1/register/{entry.registration_number}")).json()
    names = [html.escape(q["name"]) for q in document["qualifications"]]
    assert len(names) == 2
    page = await client.get(f"/register/{entry.registration_number}", headers=HTML)
    assert "<br>".join(names) in page.text  # a line break, not the text "<br>"
    assert "&lt;br&gt;" not in page.text
