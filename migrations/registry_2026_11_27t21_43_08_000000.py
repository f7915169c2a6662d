"""Employers: one usage row per key and minute, so concurrent calls add to one counter.

A unique index, not a constraint: Piccolo's ALTER TABLE constraints fail on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T21:43:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "one employer key usage row per key and minute"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS employer_key_usage_minute "
            "ON employer_key_usage (api_key, minute)"
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS employer_key_usage_minute")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
