"""Backups: the database, the uploaded files and the keys, in one folder a restore can check.

A backup folder holds::

    manifest.json          when, which engine, the migrations applied, the SHA-256 of every file
    database.sqlite3       SQLite: a copy made with SQLite's online backup API
    database.pgdump        PostgreSQL: ``pg_dump --format=custom``
    data/…                 the data directory's files: uploads (``files/``), keys (``secret_key``,
                           the certificate issuer's ``issuer-keys/``)

The database is copied before the files: an upload is written to disk before the row that
names it commits, so every file the copied database names is on disk by the time files are
copied. A restore refuses a folder whose manifest does not verify, a backup of the other engine,
one made by a newer version of the service, and a database that already holds tables (unless
forced).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from registry.config import SECRET_KEY_FILE, Settings
from registry.core import clock

MANIFEST = "manifest.json"
FORMAT = 1
DATA = "data"
SQLITE_COPY = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
# Not records: the development mail drop holds copies of emails already sent (or never sent
# anywhere but there), and would carry live reset links into every backup.
NOT_BACKED_UP = frozenset({"mail"})
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")
CHUNK = 1 << 20


class BackupRefused(Exception):
    """A backup or restore that must not go ahead; the message says why, for the operator."""


@dataclass(frozen=True)
class Manifest:
    made_at: str
    engine: str  # "sqlite" or "postgresql"
    database: str  # the database copy's name in the folder
    migrations: tuple[str, ...]
    secret_key_in_backup: bool  # False when REGISTRY_SECRET_KEY set it: keep that elsewhere
    data_file_count: int
    files: Mapping[str, str]  # every file in the folder but the manifest -> its SHA-256

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "made_at": self.made_at,
            "engine": self.engine,
            "database": self.database,
            "migrations": list(self.migrations),
            "secret_key_in_backup": self.secret_key_in_backup,
            "data_file_count": self.data_file_count,
            "files": dict(sorted(self.files.items())),
        }


def engine_name(settings: Settings) -> str:
    return "postgresql" if settings.is_postgres else "sqlite"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- making a backup ------------------------------------------------------------------------


def make_backup(settings: Settings, folder: Path, migrations: Sequence[str]) -> Manifest:
    """Copy the database and the data directory into ``folder`` (new or empty) and write its
    manifest. ``migrations`` are the ids the database has applied."""
    _check_new_folder(settings, folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the keys are in it
    if settings.is_postgres:
        database = POSTGRES_DUMP
        _pg_dump(settings.resolved_database_url, folder / database)
    else:
        database = SQLITE_COPY
        _sqlite_copy(settings.sqlite_path, folder / database)
    data_files = [
        _copy_into(settings.data_dir, name, folder / DATA) for name in _data_files(settings)
    ]
    files = {database: sha256_of(folder / database)}
    files.update({f"{DATA}/{name}": digest for name, digest in data_files})
    manifest = Manifest(
        made_at=clock.now().isoformat(),
        engine=engine_name(settings),
        database=database,
        migrations=tuple(migrations),
        secret_key_in_backup=(settings.data_dir / SECRET_KEY_FILE).is_file(),
        data_file_count=len(data_files),
        files=files,
    )
    (folder / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=2) + "\n")
    return manifest


def _check_new_folder(settings: Settings, folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupRefused(f"{folder} is not empty: give each backup a new folder")
    data_dir = settings.data_dir.resolve()
    if folder.resolve() == data_dir or data_dir in folder.resolve().parents:
        # Each backup would then hold every earlier one.
        raise BackupRefused(f"{folder} is inside the data directory: keep backups elsewhere")


def _data_files(settings: Settings) -> Iterator[str]:
    """Every file of the data directory a restore needs, relative to it, in name order."""
    root = settings.data_dir
    if not root.is_dir():
        return
    database_files = {
        settings.sqlite_path.resolve().with_name(settings.sqlite_path.name + suffix)
        for suffix in SQLITE_SIDE_FILES
    }
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_BACKED_UP or not path.is_file():
            continue
        if settings.is_postgres or path.resolve() not in database_files:
            yield relative.as_posix()


def _copy_into(root: Path, name: str, target_root: Path) -> tuple[str, str]:
    target = target_root / name
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy2(root / name, target)  # keeps the key file's 0600
    return name, sha256_of(target)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the service goes on writing."""
    if not source.is_file():
        raise BackupRefused(f"there is no database at {source}")
    with _sqlite(source) as live, _sqlite(target) as copy:
        live.backup(copy)
        # One self-contained file, with no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode = DELETE")


class _sqlite:
    """A plain sqlite3 connection that is closed (not just committed) on leaving the block."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=10.0)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


# --- PostgreSQL's own tools ------------------------------------------------------------------


def _pg_dump(url: str, target: Path) -> None:
    _run_pg_tool(["pg_dump", "--format=custom", f"--file={target}"], url)


def _pg_restore(url: str, source: Path) -> None:
    # One transaction: a restore that fails part-way leaves the database as it was.
    _run_pg_tool(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            str(source),
        ],
        url,
    )


def _run_pg_tool(command: list[str], url: str) -> None:
    """Run a PostgreSQL client tool on ``url``, its password in the child's PGPASSWORD so it
    never shows in the process list."""
    if shutil.which(command[0]) is None:
        raise BackupRefused(
            f"{command[0]} is not installed: install the PostgreSQL client "
            "(apt-get install postgresql-client)"
        )
    address, password = _without_password(url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    done = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [*command, f"--dbname={address}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupRefused(f"{command[0]} failed: {done.stderr.strip()}")


def _without_password(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    if parts.password is None:
        return parts.geturl(), None
    netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
    return parts._replace(netloc=netloc).geturl(), parts.password


# --- checking and restoring -------------------------------------------------------------------


def read_manifest(folder: Path) -> Manifest:
    """The folder's manifest, once every file it lists is there with the same SHA-256."""
    try:
        raw = json.loads((folder / MANIFEST).read_text())
        manifest = Manifest(
            made_at=str(raw["made_at"]),
            engine=str(raw["engine"]),
            database=str(raw["database"]),
            migrations=tuple(str(name) for name in raw["migrations"]),
            secret_key_in_backup=bool(raw["secret_key_in_backup"]),
            data_file_count=int(raw["data_file_count"]),
            files={str(name): str(digest) for name, digest in raw["files"].items()},
        )
    except FileNotFoundError:
        raise BackupRefused(f"{folder} has no {MANIFEST}: it is not a backup") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupRefused(f"{folder / MANIFEST} cannot be read: {error}") from None
    if raw.get("format") != FORMAT:
        raise BackupRefused(f"{folder} is a backup of format {raw.get('format')}, not {FORMAT}")
    _verify_files(folder, manifest)
    return manifest


def _verify_files(folder: Path, manifest: Manifest) -> None:
    names = manifest.files
    data_count = sum(1 for name in names if name.startswith(f"{DATA}/"))
    if manifest.database not in names or data_count != manifest.data_file_count:
        raise BackupRefused(f"{folder / MANIFEST} does not list the files it counts")
    for name, digest in names.items():
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise BackupRefused(f"{folder / MANIFEST} names a file outside the backup: {name}")
        if not path.is_file():
            raise BackupRefused(f"{name} is missing from {folder}")
        if sha256_of(path) != digest:
            raise BackupRefused(f"{name} in {folder} is not the file that was backed up")


def check_restorable(
    settings: Settings, manifest: Manifest, known_migrations: Sequence[str]
) -> None:
    """Refuse a backup of the other engine, or one newer than this version of the service."""
    if manifest.engine != engine_name(settings):
        raise BackupRefused(
            f"this is a {manifest.engine} backup and the service is configured for "
            f"{engine_name(settings)}"
        )
    unknown = sorted(set(manifest.migrations) - set(known_migrations))
    if unknown:
        raise BackupRefused(
            "the backup was made by a newer version of the service (migrations "
            f"{', '.join(unknown)}): restore it with that version"
        )


def restore_database(settings: Settings, folder: Path, manifest: Manifest) -> None:
    source = folder / manifest.database
    if settings.is_postgres:
        _pg_restore(settings.resolved_database_url, source)
        return
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # The backup API the other way: page by page into the live file, under SQLite's own locks.
    with _sqlite(source) as copy, _sqlite(settings.sqlite_path) as live:
        copy.backup(live)
        live.execute("PRAGMA journal_mode = WAL")


def restore_files(settings: Settings, folder: Path, manifest: Manifest) -> int:
    """Put the backed-up data files back (each written whole, then renamed into place)."""
    restored = 0
    for name in manifest.files:
        if not name.startswith(f"{DATA}/"):
            continue
        target = settings.data_dir / name.removeprefix(f"{DATA}/")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        shutil.copy2(folder / name, partial)
        partial.replace(target)
        restored += 1
    return restored


async def tables_in_database() -> list[str]:
    """The tables the bound engine's database already holds: restore replaces them only when
    told to."""
    from piccolo.apps.migrations.tables import Migration

    from registry.db import bound_engine

    if bound_engine().engine_type == "postgres":
        sql = (
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(str(row["name"]) for row in await Migration.raw(sql))
