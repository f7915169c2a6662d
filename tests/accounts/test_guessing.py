"""Guesses are limited and recorded, atomically, however many arrive at once: passwords per
account and per address, second-factor codes per session and per account."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pyotp

from registry.accounts import second_factor, sign_in
from registry.accounts.roles import Role
from registry.accounts.tables import BrowserSession, CodeAttempt
from registry.accounts.users import get_account
from registry.audit.service import search
from registry.core import clock
from registry.errors import InvalidInput, TooManyRequests
from tests.accounts.helpers import PASSWORD, make_user
from tests.support import TEST_SECRET_KEY

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def _outcome(email: str, password: str, address: str = ADDRESS) -> str:
    try:
        await sign_in.authenticate(email, password, address)
    except sign_in.LockedOut:
        return "locked"
    except sign_in.InvalidCredentials:
        return "wrong"
    return "signed in"


async def test_fifty_guesses_at_once_are_checked_no_more_than_the_limit(
    client: httpx.AsyncClient,
) -> None:
    """On PostgreSQL these run on parallel pooled connections; each is counted before its
    password is checked, so the lock-out holds even when every check starts at once."""
    await make_user(Role.practitioner, "pat@example.org")
    guesses = [f"wrong-guess-{number}" for number in range(49)] + [PASSWORD]
    outcomes = await asyncio.gather(*[_outcome("pat@example.org", g) for g in guesses])
    # The order in which fifty waiting guesses take the lock is the engine's: the right one may
    # be checked early (and sign in) or be refused; either way only the limit of wrong ones is.
    assert outcomes.count("wrong") == sign_in.LOCKOUT_FAILURES
    assert outcomes.count("signed in") <= 1
    # Locked out for the window, whatever is sent now, the right password included.
    assert await _outcome("pat@example.org", PASSWORD) == "locked"


async def test_a_right_password_inside_the_limit_still_signs_in(client: httpx.AsyncClient) -> None:
    await make_user(Role.practitioner, "pat@example.org")
    for number in range(sign_in.LOCKOUT_FAILURES - 1):
        assert await _outcome("pat@example.org", f"wrong-{number}") == "wrong"
    assert await _outcome("pat@example.org", PASSWORD) == "signed in"


async def _staff_with_authenticator() -> tuple[int, str]:
    account = await make_user(Role.caseworker)
    token = await sign_in.start_session(account, ADDRESS, "test")
    session = await sign_in.session_for(token)
    assert session is not None
    secret = await second_factor.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
    await second_factor.confirm_totp_enrolment(
        account.id, session.session_id, pyotp.TOTP(secret).at(START), TEST_SECRET_KEY
    )
    return account.id, secret


async def _new_session(user_id: int) -> int:
    token = await sign_in.start_session(await get_account(user_id), ADDRESS, "test")
    session = await sign_in.session_for(token)
    assert session is not None
    return session.session_id


async def _code(user_id: int, session_id: int, code: str) -> str:
    try:
        await second_factor.verify_second_factor(user_id, session_id, code, TEST_SECRET_KEY)
    except TooManyRequests:
        return "limited"
    except InvalidInput:
        return "wrong"
    return "verified"


def _wrong(secret: str, at: datetime) -> str:
    right = pyotp.TOTP(secret).at(at)
    return f"{(int(right) + 1) % 1_000_000:06d}"


async def test_five_wrong_codes_end_the_session(client: httpx.AsyncClient) -> None:
    with clock.frozen_at(START) as advance:
        user_id, secret = await _staff_with_authenticator()
        advance(timedelta(minutes=1))
        session_id = await _new_session(user_id)
        now = clock.now()
        outcomes = [await _code(user_id, session_id, _wrong(secret, now)) for _ in range(5)]
        assert outcomes == ["wrong"] * 4 + ["limited"]
        assert not await BrowserSession.exists().where(BrowserSession.id == session_id)
        ended = await search(action="accounts.second_factor_session_ended")
        assert [entry.target_id for entry in ended.entries] == [str(user_id)]
        assert await CodeAttempt.count().where(CodeAttempt.session_id == session_id) == 5


async def test_ten_wrong_codes_lock_the_account_and_the_right_one_is_refused(
    client: httpx.AsyncClient,
) -> None:
    with clock.frozen_at(START) as advance:
        user_id, secret = await _staff_with_authenticator()
        advance(timedelta(minutes=1))
        now = clock.now()
        sessions = [await _new_session(user_id) for _ in range(3)]
        # Twenty guesses at once across three sessions: no more than ten are checked.
        guesses = [
            _code(user_id, sessions[number % 3], _wrong(secret, now)) for number in range(20)
        ]
        outcomes = await asyncio.gather(*guesses)
        assert outcomes.count("wrong") <= second_factor.ACCOUNT_CODE_LIMIT
        fresh = await _new_session(user_id)
        assert await _code(user_id, fresh, pyotp.TOTP(secret).at(now)) == "limited"
        locked = await search(action="accounts.second_factor_locked")
        assert len(locked.entries) == 1
        advance(second_factor.CODE_WINDOW + timedelta(minutes=1))
        later = await _new_session(user_id)
        assert await _code(user_id, later, pyotp.TOTP(secret).at(clock.now())) == "verified"
