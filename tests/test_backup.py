"""``registry backup`` and ``registry restore``: a backup brings back every row and every file,
and a restore refuses what it cannot trust."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from click.testing import CliRunner
from piccolo.apps.migrations.tables import Migration
from piccolo.table import Table

from registry.cli import cli
from registry.config import SECRET_KEY_FILE, Settings, ensure_secret_key
from registry.db import bind_engine, create_engine, registry_tables
from tests.people import seed_person
from tests.support import make_settings, registry_command

# The key comes from the data directory, so that the backup must carry it.
KEY_FROM_FILE = {"REGISTRY_SECRET_KEY": ""}


@pytest.fixture
def source(settings: Settings, tmp_path: Path) -> Settings:
    """The test database with a data directory of its own, holding a generated key file."""
    own = settings.model_copy(update={"data_dir": tmp_path / "source", "secret_key": ""})
    ensure_secret_key(own)
    return own


@pytest.fixture
async def target(engine_name: str, settings: Settings, tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty database (on the same PostgreSQL server, for PostgreSQL) and an empty data
    directory, as on a machine that lost everything."""
    data_dir = tmp_path / "target"
    if engine_name != "postgres":
        yield make_settings("sqlite", data_dir, secret_key="")
        return
    name = f"registry_restore_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(settings.resolved_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = settings.resolved_database_url.rsplit("/", 1)[0] + f"/{name}"
        yield make_settings("postgres", data_dir, database_url=url, secret_key="")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def every_row(settings: Settings | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (the migration bookkeeping too), in id order: of the bound
    engine's database, or of ``settings``'s through an engine opened for the purpose."""
    tables: list[type[Table]] = [Migration, *registry_tables()]
    if settings is None:
        return {table._meta.tablename: await _rows(table) for table in tables}
    previous = tables[0]._meta.db
    engine = create_engine(settings)
    await engine.start()
    try:
        bind_engine(engine)
        return {table._meta.tablename: await _rows(table) for table in tables}
    finally:
        bind_engine(previous)
        await engine.stop()


async def _rows(table: type[Table]) -> list[dict[str, Any]]:
    return list(await table.select().order_by(table._meta.primary_key))


def every_file(data_dir: Path) -> dict[str, bytes]:
    return {
        path.relative_to(data_dir).as_posix(): path.read_bytes()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and not path.name.startswith("registry.sqlite3")
    }


async def test_a_restore_brings_back_every_row_and_file(
    engine: Any, source: Settings, target: Settings, tmp_path: Path
) -> None:
    await seed_person(source.data_dir, "Ngozi", "Adeyemi")
    await seed_person(source.data_dir, "Tomasz", "Nowak")
    folder = tmp_path / "backup"

    status, output = await registry_command(source, "backup", str(folder), env=KEY_FROM_FILE)

    assert status == 0, output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] == ("postgresql" if source.is_postgres else "sqlite")
    assert manifest["migrations"] == sorted(row["name"] for row in await _rows(Migration))
    assert manifest["data_file_count"] == 3  # two evidence files and the key
    assert f"data/{SECRET_KEY_FILE}" in manifest["files"]

    status, output = await registry_command(target, "restore", str(folder), env=KEY_FROM_FILE)

    assert status == 0, output
    assert "Restored the backup made at" in output
    assert "3 data file(s)" in output
    assert await every_row(target) == await every_row()
    assert every_file(target.data_dir) == every_file(source.data_dir)
    assert (target.data_dir / SECRET_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert await registry_command(target, "audit", "verify", env=KEY_FROM_FILE) == (
        0,
        f"ok {len((await every_row())['audit_entry'])} entries\n",
    )


async def test_a_restore_replaces_a_database_only_when_forced(
    engine: Any, source: Settings, target: Settings, tmp_path: Path
) -> None:
    await seed_person(source.data_dir, "Ngozi", "Adeyemi")
    folder = tmp_path / "backup"
    assert (await registry_command(source, "backup", str(folder), env=KEY_FROM_FILE))[0] == 0
    assert (await registry_command(target, "migrate", env=KEY_FROM_FILE))[0] == 0

    status, output = await registry_command(
        target, "restore", str(folder), env=KEY_FROM_FILE, with_stderr=True
    )

    assert status == 1
    assert "already holds" in output
    assert "--force" in output
    assert not (target.data_dir / "files").exists()

    status, output = await registry_command(
        target, "restore", "--force", str(folder), env=KEY_FROM_FILE
    )

    assert status == 0, output
    assert await every_row(target) == await every_row()


def _tamper_with_a_file(folder: Path) -> None:
    evidence = next(path for path in (folder / "data" / "files").rglob("*") if path.is_file())
    evidence.write_bytes(evidence.read_bytes() + b"tampered")


def _lose_the_database(folder: Path) -> None:
    next(folder.glob("database.*")).unlink()


def _lose_the_manifest(folder: Path) -> None:
    (folder / "manifest.json").unlink()


def _rewrite_manifest(**changes: Any) -> Callable[[Path], None]:
    def rewrite(folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps({**manifest, **changes}))

    return rewrite


async def test_a_restore_refuses_a_backup_it_cannot_trust(
    engine: Any, source: Settings, target: Settings, tmp_path: Path
) -> None:
    await seed_person(source.data_dir, "Ngozi", "Adeyemi")
    made = tmp_path / "backup"
    assert (await registry_command(source, "backup", str(made), env=KEY_FROM_FILE))[0] == 0
    other_engine = "sqlite" if source.is_postgres else "postgresql"
    newer = [*json.loads((made / "manifest.json").read_text())["migrations"], "2099-01-01T00"]
    spoilers: list[tuple[Callable[[Path], None], str]] = [
        (_tamper_with_a_file, "is not the file that was backed up"),
        (_lose_the_database, "is missing from"),
        (_lose_the_manifest, "has no manifest.json: it is not a backup"),
        (_rewrite_manifest(data_file_count=1), "does not list the files it counts"),
        (_rewrite_manifest(engine=other_engine), f"this is a {other_engine} backup"),
        (_rewrite_manifest(migrations=newer), "made by a newer version of the service"),
    ]
    for number, (spoil, complaint) in enumerate(spoilers):
        folder = tmp_path / f"spoilt-{number}"
        shutil.copytree(made, folder)
        spoil(folder)

        status, output = await registry_command(
            target, "restore", str(folder), env=KEY_FROM_FILE, with_stderr=True
        )

        assert status == 1, (complaint, output)
        assert complaint in output
        assert not target.data_dir.exists() or not any(target.data_dir.iterdir()), complaint


async def test_a_backup_goes_into_a_new_folder_outside_the_data_directory(
    engine: Any, source: Settings, tmp_path: Path
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("an earlier backup")

    for folder, complaint in [
        (used, "is not empty"),
        (source.data_dir / "backups", "is inside the data directory"),
    ]:
        status, output = await registry_command(
            source, "backup", str(folder), env=KEY_FROM_FILE, with_stderr=True
        )
        assert (status, complaint in output) == (1, True), output


def test_the_backup_commands_have_help() -> None:
    for args in (["backup", "--help"], ["restore", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output
