"""``registry demo``: seeds demo data a newcomer can sign in with, and can be run again."""

from __future__ import annotations

import httpx

from registry.accounts import sign_in, users
from registry.accounts.demo import DEMO_PASSWORD, DEMO_PEOPLE
from registry.accounts.roles import Role
from registry.config import Settings
from registry.register.demo_applications import DEMO_APPLICANTS
from tests.support import registry_command


async def test_demo_prints_a_login_for_every_role_and_can_run_twice(
    client: httpx.AsyncClient, migrated: Settings
) -> None:
    status, output = await registry_command(migrated, "demo", "--no-serve")
    assert status == 0, output
    assert "The register is running at http://127.0.0.1:8000/" in output
    for role, email, _ in DEMO_PEOPLE:
        assert f"{role.value:<14} {email}" in output
    assert {role for role, _, _ in DEMO_PEOPLE} == set(Role)

    again, _ = await registry_command(migrated, "demo", "--no-serve")
    assert again == 0
    admin_email = DEMO_PEOPLE[0][1]
    account = await sign_in.authenticate(admin_email, DEMO_PASSWORD, "127.0.0.1")
    assert Role.admin in account.roles
    _, total = await users.list_accounts(page=1, page_size=50)
    assert total == len(DEMO_PEOPLE) + len(DEMO_APPLICANTS)  # applicants have logins too
