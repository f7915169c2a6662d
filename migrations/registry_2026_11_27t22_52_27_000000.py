"""Employers: a number is on an organisation's watchlist at most once.

A unique index, not a constraint: Piccolo's ALTER TABLE constraints fail on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T22:52:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "one watch row per organisation and number"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS employer_watch_number "
            "ON employer_watch (organisation, registration_number)"
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS employer_watch_number")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
