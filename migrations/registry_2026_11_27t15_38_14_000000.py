"""Every account made before self-service sign-up was made by staff, by the command line or by
the demo, for an address someone vouched for: count each as confirmed from when it was made."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T15:38:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "existing accounts' email addresses confirmed"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def up() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "UPDATE account_user SET email_confirmed_at = created_at"
            " WHERE email_confirmed_at IS NULL"
        )

    async def down() -> None:
        return None  # the column goes with the migration before this one

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
