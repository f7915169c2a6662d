"""``registry keys rotate``: a new signing key for certificates; the old ones stay published."""

from __future__ import annotations

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
