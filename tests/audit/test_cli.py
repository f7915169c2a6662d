"""``registry audit verify``: what an operator runs to check nobody has altered the trail."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from registry.audit.service import record
from registry.audit.tables import AuditEntry
from registry.cli import cli
from registry.config import Settings
from tests.support import registry_command


async def test_verify_says_ok_and_how_many_entries(engine: Any, settings: Settings) -> None:
    for number in range(3):
        await record("register.entry_created", "registration", number)

    assert await registry_command(settings, "audit", "verify") == (0, "ok 3 entries\n")


async def test_verify_names_the_altered_entry_and_fails(engine: Any, settings: Settings) -> None:
    entries = [await record("register.entry_created", "registration", n) for n in range(3)]
    await AuditEntry.update({AuditEntry.actor_label: "someone.else@regulator.example"}).where(
        AuditEntry._meta.primary_key == entries[1].id
    )

    status, output = await registry_command(settings, "audit", "verify")

    assert (status, output) == (1, f"broken at entry {entries[1].id}: hash mismatch\n")


def test_the_audit_commands_have_help() -> None:
    for args in (["audit", "--help"], ["audit", "verify", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output
    assert "audit" in CliRunner().invoke(cli, ["--help"]).output
