"""Personal API tokens on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from registry.accounts import (
    tokens,
)
from registry.accounts.roles import Role
from registry.errors import NotFound
from tests.accounts.helpers import make_user, sign_in

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
