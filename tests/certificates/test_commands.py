"""``registry keys rotate``, backups of the keys, and the demo's certificates."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import Progress

from registry.certificates import keys
from registry.certificates.demo import seed_demo_certificates
from registry.certificates.tables import Certificate
from registry.core import clock
from registry.core.backup import make_backup
from registry.demo import DemoSummary
from registry.register import demo
from registry.register.tables import RegisterEntry
from tests.support import make_settings, registry_command

TODAY = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


async def test_registry_keys_rotate_keeps_old_keys_published(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    first = keys.Issuer(tmp_path, "http://testserver.local").did_document()
    status, output = await registry_command(settings, "keys", "rotate")
    assert status == 0, output
    assert "now signed with key 2" in output
    document = keys.Issuer(tmp_path, "http://testserver.local").did_document()
    assert [m["id"] for m in document["verificationMethod"]] == [
        "did:web:testserver.local#key-1",
        "did:web:testserver.local#key-2",
    ]
    assert document["verificationMethod"][0] == first["verificationMethod"][0]
    assert sorted(p.name for p in (tmp_path / "issuer-keys").iterdir()) == [
        "issuer-1.pub",
        "issuer-2.key",
        "issuer-2.pub",
    ]
    assert "BEGIN" not in output


def test_a_backup_holds_the_issuer_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = make_settings("sqlite", data)
    keys.key_ring(data)
    sqlite3.connect(settings.sqlite_path).close()
    manifest = make_backup(settings, tmp_path / "backup", [])
    assert "data/issuer-keys/issuer-1.key" in manifest.files
    assert "data/issuer-keys/issuer-1.pub" in manifest.files
    copied = tmp_path / "backup" / "data" / "issuer-keys" / "issuer-1.key"
    assert copied.read_bytes() == (data / "issuer-keys" / "issuer-1.key").read_bytes()


async def test_the_demo_issues_a_certificate_for_every_entry_on_the_register(engine: Any) -> None:
    summary = DemoSummary()
    with clock.frozen_at(TODAY):
        await demo.seed_register(summary, Progress(disable=True), 40)
        await seed_demo_certificates(summary, Progress(disable=True))
    on_register = await RegisterEntry.count().where(
        RegisterEntry.status.is_in(["registered", "registered_with_conditions", "suspended"])
    )
    live = await Certificate.count().where(Certificate.revoked_at.is_null())
    assert live == on_register > 30
    assert summary.counts["certificates"] == live
    await seed_demo_certificates(DemoSummary(), Progress(disable=True))
    assert await Certificate.count() == live  # seeding again issues nothing more
