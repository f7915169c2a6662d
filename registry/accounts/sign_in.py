"""Signing in: the password check, lock-out after repeated failures, browser sessions, and the
nightly clearing away of sessions, links and sign-in history that can no longer be used.

No HTTP here. The second factor that staff add on top is in :mod:`registry.accounts.second_factor`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from registry.accounts import credentials, passwords
from registry.accounts.tables import BrowserSession, LoginAttempt, PasswordResetToken, User
from registry.accounts.users import Account, get_account
from registry.audit import service as audit
from registry.audit.context import current_actor
from registry.core import clock
from registry.db import lock_key, serialise_on, transaction
from registry.errors import RegistryError

LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 50  # per client address: a password-spraying run across many accounts
STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
PRACTITIONER_IDLE_TIMEOUT = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)  # don't write on every request
LOGIN_HISTORY_KEPT = timedelta(days=90)


class InvalidCredentials(RegistryError):
    title = "Sign-in details not recognised"


class LockedOut(RegistryError):
    """Too many failed attempts; ``retry_at`` says when to try again."""

    title = "Too many attempts"

    def __init__(self, detail: str, retry_at: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at


@dataclass(frozen=True)
class SignedInSession:
    account: Account
    session_id: int
    second_factor_verified: bool


async def _recent_failures(
    column: Any, value: str, since: datetime, *, before: int
) -> tuple[int, datetime | None]:
    rows = (
        await LoginAttempt.select(LoginAttempt.attempted_at)
        .where(
            (column == value)
            & (LoginAttempt.succeeded.eq(False))
            & (LoginAttempt.attempted_at >= since)
            & (LoginAttempt.id < before)
        )
        .order_by(LoginAttempt.attempted_at)
    )
    return len(rows), (rows[0]["attempted_at"] if rows else None)


async def _refuse_if_locked(
    email: str, client_address: str, moment: datetime, *, own_attempt: int
) -> None:
    """Refuse when the failures before this attempt reached a limit. This attempt is already
    recorded (as a failure until the password matches), so concurrent guesses each count."""
    since = moment - LOCKOUT_WINDOW
    for column, value, limit in (
        (LoginAttempt.email, email, LOCKOUT_FAILURES),
        (LoginAttempt.client_address, client_address, ADDRESS_FAILURES),
    ):
        failures, oldest = await _recent_failures(column, value, since, before=own_attempt)
        if failures >= limit and oldest is not None:
            retry_at = oldest + LOCKOUT_WINDOW
            minutes = max(1, math.ceil((retry_at - moment).total_seconds() / 60))
            raise LockedOut(
                f"There have been too many attempts to sign in. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password.",
                retry_at=retry_at,
            )


async def _record_attempt(email: str, client_address: str, moment: datetime) -> int:
    """Record the attempt as a failure, then check the limits, as one step: on PostgreSQL under
    advisory locks for the account and the address; on SQLite under the write lock."""
    async with transaction():
        await serialise_on(LoginAttempt, lock_key("email", email))
        await serialise_on(LoginAttempt, lock_key("address", client_address))
        inserted = await LoginAttempt.insert(
            LoginAttempt(
                email=email, client_address=client_address, attempted_at=moment, succeeded=False
            )
        ).returning(LoginAttempt.id)
        attempt_id = int(inserted[0]["id"])
        await _refuse_if_locked(email, client_address, moment, own_attempt=attempt_id)
    return attempt_id


async def authenticate(email: str, password: str, client_address: str) -> Account:
    """Check an email and password; the same answer, in the same time, for every failure.

    The attempt is counted before the password is checked, so fifty guesses at once are
    fifty attempts against the limit, not fifty checks that each saw none before them.
    """
    moment = clock.now()
    email = email.strip().casefold()
    # A refused attempt is not kept: hammering a locked account must not keep it locked.
    attempt_id = await _record_attempt(email, client_address, moment)
    row = await User.select().where(User.email == email).first()
    if row is None or not row["password_hash"]:
        await passwords.dummy_verify_in_thread(password)
        matched = False
    else:
        check = await passwords.verify_password_in_thread(row["password_hash"], password)
        matched = check.matched and row["active"]
        if check.matched and check.needs_rehash:
            rehashed = await passwords.hash_password_in_thread(password)
            await User.update({User.password_hash: rehashed}).where(User.id == row["id"])
    if not matched or row is None:
        raise InvalidCredentials("Enter a correct email address and password")
    await LoginAttempt.update({LoginAttempt.succeeded: True}).where(LoginAttempt.id == attempt_id)
    await User.update({User.last_login_at: moment}).where(User.id == row["id"])
    return await get_account(row["id"])


async def start_session(account: Account, client_address: str, user_agent: str) -> str:
    """A new session, returning its token: a new id at every sign-in makes a planted id useless."""
    issued = credentials.new_session_token()
    moment = clock.now()
    async with transaction():
        await BrowserSession.insert(
            BrowserSession(
                token_hash=issued.hash,
                user=account.id,
                created_at=moment,
                last_seen_at=moment,
                second_factor_verified=False,
                client_address=client_address[:64],
                user_agent=user_agent[:256],
            )
        )
        # The request came in signed out; the entry says who signed in, from the same place.
        public = current_actor()
        who = replace(public, id=account.id, label=account.email)
        await audit.record("accounts.signed_in", "user", account.id, actor=who)
    return issued.token


def _idle_limit(account: Account) -> timedelta:
    return STAFF_IDLE_TIMEOUT if account.is_staff else PRACTITIONER_IDLE_TIMEOUT


async def session_for(token: str) -> SignedInSession | None:
    """The live session a cookie token names, or None; an expired one is removed."""
    if not token:
        return None
    row = (
        await BrowserSession.select()
        .where(BrowserSession.token_hash == credentials.hash_token(token))
        .first()
    )
    if row is None:
        return None
    account = await get_account(row["user"])
    moment = clock.now()
    expired = (
        not account.active
        or moment - row["created_at"] > SESSION_LIFETIME
        or moment - row["last_seen_at"] > _idle_limit(account)
    )
    if expired:
        await BrowserSession.delete().where(BrowserSession.id == row["id"])
        return None
    if moment - row["last_seen_at"] > SESSION_TOUCH_INTERVAL:
        await BrowserSession.update({BrowserSession.last_seen_at: moment}).where(
            BrowserSession.id == row["id"]
        )
    return SignedInSession(account, row["id"], row["second_factor_verified"])


async def end_session(session_id: int) -> None:
    async with transaction():
        row = (
            await BrowserSession.select(BrowserSession.user)
            .where(BrowserSession.id == session_id)
            .first()
        )
        await BrowserSession.delete().where(BrowserSession.id == session_id)
        if row is not None:
            await audit.record("accounts.signed_out", "user", row["user"])


async def end_all_sessions(user_id: int) -> None:
    await BrowserSession.delete().where(BrowserSession.user == user_id)


@dataclass(frozen=True)
class Purged:
    sessions: int
    reset_links: int
    login_attempts: int


async def purge_expired(now: datetime) -> Purged:
    """Remove what can no longer be used: sessions past the longest idle limit or their
    lifetime, reset links past their hour, and sign-in history older than 90 days (long after
    any lock-out it could cause). Removing nothing the second time, it is safe to repeat."""
    idle_cutoff = now - max(STAFF_IDLE_TIMEOUT, PRACTITIONER_IDLE_TIMEOUT)
    async with transaction():
        sessions = (
            await BrowserSession.delete()
            .where(
                (BrowserSession.last_seen_at < idle_cutoff)
                | (BrowserSession.created_at < now - SESSION_LIFETIME)
            )
            .returning(BrowserSession.id)
        )
        links = (
            await PasswordResetToken.delete()
            .where(PasswordResetToken.expires_at < now)
            .returning(PasswordResetToken.id)
        )
        attempts = (
            await LoginAttempt.delete()
            .where(LoginAttempt.attempted_at < now - LOGIN_HISTORY_KEPT)
            .returning(LoginAttempt.id)
        )
    return Purged(len(sessions), len(links), len(attempts))
