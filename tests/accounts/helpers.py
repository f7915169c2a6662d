"""Signing test users in through the real account rules, for page and API tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pyotp

from registry.accounts import second_factor, tokens, users
from registry.accounts.auth import SESSION_COOKIE
from registry.accounts.roles import Role
from registry.accounts.sign_in import session_for, start_session
from registry.core import clock
from tests.support import TEST_SECRET_KEY

PASSWORD = "correct horse battery staple"


@dataclass
class SignedIn:
    account: users.Account
    session_token: str
    api_token: str
    totp_secret: str | None

    def cookies(self) -> dict[str, str]:
        return {SESSION_COOKIE: self.session_token}

    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_token}"}


async def make_user(
    role: Role, email: str | None = None, password: str = PASSWORD
) -> users.Account:
    return await users.create_user(
        email or f"{role.value}@example.org", f"Test {role.value}", [role], password
    )


async def sign_in(account: users.Account) -> SignedIn:
    """A fully signed-in session (second factor done for staff) and an API token."""
    token = await start_session(account, "127.0.0.1", "pytest")
    signed_in = await session_for(token)
    assert signed_in is not None
    secret = None
    if account.needs_second_factor:
        secret = await second_factor.begin_totp_enrolment(account.id, TEST_SECRET_KEY)
        await second_factor.confirm_totp_enrolment(
            account.id,
            signed_in.session_id,
            pyotp.TOTP(secret).at(clock.now()),  # the service's clock, which a test may set
            TEST_SECRET_KEY,
        )
    _, api_token = await tokens.issue_api_token(account.id, "tests")
    return SignedIn(await users.get_account(account.id), token, api_token, secret)


async def user_signed_in_as(role: Role, email: str | None = None) -> SignedIn:
    return await sign_in(await make_user(role, email))


async def csrf_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """Fetch a page so the CSRF cookie is set, and return the header that must echo it."""
    await client.get("/sign-in")
    return {"x-csrftoken": client.cookies["registry_csrf"]}
