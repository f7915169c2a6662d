"""``registry users``: manage accounts from the command line (the first admin, say)."""

from __future__ import annotations

import sys
from typing import Any

import click

from registry.accounts.roles import Role
from registry.errors import RegistryError


@click.group()
def users() -> None:
    """Create and manage user accounts."""


@users.command("create")
@click.option("--email", required=True, help="The person's email address (their sign-in name).")
@click.option("--name", "display_name", required=True, help="Their full name.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="A role; give --role again for several.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def create(
    ctx: click.Context, email: str, display_name: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user. Without --password-stdin they get no password until they reset it."""
    from registry.accounts import users
    from registry.audit.context import Actor, acting_as
    from registry.core.commands import run_with_engine, settings_of

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None

    async def work(engine: Any) -> users.Account:
        with acting_as(Actor(id=None, label="system: registry users create")):
            return await users.create_user(email, display_name, [Role(r) for r in roles], password)

    try:
        account = run_with_engine(settings_of(ctx), work)
    except RegistryError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"Created user {account.id}: {account.email} ({', '.join(sorted(account.roles))})")
