"""Setting a new password through a reset link, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from registry.accounts import (
    password_changes,
    password_links,
)
from registry.accounts.roles import Role
from registry.accounts.sign_in import (
    authenticate,
    session_for,
    start_session,
)
from registry.core import clock
from registry.errors import InvalidInput
from tests.accounts.helpers import make_user

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_a_reset_link_works_once_for_an_hour(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    other_session = await start_session(account, ADDRESS, "test")
    with clock.frozen_at(START) as advance:
        token = await password_links.request_password_reset(account.email)
        assert token is not None
        await password_changes.reset_password(token, "a brand new passphrase")
        with pytest.raises(InvalidInput):
            await password_changes.reset_password(token, "yet another passphrase")
        late = await password_links.request_password_reset(account.email)
        assert late is not None
        advance(timedelta(hours=1, seconds=1))
        with pytest.raises(InvalidInput):
            await password_changes.reset_password(late, "yet another passphrase")
    assert await session_for(other_session) is None
    await authenticate(account.email, "a brand new passphrase", ADDRESS)
