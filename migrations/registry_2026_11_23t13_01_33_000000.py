"""Name keys: the index search reads a page of a common name from, in name order.

They replace the full-text indexes (FTS5 on SQLite, GIN on PostgreSQL), which handed back every
match of a common prefix to be sorted for a page of 20: dropped here with their triggers.

- (key, name, entry) is the order search walks; (entry, key) is unique, one row per key.
- Existing entries get their keys here, from the same ``names.name_keys`` the service writes
  (entries that have keys already are left alone, so running it again adds nothing twice).
"""

import importlib
from types import ModuleType

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from registry.register.names import name_keys

ID = "2026-11-23T13:01:33:000000"
VERSION = "1.38.0"
DESCRIPTION = "register name key indexes and existing entries' keys"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS register_name_key_walk ON register_name_key (key, name, entry)",
    "CREATE UNIQUE INDEX IF NOT EXISTS register_name_key_entry ON register_name_key (entry, key)",
]
INDEXES_DOWN = [
    "DROP INDEX IF EXISTS register_name_key_walk",
    "DROP INDEX IF EXISTS register_name_key_entry",
]
BATCH = 5_000


def _full_text_migration() -> ModuleType:
    # The migration that made the full-text indexes, by the name Piccolo imports it under (it
    # puts the migrations folder on sys.path).
    return importlib.import_module("registry_2026_11_23t11_21_54_000000")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        made = _full_text_migration()
        sqlite = engine.engine_type == "sqlite"
        full_text = made.SQLITE_SEARCH_DOWN if sqlite else made.POSTGRES_SEARCH_DOWN
        for statement in INDEXES + full_text:
            await engine.run_ddl(statement)
        entries = await engine.run_querystring(
            QueryString(
                "SELECT e.id AS entry, p.search_name AS name FROM register_entry e"
                " JOIN register_practitioner p ON p.id = e.practitioner WHERE NOT EXISTS"
                " (SELECT 1 FROM register_name_key k WHERE k.entry = e.id)"
            )
        )
        rows = [(key, r["name"], r["entry"]) for r in entries for key in name_keys(r["name"])]
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            values = ", ".join("({}, {}, {})" for _ in batch)
            await engine.run_querystring(
                QueryString(
                    f"INSERT INTO register_name_key (key, name, entry) VALUES {values}",
                    *[value for row in batch for value in row],
                )
            )

    async def down() -> None:
        engine = engine_finder()
        assert engine is not None
        made = _full_text_migration()
        sqlite = engine.engine_type == "sqlite"
        full_text = made.SQLITE_SEARCH if sqlite else made.POSTGRES_SEARCH
        for statement in INDEXES_DOWN + full_text:
            await engine.run_ddl(statement)
        if sqlite:
            await engine.run_ddl("INSERT INTO register_search(register_search) VALUES ('rebuild')")
        await engine.run_ddl("DELETE FROM register_name_key")

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
