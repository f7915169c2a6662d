"""``registry keys rotate`` (a new signing key; the old ones stay published) and ``registry
verify`` (a credential checked offline from saved files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.group("keys")
def keys_command() -> None:
    """The keys that sign certificates."""


@keys_command.command("rotate")
@click.pass_context
def rotate(ctx: click.Context) -> None:
    """Make a new signing key. Certificates signed with the old keys still verify: their public
    keys stay in /.well-known/did.json. The old private key is deleted."""
    from registry.certificates import keys
    from registry.core.commands import settings_of

    settings = settings_of(ctx)
    number = keys.rotate(settings.data_dir)
    click.echo(f"Certificates are now signed with key {number}; earlier keys stay published.")


@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of /.well-known/did.json (default: this register's own keys).",
)
@click.option(
    "--status-list",
    "status_list_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of a status list the credential names; give each one.",
)
@click.pass_context
def verify(
    ctx: click.Context, file: Path, keys_file: Path | None, status_list_files: tuple[Path, ...]
) -> None:
    """Verify the credential in FILE offline, from files alone: its signature, its issuer's key,
    its revocation and suspension bits and its expiry. Exits 1 if any check fails or cannot be
    made. The live register status needs the service: POST /api/v1/verify."""
    from registry.certificates import keys, offline
    from registry.core import clock
    from registry.core.commands import settings_of

    credential = _json_object(file)
    if keys_file is not None:
        did_document = _json_object(keys_file)
    else:
        settings = settings_of(ctx)
        did_document = keys.Issuer(settings.data_dir, str(settings.base_url)).did_document()
    lists = [_json_object(path) for path in status_list_files]
    checks = offline.check(credential, did_document, lists, clock.now())
    for found in checks:
        click.echo(f"{'pass' if found.passed else 'FAIL'}  {found.label}: {found.detail}")
    valid = all(found.passed for found in checks)
    click.echo("Valid" if valid else "Not valid")
    ctx.exit(0 if valid else 1)


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise click.ClickException(f"{path} is not a JSON document") from None
    if not isinstance(value, dict):
        raise click.ClickException(f"{path} is not a JSON object")
    return value
