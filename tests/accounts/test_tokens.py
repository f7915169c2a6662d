"""Personal API tokens on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from registry.accounts import password_changes, password_links, tokens
from registry.accounts.roles import Role
from registry.core import clock
from registry.errors import NotFound
from registry.notifications.tables import OutboxMessage
from tests.accounts.helpers import PASSWORD, make_user, sign_in

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_a_user_cannot_revoke_another_users_token(client: httpx.AsyncClient) -> None:
    owner = await sign_in(await make_user(Role.employer, "owner@example.org"))
    other = await make_user(Role.employer, "other@example.org")
    token_id = (await tokens.list_api_tokens(owner.account.id))[0].id
    with pytest.raises(NotFound):
        await tokens.revoke_api_token(other.id, token_id)
    assert await tokens.account_for_api_token(owner.api_token) is not None
    await tokens.revoke_api_token(owner.account.id, token_id)
    assert await tokens.account_for_api_token(owner.api_token) is None


@pytest.mark.parametrize(
    ("role", "lifetime"),
    [
        (Role.practitioner, tokens.PRACTITIONER_TOKEN_LIFETIME),
        (Role.registrar, tokens.STAFF_TOKEN_LIFETIME),
    ],
)
async def test_a_token_expires_after_its_lifetime(
    client: httpx.AsyncClient, role: Role, lifetime: timedelta
) -> None:
    account = await make_user(role, "holder@example.org")
    with clock.frozen_at(START) as advance:
        summary, raw = await tokens.issue_api_token(account.id, "laptop")
        assert summary.expires_at == START + lifetime
        advance(lifetime - timedelta(minutes=1))
        assert await tokens.account_for_api_token(raw) is not None
        advance(timedelta(minutes=1))
        assert await tokens.account_for_api_token(raw) is None
        response = await client.get("/api/v1/me", headers={"authorization": f"Bearer {raw}"})
        assert response.status_code == 401


async def _token_revocations(address: str) -> list[dict[str, object]]:
    rows = await OutboxMessage.select().where(
        (OutboxMessage.recipient == address) & (OutboxMessage.template == "password_changed")
    )
    return [json.loads(str(row["body"])) for row in rows]


async def test_changing_the_password_revokes_every_token_and_says_so(
    client: httpx.AsyncClient,
) -> None:
    signed_in = await sign_in(await make_user(Role.practitioner, "pat@example.org"))
    _, second = await tokens.issue_api_token(signed_in.account.id, "phone")
    await password_changes.change_password(
        signed_in.account.id, PASSWORD, "a brand new passphrase 7", keep_session_id=None
    )
    for raw in (signed_in.api_token, second):
        assert await tokens.account_for_api_token(raw) is None
    [email] = await _token_revocations("pat@example.org")
    assert email["tokens_revoked"] == 2


async def test_a_reset_revokes_every_token_too(client: httpx.AsyncClient) -> None:
    signed_in = await sign_in(await make_user(Role.practitioner, "pat@example.org"))
    link = await password_links.request_password_reset("pat@example.org")
    assert link is not None
    await password_changes.reset_password(link, "a brand new passphrase 7")
    assert await tokens.account_for_api_token(signed_in.api_token) is None
    assert [e["tokens_revoked"] for e in await _token_revocations("pat@example.org")] == [1]
