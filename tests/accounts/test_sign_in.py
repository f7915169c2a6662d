"""Signing in on both engines: the password check, lock-out and sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from registry.accounts import (
    users,
)
from registry.accounts.roles import Role
from registry.accounts.sign_in import (
    InvalidCredentials,
    LockedOut,
    authenticate,
    session_for,
    start_session,
)
from registry.accounts.tables import LoginAttempt, User
from registry.core import clock
from tests.accounts.helpers import PASSWORD, make_user

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "known@example.org")
    with pytest.raises(InvalidCredentials) as wrong_password:
        await authenticate("known@example.org", "not the password", ADDRESS)
    with pytest.raises(InvalidCredentials) as unknown:
        await authenticate("nobody@example.org", "not the password", ADDRESS)
    assert wrong_password.value.detail == unknown.value.detail


async def test_ten_failures_lock_the_account_for_fifteen_minutes(client: httpx.AsyncClient) -> None:
    await make_user(Role.practitioner, "target@example.org")
    with clock.frozen_at(START) as advance:
        for _ in range(10):
            with pytest.raises(InvalidCredentials):
                await authenticate("target@example.org", "guess", ADDRESS)
            advance(timedelta(seconds=30))
        with pytest.raises(LockedOut) as locked:
            await authenticate("target@example.org", PASSWORD, ADDRESS)
        assert locked.value.retry_at == START + timedelta(minutes=15)
        assert "minute" in locked.value.detail
        advance(timedelta(minutes=11))  # the oldest failure is now over 15 minutes old
        account = await authenticate("target@example.org", PASSWORD, ADDRESS)
    assert account.email == "target@example.org"


async def test_a_deactivated_user_cannot_sign_in(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    await users.set_active(account.id, False)
    with pytest.raises(InvalidCredentials):
        await authenticate(account.email, PASSWORD, ADDRESS)


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await User.update({User.password_hash: weak}).where(User.id == account.id)
    await authenticate(account.email, PASSWORD, ADDRESS)
    stored = await User.select(User.password_hash).where(User.id == account.id).first()
    assert stored is not None
    assert stored["password_hash"] != weak
    assert stored["password_hash"].startswith("$argon2id$")


async def test_staff_sessions_idle_out_after_thirty_minutes(client: httpx.AsyncClient) -> None:
    staff = await make_user(Role.registrar)
    practitioner = await make_user(Role.practitioner)
    with clock.frozen_at(START) as advance:
        staff_token = await start_session(staff, ADDRESS, "test")
        practitioner_token = await start_session(practitioner, ADDRESS, "test")
        advance(timedelta(minutes=31))
        assert await session_for(staff_token) is None
        assert await session_for(practitioner_token) is not None


async def test_every_session_ends_after_twelve_hours_however_busy(
    client: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner)
    with clock.frozen_at(START) as advance:
        token = await start_session(account, ADDRESS, "test")
        for _ in range(12 * 4 + 1):  # active every 15 minutes, past 12 hours
            advance(timedelta(minutes=15))
            still = await session_for(token)
        assert still is None


async def test_failed_sign_ins_are_recorded(client: httpx.AsyncClient) -> None:
    with pytest.raises(InvalidCredentials):
        await authenticate("who@example.org", "guess", ADDRESS)
    attempt = await LoginAttempt.select().first()
    assert attempt is not None
    assert attempt["client_address"] == ADDRESS
    assert attempt["succeeded"] is False
