"""The benchmark's bulk seeder writes what the service itself would, so the benchmark is honest.

Not a timed test: it seeds a couple of hundred entries and checks they are searchable, served as
written, and that the register goes on working (numbers, ids, the name index) afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date
from pathlib import Path

import httpx

from bench.register_bench import _migrate, fresh_database
from bench.seed import SeedReport, seed_postgres, seed_sqlite
from registry.config import Settings
from registry.core import clock
from registry.db import bound_engine, transaction
from registry.register import names, service
from registry.register import search as public_register
from registry.register.tables import Practitioner, RegisterEntry
from tests.register.helpers import put_on_register

COUNT = 200


async def _seed(settings: Settings) -> SeedReport:
    if settings.is_postgres:
        return await seed_postgres(settings.resolved_database_url, COUNT, analyze=False)
    return await asyncio.to_thread(seed_sqlite, settings.sqlite_path, COUNT)


async def _schema() -> list[str]:
    """The search machinery the seeder takes apart and puts back: indexes and triggers."""
    engine = bound_engine()
    if engine.engine_type == "postgres":
        rows = await RegisterEntry.raw(
            "SELECT indexdef AS d FROM pg_indexes WHERE tablename LIKE 'register_%' ORDER BY 1"
        )
    else:
        rows = await RegisterEntry.raw(
            "SELECT sql AS d FROM sqlite_master WHERE sql IS NOT NULL"
            " AND (type IN ('index', 'trigger') OR name = 'register_search') ORDER BY 1"
        )
    return [str(row["d"]) for row in rows]


async def test_seeded_entries_are_searchable_and_served_as_the_service_would_write_them(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    schema = await _schema()
    report = await _seed(settings)

    assert await RegisterEntry.count() == COUNT
    assert await _schema() == schema
    people = await Practitioner.select(
        Practitioner.id,
        Practitioner.given_names,
        Practitioner.family_name,
        Practitioner.search_name,
    )
    assert all(
        p["search_name"] == names.search_name(p["given_names"], p["family_name"]) for p in people
    )

    sample = [0, 1, 57, 123, COUNT - 1]
    for index in sample:
        number = report.number(index)
        served = await client.get(f"/api/v1/register/{number}")
        assert served.status_code == 200, served.text
        document = served.json()
        assert document["registration_number"] == number

        # The service, deriving the document again from the rows, writes the same one.
        entry_id = await service.entry_id_for(number)
        async with transaction():
            await service.refresh_entry(entry_id, clock.now().date(), count_as_change=False)
        again = (await client.get(f"/api/v1/register/{number}")).json()
        assert {**again, "updated_at": None} == {**document, "updated_at": None}

        # Found by name, with the very document the entry is served as.
        found = await public_register.search(
            query=f"{document['family_name']} {document['given_names']}", page_size=100
        )
        mine = [e for e in found.entries if e.registration_number == number]
        assert len(mine) == 1
        assert json.loads(mine[0].model_dump_json()) == again
        by_number = await client.get("/api/v1/register", params={"q": number})
        assert by_number.json()["items"] == [again]

    # Every entry's name keys are the service's own (names.search_keys), with its region and
    # status, one row each.
    keys = await RegisterEntry.raw(
        "SELECT k.key AS key, k.name AS name, k.region AS k_region, k.status AS k_status,"
        " e.region AS region, e.status AS status, p.search_name AS search_name"
        " FROM register_name_key k JOIN register_entry e ON e.id = k.entry"
        " JOIN register_practitioner p ON p.id = e.practitioner"
    )
    assert len(keys) == sum(len(names.search_keys(p["search_name"])) for p in people)
    assert all(
        k["key"] in names.search_keys(k["search_name"])
        and (k["name"], k["k_region"], k["k_status"])
        == (k["search_name"], k["region"], k["status"])
        for k in keys
    )

    # The name index holds every seeded name: a prefix finds exactly the names with a word
    # starting with it.
    for prefix in ("s", "jo", "wil", "ma", "o"):
        expected = sum(
            1 for p in people if any(w.startswith(prefix) for w in p["search_name"].split())
        )
        assert (await public_register.search(query=prefix)).total == expected, prefix

    # The register goes on: the next entry gets a fresh id and number and is found at once.
    entry = await put_on_register("Zoë", "O'Brien-Quist", until=date(2030, 11, 30))
    assert entry.registration_number not in {report.number(i) for i in range(COUNT)}
    found = await public_register.search(query="quist zo")
    assert [e.registration_number for e in found.entries] == [entry.registration_number]


def test_a_sqlite_file_no_one_else_has_open_is_loaded_without_wal_and_left_in_wal_mode(
    tmp_path: Path,
) -> None:
    # The benchmark's case: migrated, then seeded before anything serves it. The load goes
    # through a journal in memory (see seed_sqlite), and the file ends as the service keeps it.
    database = fresh_database("sqlite", "seed", tmp_path, "")
    asyncio.run(_migrate(database.url, tmp_path))
    report = seed_sqlite(database.sqlite_path, COUNT)

    assert report.notes == []
    db = sqlite3.connect(database.sqlite_path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT p.search_name, COUNT(k.id) FROM register_practitioner p"
            " JOIN register_entry e ON e.practitioner = p.id"
            " JOIN register_name_key k ON k.entry = e.id GROUP BY e.id"
        ).fetchall()
        indexes = {
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'register_name_key'"
                " AND type = 'index'"
            )
        }
    finally:
        db.close()
    assert len(rows) == COUNT
    assert all(count == len(names.search_keys(name)) for name, count in rows)
    assert indexes == {
        "register_name_key_walk",
        "register_name_key_entry",
        "register_name_key_region",
        "register_name_key_status",
        "register_name_key_region_status",
    }
