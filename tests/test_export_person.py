"""``registry export-person``: everything held about one person, from every domain, and nothing
of anyone else's and no secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from registry.cli import cli
from registry.config import Settings
from tests.people import Person, seed_person, stored_secrets
from tests.support import registry_command


async def exported(settings: Settings, who: str, out: Path) -> dict[str, Any]:
    status, output = await registry_command(settings, "export-person", who, str(out))
    assert status == 0, output
    assert "person.json" in output
    return dict(json.loads((out / "person.json").read_text()))


async def test_the_export_holds_the_person_from_every_domain(
    engine: Any, settings: Settings, tmp_path: Path
) -> None:
    ngozi = await seed_person(settings.data_dir, "Ngozi", "Adeyemi")
    await seed_person(settings.data_dir, "Tomasz", "Nowak")

    export = await exported(settings, ngozi.entry.registration_number, tmp_path / "ngozi")

    [account] = export["accounts"]["accounts"]
    assert account["email"] == ngozi.email
    assert account["roles"] == ["practitioner", "registrar"]
    assert [token["name"] for token in account["api_tokens"]] == ["tests"]
    assert len(account["sessions"]) == 1
    assert len(account["recovery_codes"]) == 10
    assert len(account["password_links"]) == 1
    [practitioner] = export["register"]["practitioners"]
    assert practitioner["entry"]["registration_number"] == ngozi.entry.registration_number
    assert practitioner["entry"]["history"][0]["change"] == "created"
    [application] = export["register"]["applications"]
    assert application["id"] == ngozi.application.id
    assert application["health_details"] == "Asthma, well controlled"
    actions = {entry["action"] for entry in export["audit"]["entries"]}
    assert {"accounts.signed_in", "register.entry_created", "register.evidence_uploaded"} <= actions
    templates = {email["template"] for email in export["notifications"]["emails"]}
    assert {"password_reset", "application_submitted"} <= templates
    [copied] = export["files"]
    assert (tmp_path / "ngozi" / copied["file"]).read_bytes() == ngozi.evidence


async def test_the_export_holds_nothing_of_anyone_else_and_no_secret(
    engine: Any, settings: Settings, tmp_path: Path
) -> None:
    ngozi = await seed_person(settings.data_dir, "Ngozi", "Adeyemi")
    tomasz = await seed_person(settings.data_dir, "Tomasz", "Nowak")

    await exported(settings, ngozi.email.upper(), tmp_path / "ngozi")

    text = (tmp_path / "ngozi" / "person.json").read_text()
    for trace in _traces_of(tomasz):
        assert trace not in text, trace
    for secret in await stored_secrets() | _tokens_of(ngozi):
        assert secret not in text, "a secret is in the export"
    assert "[withheld]" in text  # the reset link's token


def _traces_of(person: Person) -> set[str]:
    return {
        person.email,
        person.name.split()[0],
        person.name.split()[1],
        person.entry.registration_number,
        person.evidence_sha256,
    }


def _tokens_of(person: Person) -> set[str]:
    tokens = {person.signed_in.session_token, person.signed_in.api_token, person.reset_token}
    return tokens | ({person.signed_in.totp_secret} if person.signed_in.totp_secret else set())


async def test_an_unknown_person_is_refused(
    engine: Any, settings: Settings, tmp_path: Path
) -> None:
    await seed_person(settings.data_dir, "Ngozi", "Adeyemi")

    for who in ("nobody@example.org", "PR0000019", "not a number"):
        status, output = await registry_command(
            settings, "export-person", who, str(tmp_path / "out"), with_stderr=True
        )

        assert status == 1, who
        assert f"No one is known by {who!r}" in output
        assert not (tmp_path / "out").exists()


def test_export_person_has_help() -> None:
    result = CliRunner().invoke(cli, ["export-person", "--help"])
    assert result.exit_code == 0
    assert "REGISTRATION_NUMBER_OR_EMAIL OUTDIR" in result.output
