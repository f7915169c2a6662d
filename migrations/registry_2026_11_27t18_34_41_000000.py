"""Certificates: no two share a bit of a status list.

The allocator's permutation promises it; these unique indexes (not constraints: Piccolo's ALTER
TABLE constraints fail on SQLite) keep it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T18:34:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "certificate status slots are unique"
PURPOSES = ("revocation", "suspension")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for purpose in PURPOSES:
            await engine.run_ddl(
                f"CREATE UNIQUE INDEX IF NOT EXISTS certificate_{purpose}_slot "
                f"ON certificate ({purpose}_list, {purpose}_index)"
            )

    async def drop_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for purpose in PURPOSES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS certificate_{purpose}_slot")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
