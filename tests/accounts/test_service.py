"""Account rules on both engines: users, signing in, lock-out, sessions, second factor, resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher

from registry.accounts import service
from registry.accounts.roles import Role
from registry.accounts.tables import BrowserSession, LoginAttempt, PasswordResetToken, User
from registry.audit.tables import AuditEntry
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from tests.accounts.helpers import PASSWORD, make_user, sign_in
from tests.support import TEST_SECRET_KEY

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADDRESS = "192.0.2.10"


async def test_a_user_is_created_with_a_case_folded_email_and_audited(
    client: httpx.AsyncClient,
) -> None:
    account = await service.create_user(
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
    await service.create_user("a@example.org", "A", [Role.practitioner], PASSWORD)
    with pytest.raises(Conflict):
        await service.create_user("A@EXAMPLE.ORG", "A again", [Role.practitioner], PASSWORD)
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
        await service.create_user(email, "Sam Jones", [Role.practitioner], password)
    assert refused.value.field == field
    assert await User.count() == 0
    assert await AuditEntry.count() == 0


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    await make_user(Role.practitioner, "known@example.org")
    with pytest.raises(service.InvalidCredentials) as wrong_password:
        await service.authenticate("known@example.org", "not the password", ADDRESS)
    with pytest.raises(service.InvalidCredentials) as unknown:
        await service.authenticate("nobody@example.org", "not the password", ADDRESS)
    assert wrong_password.value.detail == unknown.value.detail


async def test_ten_failures_lock_the_account_for_fifteen_minutes(client: httpx.AsyncClient) -> None:
    await make_user(Role.practitioner, "target@example.org")
    with clock.frozen_at(START) as advance:
        for _ in range(10):
            with pytest.raises(service.InvalidCredentials):
                await service.authenticate("target@example.org", "guess", ADDRESS)
            advance(timedelta(seconds=30))
        with pytest.raises(service.LockedOut) as locked:
            await service.authenticate("target@example.org", PASSWORD, ADDRESS)
        assert locked.value.retry_at == START + timedelta(minutes=15)
        assert "minute" in locked.value.detail
        advance(timedelta(minutes=11))  # the oldest failure is now over 15 minutes old
        account = await service.authenticate("target@example.org", PASSWORD, ADDRESS)
    assert account.email == "target@example.org"


async def test_a_deactivated_user_cannot_sign_in(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    await service.set_active(account.id, False)
    with pytest.raises(service.InvalidCredentials):
        await service.authenticate(account.email, PASSWORD, ADDRESS)


async def test_a_hash_with_old_parameters_is_replaced_at_sign_in(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await User.update({User.password_hash: weak}).where(User.id == account.id)
    await service.authenticate(account.email, PASSWORD, ADDRESS)
    stored = await User.select(User.password_hash).where(User.id == account.id).first()
    assert stored is not None
    assert stored["password_hash"] != weak
    assert stored["password_hash"].startswith("$argon2id$")


async def test_staff_sessions_idle_out_after_thirty_minutes(client: httpx.AsyncClient) -> None:
    staff = await make_user(Role.registrar)
    practitioner = await make_user(Role.practitioner)
    with clock.frozen_at(START) as advance:
        staff_token = await service.start_session(staff, ADDRESS, "test")
        practitioner_token = await service.start_session(practitioner, ADDRESS, "test")
        advance(timedelta(minutes=31))
        assert await service.session_for(staff_token) is None
        assert await service.session_for(practitioner_token) is not None


async def test_every_session_ends_after_twelve_hours_however_busy(
    client: httpx.AsyncClient,
) -> None:
    account = await make_user(Role.practitioner)
    with clock.frozen_at(START) as advance:
        token = await service.start_session(account, ADDRESS, "test")
        for _ in range(12 * 4 + 1):  # active every 15 minutes, past 12 hours
            advance(timedelta(minutes=15))
            still = await service.session_for(token)
        assert still is None


async def test_deactivation_ends_every_session_and_token(client: httpx.AsyncClient) -> None:
    signed_in = await sign_in(await make_user(Role.practitioner))
    second = await service.start_session(signed_in.account, ADDRESS, "another browser")
    await service.set_active(signed_in.account.id, False)
    assert await service.session_for(signed_in.session_token) is None
    assert await service.session_for(second) is None
    assert await service.account_for_api_token(signed_in.api_token) is None
    assert await BrowserSession.count() == 0


async def test_a_totp_code_is_accepted_once(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.caseworker)
    token = await service.start_session(account, ADDRESS, "test")
    session = await service.session_for(token)
    assert session is not None
    assert not session.second_factor_verified
    with clock.frozen_at(START) as advance:
        secret = await service.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
        codes = await service.confirm_totp_enrolment(
            account.id, session.session_id, pyotp.TOTP(secret).at(START), TEST_SECRET_KEY
        )
        assert len(codes) == 10
        advance(timedelta(seconds=30))
        code = pyotp.TOTP(secret).at(clock.now())
        await service.verify_second_factor(account.id, session.session_id, code, TEST_SECRET_KEY)
        with pytest.raises(InvalidInput):
            await service.verify_second_factor(
                account.id, session.session_id, code, TEST_SECRET_KEY
            )


async def test_a_recovery_code_works_once(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.adjudicator)
    token = await service.start_session(account, ADDRESS, "test")
    session = await service.session_for(token)
    assert session is not None
    secret = await service.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
    codes = await service.confirm_totp_enrolment(
        account.id, session.session_id, pyotp.TOTP(secret).now(), TEST_SECRET_KEY
    )
    await service.verify_second_factor(
        account.id, session.session_id, codes[3].upper(), TEST_SECRET_KEY
    )
    assert await service.unused_recovery_codes(account.id) == 9
    with pytest.raises(InvalidInput):
        await service.verify_second_factor(
            account.id, session.session_id, codes[3], TEST_SECRET_KEY
        )


async def test_a_reset_link_works_once_for_an_hour(client: httpx.AsyncClient) -> None:
    account = await make_user(Role.practitioner)
    other_session = await service.start_session(account, ADDRESS, "test")
    with clock.frozen_at(START) as advance:
        token = await service.request_password_reset(account.email)
        assert token is not None
        await service.reset_password(token, "a brand new passphrase")
        with pytest.raises(InvalidInput):
            await service.reset_password(token, "yet another passphrase")
        late = await service.request_password_reset(account.email)
        assert late is not None
        advance(timedelta(hours=1, seconds=1))
        with pytest.raises(InvalidInput):
            await service.reset_password(late, "yet another passphrase")
    assert await service.session_for(other_session) is None
    await service.authenticate(account.email, "a brand new passphrase", ADDRESS)


async def test_no_reset_token_for_an_unknown_address(client: httpx.AsyncClient) -> None:
    assert await service.request_password_reset("nobody@example.org") is None
    assert await PasswordResetToken.count() == 0


async def test_a_user_cannot_revoke_another_users_token(client: httpx.AsyncClient) -> None:
    owner = await sign_in(await make_user(Role.employer, "owner@example.org"))
    other = await make_user(Role.employer, "other@example.org")
    token_id = (await service.list_api_tokens(owner.account.id))[0].id
    with pytest.raises(service.NotFound):
        await service.revoke_api_token(other.id, token_id)
    assert await service.account_for_api_token(owner.api_token) is not None
    await service.revoke_api_token(owner.account.id, token_id)
    assert await service.account_for_api_token(owner.api_token) is None


async def test_failed_sign_ins_are_recorded(client: httpx.AsyncClient) -> None:
    with pytest.raises(service.InvalidCredentials):
        await service.authenticate("who@example.org", "guess", ADDRESS)
    attempt = await LoginAttempt.select().first()
    assert attempt is not None
    assert attempt["client_address"] == ADDRESS
    assert attempt["succeeded"] is False
