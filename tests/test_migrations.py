"""Migrations: one linear history that builds the schema from nothing on both engines."""

from __future__ import annotations

from pathlib import Path

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from registry.config import Settings
from registry.db import bind_engine, create_engine, migration_ids, migration_state
from registry.piccolo_app import APP_CONFIG
from tests.support import make_settings


async def test_every_migration_is_applied_from_an_empty_database(migrated: Settings) -> None:
    engine = create_engine(migrated)
    bind_engine(engine)
    await engine.start()
    try:
        state = await migration_state()
    finally:
        await engine.stop()
    assert state.current
    assert state.applied == migration_ids()


async def test_the_tables_match_the_migration_history() -> None:
    # What `piccolo migrations new registry --auto` would write: nothing, or a change is unrecorded.
    statements = await AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG)
    assert [s for group in statements for s in group.statements] == []


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(make_settings("sqlite", tmp_path))
    await engine.start()
    try:
        journal = await engine._run_in_new_connection("PRAGMA journal_mode")
        foreign_keys = await engine._run_in_new_connection("PRAGMA foreign_keys")
    finally:
        await engine.stop()
    assert journal[0]["journal_mode"] == "wal"
    assert foreign_keys[0]["foreign_keys"] == 1
