"""Name keys for two-word and filtered searches: pair keys, and the entry's region and status.

- Every entry's keys are written again from ``names.search_keys`` (its words' keys and its pair
  keys), with the entry's region and status, a page of entries at a time (each page's keys
  deleted first, so running it again adds nothing twice).
- (key, region, name, entry) and (key, status, name, entry) are the orders a search filtered by
  region or by status walks, made after the keys are written.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from registry.register.names import search_keys

ID = "2026-11-27T21:46:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "name keys: pair keys and each entry's region and status"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS register_name_key_region"
    " ON register_name_key (key, region, name, entry)",
    "CREATE INDEX IF NOT EXISTS register_name_key_status"
    " ON register_name_key (key, status, name, entry)",
]
INDEXES_DOWN = [
    "DROP INDEX IF EXISTS register_name_key_region",
    "DROP INDEX IF EXISTS register_name_key_status",
]
ENTRIES = 2_000  # entries a page; some 25 keys each
ROWS = 5_000  # rows an INSERT


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        after = 0
        while True:
            entries = await engine.run_querystring(
                QueryString(
                    "SELECT e.id AS entry, p.search_name AS name, e.region AS region,"
                    " e.status AS status FROM register_entry e"
                    " JOIN register_practitioner p ON p.id = e.practitioner"
                    " WHERE e.id > {} ORDER BY e.id LIMIT {}",
                    after,
                    ENTRIES,
                )
            )
            if not entries:
                break
            after = entries[-1]["entry"]
            ids = [r["entry"] for r in entries]
            await engine.run_querystring(
                QueryString(
                    "DELETE FROM register_name_key WHERE entry IN"
                    f" ({', '.join('{}' for _ in ids)})",
                    *ids,
                )
            )
            rows = [
                (key, r["name"], r["entry"], r["region"], r["status"])
                for r in entries
                for key in sorted(search_keys(r["name"]))
            ]
            for start in range(0, len(rows), ROWS):
                batch = rows[start : start + ROWS]
                values = ", ".join("({}, {}, {}, {}, {})" for _ in batch)
                await engine.run_querystring(
                    QueryString(
                        "INSERT INTO register_name_key (key, name, entry, region, status)"
                        f" VALUES {values}",
                        *[value for row in batch for value in row],
                    )
                )
        for statement in INDEXES:
            await engine.run_ddl(statement)

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in INDEXES_DOWN:
            await engine.run_ddl(statement)
        # The word keys stay (the earlier migration wrote them); the pair keys go.
        await engine.run_ddl("DELETE FROM register_name_key WHERE key LIKE '% %'")

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
