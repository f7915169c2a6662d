"""Users on both engines: adding them, their roles, deactivating and reactivating."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from registry.accounts import (
    tokens,
    users,
)
from registry.accounts.roles import Role
from registry.accounts.sign_in import (
    session_for,
    start_session,
)
from registry.accounts.tables import BrowserSession, User
from registry.audit.tables import AuditEntry
from registry.errors import Conflict, InvalidInput
from tests.accounts.helpers import PASSWORD, make_user, sign_in, user_signed_in_as

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_a_user_is_created_with_a_case_folded_email_and_audited(
    client: httpx.AsyncClient,
) -> None:
    account = await users.create_user(
        "  Jo.Bloggs@Example.ORG ", "Jo  Bloggs", [Role.registrar], PASSWORD
    )
    assert account.email == "jo.bloggs@example.org"
    assert account.display_name == "Jo Bloggs"
    assert account.roles == {Role.registrar}
    entry = await AuditEntry.select().where(AuditEntry.action == "accounts.user_created").first()
    assert entry is not None
    assert entry["target_id"] == str(account.id)
    assert "hash" not in entry["changes"].lower() or "password" not in entry["changes"].lower()


async def test_one_account_per_email_whatever_its_case(client: httpx.AsyncClient) -> None:
    await users.create_user("a@example.org", "A", [Role.practitioner], PASSWORD)
    with pytest.raises(Conflict):
        await users.create_user("A@EXAMPLE.ORG", "A again", [Role.practitioner], PASSWORD)
    assert await User.count() == 1


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", PASSWORD, "email"),
        ("weak@example.org", "short", "password"),
        ("weak@example.org", "password123", "password"),
        ("sam.jones@example.org", "sam.jones-is-my-password", "password"),
    ],
)
async def test_bad_details_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, email: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await users.create_user(email, "Sam Jones", [Role.practitioner], password)
    assert refused.value.field == field
    assert await User.count() == 0
    assert await AuditEntry.count() == 0


async def test_deactivation_ends_every_session_and_token(client: httpx.AsyncClient) -> None:
    signed_in = await sign_in(await make_user(Role.practitioner))
    second = await start_session(signed_in.account, ADDRESS, "another browser")
    await users.set_active(signed_in.account.id, False)
    assert await session_for(signed_in.session_token) is None
    assert await session_for(second) is None
    assert await tokens.account_for_api_token(signed_in.api_token) is None
    assert await BrowserSession.count() == 0


async def test_reactivation_does_not_bring_old_tokens_back(client: httpx.AsyncClient) -> None:
    signed_in = await user_signed_in_as(Role.practitioner)
    await users.set_active(signed_in.account.id, False)
    await users.set_active(signed_in.account.id, True)
    assert await tokens.account_for_api_token(signed_in.api_token) is None
    [token] = await tokens.list_api_tokens(signed_in.account.id)
    assert token.revoked_at is not None


async def test_an_admin_cannot_take_away_their_own_admin_role(client: httpx.AsyncClient) -> None:
    admin = await make_user(Role.admin)
    with pytest.raises(Conflict, match="own admin role"):
        await users.set_roles(admin.id, [Role.registrar], by_user_id=admin.id)
    assert (await users.get_account(admin.id)).roles == {Role.admin}
    other = await make_user(Role.admin, "other.admin@regulator.example")
    await users.set_roles(admin.id, [Role.registrar], by_user_id=other.id)
    assert (await users.get_account(admin.id)).roles == {Role.registrar}


async def test_a_refused_change_of_roles_and_status_together_changes_neither(
    client: httpx.AsyncClient,
) -> None:
    admin = await make_user(Role.admin)
    with pytest.raises(Conflict):
        await users.update_user(admin.id, roles=[Role.registrar], active=False, by_user_id=admin.id)
    account = await users.get_account(admin.id)
    assert account.active
    assert account.roles == {Role.admin}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Sam\x00Jones", "Name must not contain control characters"),
        ("Sam \u202eSenoj", "Name must not contain characters that change the direction of text"),
        ("Sam \u2067Jones", "Name must not contain characters that change the direction of text"),
    ],
)
async def test_a_display_name_that_could_mislead_is_refused(
    client: httpx.AsyncClient, name: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await users.create_user("sam@example.org", name, [Role.practitioner])
    assert (refused.value.field, refused.value.detail) == ("display_name", message)
    assert await User.count() == 0
