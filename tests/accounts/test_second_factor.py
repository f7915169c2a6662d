"""The second factor on both engines: authenticator codes and recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest

from registry.accounts import (
    second_factor,
)
from registry.accounts.roles import Role
from registry.accounts.sign_in import (
    session_for,
    start_session,
)
from registry.core import clock
from registry.errors import InvalidInput
from tests.accounts.helpers import make_user
from tests.support import TEST_SECRET_KEY

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_a_totp_code_is_accepted_once(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.caseworker)
    token = await start_session(account, ADDRESS, "test")
    session = await session_for(token)
    assert session is not None
    assert not session.second_factor_verified
    with clock.frozen_at(START) as advance:
        secret = await second_factor.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
        codes = await second_factor.confirm_totp_enrolment(
            account.id, session.session_id, pyotp.TOTP(secret).at(START), TEST_SECRET_KEY
        )
        assert len(codes) == 10
        advance(timedelta(seconds=30))
        code = pyotp.TOTP(secret).at(clock.now())
        await second_factor.verify_second_factor(
            account.id, session.session_id, code, TEST_SECRET_KEY
        )
        with pytest.raises(InvalidInput):
            await second_factor.verify_second_factor(
                account.id, session.session_id, code, TEST_SECRET_KEY
            )


async def test_a_recovery_code_works_once(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.adjudicator)
    token = await start_session(account, ADDRESS, "test")
    session = await session_for(token)
    assert session is not None
    secret = await second_factor.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
    codes = await second_factor.confirm_totp_enrolment(
        account.id, session.session_id, pyotp.TOTP(secret).now(), TEST_SECRET_KEY
    )
    await second_factor.verify_second_factor(
        account.id, session.session_id, codes[3].upper(), TEST_SECRET_KEY
    )
    assert await second_factor.unused_recovery_codes(account.id) == 9
    with pytest.raises(InvalidInput):
        await second_factor.verify_second_factor(
            account.id, session.session_id, codes[3], TEST_SECRET_KEY
        )
