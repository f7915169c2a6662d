"""Bulk checks through the API: every status, malformed and unknown numbers, duplicates and
blanks answered in input order; the limit; CSV input; and a constant number of statements."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import msgspec
import pytest

from registry.core import clock
from registry.employers import checks
from registry.employers.checks import MAX_NUMBERS
from registry.employers.tables import BulkCheck
from registry.register import hooks, service
from registry.register.hooks import Restriction, RestrictionKind
from registry.register.numbers import check_character, registration_number
from registry.register.schemas import PublicEntry
from registry.register.tables import RegisterEntry
from tests.employers.helpers import (
    SUPERVISION,
    bearer,
    counting_statements,
    employer,
    every_status,
)

UNKNOWN = registration_number(999_990)  # well formed, on nobody's entry


async def _check(client: httpx.AsyncClient, secret: str, numbers: list[str]) -> httpx.Response:
    return await client.post(
        "/api/v1/verifications", json={"registration_numbers": numbers}, headers=bearer(secret)
    )


async def test_every_kind_of_answer_in_input_order(client: httpx.AsyncClient) -> None:
    register = await every_status()
    north = await employer()
    secret = await north.key()
    n = register.numbers
    sent = [
        n["registered"],
        f"  {n['suspended'].lower()[:2]} {n['suspended'][2:]}  ",  # spaced, lower case
        n["registered_with_conditions"],
        n["lapsed"],
        "PR1000012",  # a mistyped check character
        n["removed"],
        UNKNOWN,
        n["voluntarily_removed"],
        "",
        "hello",
        n["registered"],  # a duplicate, answered again
    ]
    with register.in_force():
        response = await _check(client, secret, sent)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(sent)
    results = body["results"]
    assert [r["input"] for r in results] == sent
    assert [r["status"] for r in results] == [
        "registered",
        "suspended",
        "registered_with_conditions",
        "lapsed",
        "malformed",
        "removed",
        "not_found",
        "voluntarily_removed",
        "malformed",
        "malformed",
        "registered",
    ]
    first = results[0]
    assert first["name"] == "Ada Lovelace"
    assert first["roles"] == [{"code": "probation_officer", "name": first["roles"][0]["name"]}]
    assert first["restrictions"] == []
    assert first["checked_at"] == body["checked_at"]
    assert results[1]["registration_number"] == n["suspended"]
    assert [x["summary"] for x in results[1]["restrictions"]] == [SUPERVISION]
    assert results[4]["registration_number"] is None
    assert "check" in results[4]["message"].lower()
    assert results[6]["message"] == f"{UNKNOWN} is not on the register"
    assert results[10] == first


async def test_the_check_is_recorded_not_the_numbers(client: httpx.AsyncClient) -> None:
    north = await employer()
    secret = await north.key()
    sent = [UNKNOWN, "PR 100000 1"]
    response = await _check(client, secret, sent)
    assert response.status_code == 200
    rows = await BulkCheck.select()
    assert len(rows) == 1
    row = rows[0]
    assert row["organisation"] == north.organisation.id
    assert row["numbers"] == 2
    assert row["user"] is None
    assert row["api_key"] is not None
    assert row["list_sha256"] == hashlib.sha256(f"{sent[0]}\n{sent[1]}\n".encode()).hexdigest()
    history = await client.get("/api/v1/organisation/checks", headers=north.admin.bearer())
    assert history.status_code == 200
    assert [(c["numbers"], c["list_sha256"]) for c in history.json()] == [(2, row["list_sha256"])]
    assert history.json()[0]["by"].startswith("API key HR system")


async def test_over_ten_thousand_is_413_naming_the_limit(client: httpx.AsyncClient) -> None:
    north = await employer()
    secret = await north.key()
    response = await _check(client, secret, [UNKNOWN] * (MAX_NUMBERS + 1))
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await BulkCheck.count() == 0


async def test_an_empty_list_is_refused(client: httpx.AsyncClient) -> None:
    north = await employer()
    response = await _check(client, await north.key(), [])
    assert response.status_code == 422
    assert await BulkCheck.count() == 0


async def test_a_member_may_check_with_their_own_token(client: httpx.AsyncClient) -> None:
    north = await employer()
    response = await client.post(
        "/api/v1/verifications",
        json={"registration_numbers": [UNKNOWN]},
        headers=north.admin.bearer(),
    )
    assert response.status_code == 200
    assert (await BulkCheck.select(BulkCheck.user).first()) == {"user": north.admin.account.id}


async def _csv(client: httpx.AsyncClient, secret: str, data: bytes, **params: str) -> Any:
    return await client.post(
        "/api/v1/verifications/csv",
        files={"file": ("staff.csv", data, "text/csv")},
        params=params,
        headers=bearer(secret),
    )


async def test_csv_by_named_column_with_blank_lines(client: httpx.AsyncClient) -> None:
    register = await every_status()
    north = await employer()
    secret = await north.key()
    n = register.numbers
    data = (
        "\ufeffStaff id,Registration number\r\n"
        f"1,{n['registered']}\r\n"
        "2,\r\n"
        "\r\n"
        f"3, {n['lapsed']} \r\n"
    ).encode()
    response = await _csv(client, secret, data)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["registered", "lapsed"]
    named = await _csv(client, secret, b"staff,pr\r\n1,PR1000011\r\n", column="pr")
    assert [r["input"] for r in named.json()["results"]] == ["PR1000011"]


async def test_csv_with_the_wrong_column_or_encoding_is_refused(
    client: httpx.AsyncClient,
) -> None:
    north = await employer()
    secret = await north.key()
    wrong = await _csv(client, secret, b"number,name\r\nPR1000011,Ada\r\n")
    assert wrong.status_code == 422
    assert "no column named 'registration_number'" in wrong.json()["detail"]
    assert "'number', 'name'" in wrong.json()["detail"]
    latin = await _csv(
        client, secret, "registration_number,name\r\nPR1000011,Zoë\r\n".encode("latin-1")
    )
    assert latin.status_code == 422
    assert "UTF-8" in latin.json()["detail"]
    empty = await _csv(client, secret, b"")
    assert empty.status_code == 422
    assert await BulkCheck.count() == 0


async def test_a_csv_of_more_than_ten_thousand_is_413(client: httpx.AsyncClient) -> None:
    north = await employer()
    data = "registration_number\n" + "PR1000011\n" * (MAX_NUMBERS + 5)
    response = await _csv(client, await north.key(), data.encode())
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]


async def test_the_statements_are_the_same_for_10_and_10000_numbers(
    client: httpx.AsyncClient,
) -> None:
    register = await every_status()
    north = await employer()
    secret = await north.key()
    known = list(register.numbers.values())
    unknown = [registration_number(500_000 + i) for i in range(5_000)]

    def mixed(size: int) -> list[str]:
        pool = [*known, "nonsense", *unknown]
        return [pool[i % len(pool)] for i in range(size)]

    counts = []
    for size in (10, 10_000):
        await _check(client, secret, ["warm-up"])  # the key's last use and minute are written
        with register.in_force(), counting_statements() as sent:
            response = await _check(client, secret, mixed(size))
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts.append(len(sent))
    assert counts[0] == counts[1], counts
    # The constant: the key and its use, the entries, each domain's restriction source, the
    # check's record and its audit entry.
    assert counts[0] <= 20, counts


async def test_a_large_answer_is_streamed_and_whole(client: httpx.AsyncClient) -> None:
    north = await employer()
    numbers = [registration_number(i) for i in range(1, 2_001)]
    response = await _check(client, await north.key(), numbers)
    assert response.status_code == 200
    assert "content-length" not in response.headers  # sent in pieces
    assert [r["input"] for r in response.json()["results"]] == numbers


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_check_character_tables_agree_with_the_register() -> None:
    for serial in [*range(0, 1_000_000, 997), 999_999, 100_001, 109_999]:
        digits = f"{serial:06d}"
        assert checks._check_character(digits) == check_character(digits)


def test_the_collector_is_paused_during_checks_and_restored_after() -> None:
    """Nested (two checks at once) it comes back on when the last ends; one that was off
    before stays off."""
    assert gc.isenabled()
    with checks._collection_paused():
        assert not gc.isenabled()
        with checks._collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with checks._collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_a_check_leaves_the_collector_on(client: httpx.AsyncClient) -> None:
    register = await every_status()
    secret = await (await employer()).key()
    with register.in_force():
        response = await _check(client, secret, [register.numbers["registered"], "hello"])
    assert response.status_code == 200, response.text
    assert gc.isenabled()


async def test_a_change_shows_in_the_very_next_check(client: httpx.AsyncClient) -> None:
    """Nothing of a check is kept: a status, a name and an order changed between two checks
    show in the second."""
    register = await every_status()
    secret = await (await employer()).key()
    number = register.numbers["registered"]
    first = (await _check(client, secret, [number])).json()["results"][0]
    assert (first["status"], first["name"], first["restrictions"]) == (
        "registered",
        "Ada Lovelace",
        [],
    )
    entry = (
        await RegisterEntry.select(RegisterEntry.id)
        .where(RegisterEntry.registration_number == number)
        .first()
    )
    assert entry is not None
    await service.change_name(entry["id"], "Ada", "Byron", reason="Marriage")
    cut = Restriction(
        RestrictionKind.interim_suspension, "Suspended", date(2026, 1, 1), None, "/d/1"
    )

    async def suspended(entry_ids: object, on: date) -> dict[int, list[Restriction]]:
        return {entry["id"]: [cut]}

    with hooks.extra_sources(restriction_sources=[suspended]):
        await service.refresh_entry(entry["id"], date.today())
        second = (await _check(client, secret, [number, number.lower()])).json()["results"]
    assert [r["status"] for r in second] == ["suspended", "suspended"]
    assert [r["name"] for r in second] == ["Ada Byron", "Ada Byron"]
    assert second[1]["input"] == number.lower()
    assert (
        second[0]["restrictions"]
        == second[1]["restrictions"]
        == [
            {
                "kind": "interim_suspension",
                "summary": "Suspended",
                "starts_on": "2026-01-01",
                "ends_on": None,
                "decision_url": "/d/1",
            }
        ]
    )
    await service.move_entry(entry["id"], service.EntryMove.voluntary_removal, reason="Retired")
    third = (await _check(client, secret, [number])).json()["results"][0]
    assert third["status"] == "voluntarily_removed"


async def _public_entry(number: str) -> PublicEntry:
    row = (
        await RegisterEntry.select(RegisterEntry.public_document)
        .where(RegisterEntry.registration_number == number)
        .first()
    )
    assert row is not None
    return PublicEntry.model_validate_json(row["public_document"])


async def _store_document(number: str, document: str) -> None:
    """The entry's public document replaced by ``document``, as it is."""
    await RegisterEntry.update({RegisterEntry.public_document: document}).where(
        RegisterEntry.registration_number == number
    )


async def test_a_name_is_answered_as_the_public_entry_holds_it(client: httpx.AsyncClient) -> None:
    """The name and roles are cut from the public entry's text: a name holding quotation marks,
    the document's own keys and letters beyond ASCII comes back whole, as the lookup shows it."""
    register = await every_status()
    secret = await (await employer()).key()
    number = register.numbers["registered"]
    odd = 'Zoë "Ro,\\"region\\":" O\'Neil,"name":{"x":[1]} 李'
    public = (await _public_entry(number)).model_copy(update={"name": odd})
    await _store_document(number, public.model_dump_json())
    result = (await _check(client, secret, [number])).json()["results"][0]
    lookup = (await client.get(f"/api/v1/register/{number}")).json()
    assert result["name"] == odd == lookup["name"]
    assert result["roles"] == lookup["roles"] == [r.model_dump() for r in public.roles]


async def test_a_document_as_the_migration_wrote_it_is_answered_alike(
    client: httpx.AsyncClient,
) -> None:
    """The name and roles are cut from the place the register writes them, the same in every
    document: one rewritten by the migration that added the removal fields (json.dumps, letters
    beyond ASCII escaped) is answered byte for byte as the register's own; one whose name is
    elsewhere (a space after the first key) fails loudly rather than answering something else."""
    register = await every_status()
    north = await employer()
    secret = await north.key()
    number = register.numbers["registered"]
    own = (await _public_entry(number)).model_copy(update={"name": 'Zoë "Q" 李'}).model_dump_json()
    migrated = json.dumps(json.loads(own), separators=(",", ":"))
    assert "\\u00eb" in migrated

    async def answer(document: str) -> bytes:
        await _store_document(number, document)
        with clock.frozen_at(datetime(2026, 11, 28, 9, 30, tzinfo=UTC)):
            response = await _check(client, secret, [number, number.lower()])
        assert response.status_code == 200, response.text
        return response.content.split(b',"checked_at"', 1)[1]  # after the check's id

    assert await answer(migrated) == await answer(own)
    assert json.loads(b'{"checked_at"' + await answer(own))["results"][1]["name"] == 'Zoë "Q" 李'
    spaced = own.replace('":"', '": "', 1)  # '{"registration_number": "PR…","name":…'
    await _store_document(number, spaced)
    with pytest.raises(msgspec.DecodeError):
        await checks.check([number], checks.Checker(north.organisation.id))
