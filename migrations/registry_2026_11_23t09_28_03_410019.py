"""A user holds each role once: (user, role) is unique.

Piccolo adds table constraints with ALTER TABLE, which SQLite cannot run; a unique index says the
same on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T09:28:03:410019"
VERSION = "1.38.0"
DESCRIPTION = "unique role per user"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS account_user_role_unique "
            'ON account_user_role ("user", role)'
        )

    async def drop_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX IF EXISTS account_user_role_unique")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
