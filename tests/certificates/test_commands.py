"""``registry keys rotate``, backups of the keys, and the demo's certificates."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from registry.certificates import keys
from registry.certificates.demo import seed_demo_certificates
from registry.certificates.tables import Certificate
from registry.config import Settings
from registry.core import clock
from registry.core.backup import make_backup
from registry.demo import DemoSummary
from registry.register import demo
from registry.register import service as register
from registry.register.service import EntryMove
from registry.register.tables import RegisterEntry
from tests.certificates.helpers import live_certificate
from tests.register.helpers import put_on_register
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


async def test_registry_verify_checks_a_credential_offline_from_saved_files(
    client: httpx.AsyncClient, migrated: Settings, tmp_path: Path
) -> None:
    entry = await put_on_register("Jane", "Smith")
    credential = (await live_certificate(entry.id)).credential
    saved = tmp_path / "certificate.json"
    saved.write_text(json.dumps(credential))
    did = tmp_path / "did.json"
    did.write_text((await client.get("/.well-known/did.json")).text)

    async def save_lists() -> list[str]:
        paths = []
        for purpose in ("revocation", "suspension"):
            path = tmp_path / f"{purpose}.json"
            path.write_text((await client.get(f"/status-lists/{purpose}")).text)
            paths += ["--status-list", str(path)]
        return paths

    lists = await save_lists()
    status, output = await registry_command(
        migrated, "verify", str(saved), "--keys", str(did), *lists
    )
    assert status == 0, output
    assert output.splitlines()[-1] == "Valid"
    assert "pass  Not revoked: The revocation bit is clear" in output

    status, output = await registry_command(migrated, "verify", str(saved), "--keys", str(did))
    assert status == 1
    assert "FAIL  Not revoked: Not checked: give the status list" in output

    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(credential).replace("Jane Smith", "Jane Smyth"))
    status, output = await registry_command(
        migrated, "verify", str(tampered), "--keys", str(did), *lists
    )
    assert status == 1
    assert "FAIL  Signature valid: the signature does not match" in output

    await register.move_entry(entry.id, EntryMove.lapse, reason="Not renewed")
    status, output = await registry_command(
        migrated, "verify", str(saved), "--keys", str(did), *await save_lists()
    )
    assert status == 1
    assert "FAIL  Not revoked: The revocation bit is set" in output
    assert output.splitlines()[-1] == "Not valid"
