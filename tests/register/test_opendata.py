"""Open data: the whole public register as streamed CSV and JSON, and the page describing them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import httpx
import pytest

from registry.core import clock
from registry.register import hooks, opendata, service
from registry.register.schemas import PublicEntry
from registry.register.service import EntryMove
from registry.register.tables import Practitioner
from tests.register.helpers import put_on_register

HTML = {"accept": "text/html"}
PRIVATE_VALUES = ("1985-03-14", "@example.org")  # helpers.person's date of birth and email
CSV_HEADER = [
    "registration_number",
    "given_names",
    "family_name",
    "roles",
    "region",
    "status",
    "registered_since",
    "registered_until",
    "qualifications",
    "restrictions",
    "removed_on",
    "removal_reason",
]


def _rows(body: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(body, newline=""))
    assert reader.fieldnames == CSV_HEADER
    return list(reader)


async def _a_few_entries() -> list[service.Entry]:
    first = await put_on_register(
        "Zoë", "O'Brien", roles=("probation_officer", "senior_probation_officer")
    )
    second = await put_on_register("Amir", "Khan", region="north_east")
    third = await put_on_register("Bethan", "Jones", region="east_midlands")
    await service.move_entry(third.id, EntryMove.lapse, reason="Did not renew")
    return [first, second, third]


async def test_the_csv_file_has_every_entry_and_only_public_fields(
    client: httpx.AsyncClient,
) -> None:
    entries = await _a_few_entries()
    with clock.frozen_at(datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)):
        response = await client.get("/register/download.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="probation-register-2026-11-23.csv"'
    )
    assert response.headers["x-generated-at"] == "2026-11-23T14:05:09Z"
    for private in PRIVATE_VALUES:
        assert private not in response.text
    rows = _rows(response.text)
    assert [row["registration_number"] for row in rows] == [e.registration_number for e in entries]
    assert rows[0] == {
        "registration_number": entries[0].registration_number,
        "given_names": "Zoë",
        "family_name": "O'Brien",
        "roles": "Probation Officer; Senior Probation Officer",
        "region": "London",
        "status": "registered",
        "registered_since": "2020-04-01",
        "registered_until": "2027-11-30",
        "qualifications": "Professional Qualification in Probation (PQiP)",
        "restrictions": "",
        "removed_on": "",
        "removal_reason": "",
    }
    assert rows[2]["status"] == "lapsed"
    assert rows[2]["region"] == "East Midlands"


async def test_the_json_file_has_the_public_entries_and_says_when_it_was_made(
    client: httpx.AsyncClient,
) -> None:
    entries = await _a_few_entries()
    with clock.frozen_at(datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)):
        response = await client.get("/register/download.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        'attachment; filename="probation-register-2026-11-23.json"'
    )
    assert response.headers["x-generated-at"] == "2026-11-23T14:05:09Z"
    for private in PRIVATE_VALUES:
        assert private not in response.text
    document = response.json()
    assert list(document) == ["generated_at", "fields", "entries"]
    assert document["generated_at"] == "2026-11-23T14:05:09Z"
    assert [field["name"] for field in document["fields"]] == list(PublicEntry.model_fields)
    assert all(field["description"] for field in document["fields"])
    published = [PublicEntry.model_validate(item) for item in document["entries"]]
    assert published == [(await service.get_entry(e.id)).public for e in entries]
    for item in document["entries"]:
        assert set(item) == set(PublicEntry.model_fields)


async def test_an_empty_register_gives_a_header_row_and_an_empty_list(
    client: httpx.AsyncClient,
) -> None:
    csv_response = await client.get("/register/download.csv")
    assert csv_response.text == ",".join(CSV_HEADER) + "\r\n"
    json_response = await client.get("/register/download.json")
    assert json_response.json()["entries"] == []


async def test_the_files_are_streamed_a_page_of_entries_at_a_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        await put_on_register("Page", f"Person{n}")
    monkeypatch.setattr(opendata, "PAGE_SIZE", 2)
    chunks = [chunk async for chunk in opendata.csv_file()]
    assert [chunk.count(b"\r\n") for chunk in chunks] == [1, 2, 2, 1]  # header, then pages
    parts = [chunk async for chunk in opendata.json_file(clock.now())]
    assert len(parts) == 5  # head, three pages, close
    assert len(json.loads(b"".join(parts))["entries"]) == 5
    # Over HTTP too, every entry arrives across the pages.
    assert len(_rows((await client.get("/register/download.csv")).text)) == 5
    assert len((await client.get("/register/download.json")).json()["entries"]) == 5


async def test_restrictions_are_summarised_and_formulas_defused_in_the_csv(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The register refuses such names now; one carried over from an earlier system may remain.
    entry = await put_on_register("Hyper", "Smith")
    await Practitioner.update({Practitioner.given_names: "=HYPERLINK(1)"}).where(
        Practitioner.id == entry.practitioner_id
    )

    async def conditions(entry_ids: Sequence[int], on: date) -> dict[int, list[hooks.Restriction]]:
        return {
            entry.id: [
                hooks.Restriction(
                    hooks.RestrictionKind.conditions,
                    "Must work under supervision",
                    date(2026, 6, 1),
                    date(2027, 5, 31),
                    "https://register.example/decisions/1",
                )
            ]
        }

    with hooks.extra_sources(restriction_sources=[conditions]):
        await service.refresh_entry(entry.id, clock.now().date())
    rows = _rows((await client.get("/register/download.csv")).text)
    assert rows[0]["given_names"] == "'=HYPERLINK(1)"
    assert rows[0]["status"] == "registered_with_conditions"
    assert rows[0]["restrictions"] == "Conditions: Must work under supervision (until 2027-05-31)"
    document = (await client.get("/register/download.json")).json()
    assert document["entries"][0]["given_names"] == "=HYPERLINK(1)"  # JSON is data, not formulas
    assert document["entries"][0]["restrictions"][0]["decision_url"].endswith("/decisions/1")


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("Smith", "Smith"),
        ("Smith-Jones", "Smith-Jones"),
        ("=1+1", "'=1+1"),
        ("-1", "'-1"),
        ("\t=1", "'\t'=1"),
        ("Smith;=HYPERLINK(1)", "Smith;'=HYPERLINK(1)"),
        ("Smith; =1", "Smith; '=1"),
        ("Smith,@SUM(1)", "Smith,'@SUM(1)"),
        ("Smith\t+1", "Smith\t'+1"),
        ("Smith|-1", "Smith|'-1"),
        ("a;=1;+2", "a;'=1;'+2"),
    ],
)
def test_a_cell_that_a_spreadsheet_could_run_is_made_text_whatever_the_separator(
    text: str, cell: str
) -> None:
    assert opendata.csv_cell(text) == cell


async def test_a_formula_after_a_separator_is_defused_in_the_csv_and_exact_in_the_json(
    client: httpx.AsyncClient,
) -> None:
    await put_on_register("Ann", "Smith;=HYPERLINK(1)")

    rows = _rows((await client.get("/register/download.csv")).text)
    assert rows[0]["family_name"] == "Smith;'=HYPERLINK(1)"
    document = (await client.get("/register/download.json")).json()
    assert document["entries"][0]["family_name"] == "Smith;=HYPERLINK(1)"


async def test_the_download_page_explains_every_field_and_links_to_both_files(
    client: httpx.AsyncClient,
) -> None:
    await _a_few_entries()
    response = await client.get("/register/download", headers=HTML)
    assert response.status_code == 200
    page = response.text
    assert '<h1 class="govuk-heading-l">Download the register</h1>' in page
    assert 'href="/register/download.csv"' in page
    assert 'href="/register/download.json"' in page
    assert "3 entries today" in page
    for name in CSV_HEADER + list(PublicEntry.model_fields):
        assert f"<code>{name}</code>" in page


def test_every_public_field_is_documented() -> None:
    assert [field.name for field in opendata.JSON_FIELDS] == list(PublicEntry.model_fields)
    assert [column.name for column in opendata.CSV_COLUMNS] == CSV_HEADER
