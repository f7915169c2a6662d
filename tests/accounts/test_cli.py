"""``registry users create``: how the first admin is made, run as an operator runs it."""

from __future__ import annotations

import httpx

from registry.accounts import sign_in, users
from registry.accounts.roles import Role
from registry.accounts.tables import User
from registry.audit import service as audit
from registry.audit.tables import AuditEntry
from registry.config import Settings
from tests.support import registry_command

ADMIN_PASSWORD = "a long and quite unusual passphrase"


async def test_the_first_admin_is_created_with_a_password_from_standard_input(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    status, output = await registry_command(
        settings,
        "users",
        "create",
        "--email",
        "Ada.Admin@Regulator.example",
        "--name",
        "Ada Okafor",
        "--role",
        "admin",
        "--role",
        "registrar",
        "--password-stdin",
        input=f"{ADMIN_PASSWORD}\n",  # as `echo` sends it: the newline is not part of it
    )

    account = await users.find_account_by_email("ada.admin@regulator.example")
    assert account is not None
    assert (status, output) == (
        0,
        f"Created user {account.id}: ada.admin@regulator.example (admin, registrar)\n",
    )
    assert account.roles == {Role.admin, Role.registrar}
    signed_in = await sign_in.authenticate(account.email, ADMIN_PASSWORD, "192.0.2.1")
    assert signed_in.id == account.id
    entry = (await audit.search(action="accounts.user_created")).entries[0]
    assert entry.actor_label == "system: registry users create"
    assert entry.actor_id is None


async def test_without_a_password_the_user_is_invited(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    status, _ = await registry_command(
        settings,
        "users",
        "create",
        "--email",
        "reg@regulator.example",
        "--name",
        "Reg",
        "--role",
        "registrar",
    )

    assert status == 0
    account = await users.find_account_by_email("reg@regulator.example")
    assert account is not None
    assert not account.has_password


async def test_a_weak_password_is_refused_with_the_reason(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    status, output = await registry_command(
        settings,
        "users",
        "create",
        "--email",
        "ada@regulator.example",
        "--name",
        "Ada Okafor",
        "--role",
        "admin",
        "--password-stdin",
        input="short\n",
        with_stderr=True,
    )

    assert status == 1
    assert output == "Error: Password must be 10 characters or more\n"
    assert await User.count() == 0
    assert await AuditEntry.count() == 0


async def test_an_unknown_role_is_refused_and_the_roles_are_listed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    status, output = await registry_command(
        settings,
        "users",
        "create",
        "--email",
        "ada@regulator.example",
        "--name",
        "Ada Okafor",
        "--role",
        "superuser",
        "--password-stdin",
        input=f"{ADMIN_PASSWORD}\n",
        with_stderr=True,
    )

    assert status == 2
    assert "Invalid value for '--role': 'superuser' is not one of" in output
    assert all(role.value in output for role in Role)
    assert await User.count() == 0


async def test_a_second_account_for_an_address_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await users.create_user("ada@regulator.example", "Ada Okafor", [Role.admin])

    status, output = await registry_command(
        settings,
        "users",
        "create",
        "--email",
        "ADA@regulator.example",
        "--name",
        "Ada again",
        "--role",
        "admin",
        with_stderr=True,
    )

    assert status == 1
    assert output == "Error: There is already an account for ada@regulator.example\n"
    assert await User.count() == 1
