"""The second factor staff must pass after their password: setting up an authenticator app, the
codes it shows, and the one-time recovery codes for when the app is lost.

No HTTP here. The code arithmetic (RFC 6238) is in :mod:`registry.accounts.totp`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from registry.accounts import credentials, totp
from registry.accounts.tables import BrowserSession, CodeAttempt, RecoveryCode, User
from registry.accounts.users import get_account
from registry.audit import service as audit
from registry.core import clock, secretbox
from registry.db import lock_row, transaction
from registry.errors import Conflict, InvalidInput, TooManyRequests

SESSION_CODE_LIMIT = 5
ACCOUNT_CODE_LIMIT = 10
CODE_WINDOW = timedelta(minutes=15)


async def begin_totp_enrolment(user_id: int, secret_key: str) -> str:
    """A fresh secret for the user to scan; it only counts once a code from it is confirmed."""
    account = await get_account(user_id)
    if account.totp_enabled:
        raise Conflict("Two-factor authentication is already set up for this account")
    secret = totp.new_totp_secret()
    await User.update({User.totp_secret: secretbox.seal(secret_key, secret)}).where(
        User.id == user_id
    )
    return secret


async def pending_totp_secret(user_id: int, secret_key: str) -> str:
    """The secret being set up, to show again after a mistyped code: the app already holds it."""
    account = await get_account(user_id)
    if account.totp_enabled:
        raise Conflict("Two-factor authentication is already set up for this account")
    try:
        secret, _ = await _totp_secret(user_id, secret_key)
    except Conflict:  # nothing begun yet
        return await begin_totp_enrolment(user_id, secret_key)
    return secret


async def _totp_secret(user_id: int, secret_key: str) -> tuple[str, int | None]:
    row = await User.select(User.totp_secret, User.totp_last_step).where(User.id == user_id).first()
    if row is None or not row["totp_secret"]:
        raise Conflict("Set up two-factor authentication first")
    return secretbox.open_sealed(secret_key, row["totp_secret"]), row["totp_last_step"]


async def _mark_verified(session_id: int) -> None:
    await BrowserSession.update({BrowserSession.second_factor_verified: True}).where(
        BrowserSession.id == session_id
    )


async def confirm_totp_enrolment(
    user_id: int, session_id: int, code: str, secret_key: str
) -> list[str]:
    """Turn on the second factor with a first good code; returns recovery codes, shown once."""
    secret, last_step = await _totp_secret(user_id, secret_key)
    step = totp.verify_totp(secret, code, at=clock.now(), last_used_step=last_step)
    if step is None:
        if not totp.looks_like_code(code):
            raise InvalidInput(
                "Enter the 6-digit code shown in your authenticator app", field="code"
            )
        raise InvalidInput(
            "The code is not correct. Check the time on your phone is right, then enter the "
            "code your authenticator app shows now",
            field="code",
        )
    codes = credentials.new_recovery_codes()
    async with transaction():
        await User.update({User.totp_enabled_at: clock.now(), User.totp_last_step: step}).where(
            User.id == user_id
        )
        await RecoveryCode.delete().where(RecoveryCode.user == user_id)
        await RecoveryCode.insert(
            *[
                RecoveryCode(user=user_id, code_hash=credentials.hash_recovery_code(code))
                for code in codes
            ]
        )
        await _mark_verified(session_id)
        await audit.record("accounts.second_factor_enabled", "user", user_id)
    return codes


async def verify_second_factor(user_id: int, session_id: int, code: str, secret_key: str) -> None:
    """Accept a TOTP code or an unused recovery code, and mark the session as fully signed in.

    Six digits fall to guessing without a limit, so every code is counted before it is checked:
    five wrong in one session end the session, ten wrong for one account in 15 minutes lock
    the account's second step for the rest of that window, as passwords are.
    """
    moment = clock.now()
    attempt_id = await _count_attempt(user_id, session_id, moment)
    secret, last_step = await _totp_secret(user_id, secret_key)
    step = totp.verify_totp(secret, code, at=moment, last_used_step=last_step)
    try:
        async with transaction():
            if step is not None:
                await User.update({User.totp_last_step: step}).where(User.id == user_id)
                how = "authenticator"
            else:
                await _use_recovery_code(user_id, code)
                how = "recovery_code"
            await CodeAttempt.update({CodeAttempt.succeeded: True}).where(
                CodeAttempt.id == attempt_id
            )
            await _mark_verified(session_id)
            await audit.record(
                "accounts.second_factor_verified", "user", user_id, after={"method": how}
            )
    except InvalidInput:
        await _audit_a_new_lock(user_id, attempt_id, moment)
        await _end_session_after_too_many(user_id, session_id, moment)
        raise


async def _count_attempt(user_id: int, session_id: int, moment: datetime) -> int:
    """Record this code as wrong until it proves right, and refuse it if the account's limit
    was reached before it: one step, under the account row's lock."""
    async with transaction():
        await lock_row(User, user_id)
        inserted = await CodeAttempt.insert(
            CodeAttempt(user=user_id, session_id=session_id, attempted_at=moment)
        ).returning(CodeAttempt.id)
        attempt_id = int(inserted[0]["id"])
        wrong = await CodeAttempt.count().where(
            (CodeAttempt.user == user_id)
            & CodeAttempt.succeeded.eq(False)
            & (CodeAttempt.attempted_at >= moment - CODE_WINDOW)
            & (CodeAttempt.id < attempt_id)
        )
        if wrong >= ACCOUNT_CODE_LIMIT:
            # Refused unchecked and not kept (the transaction rolls back), so hammering a locked
            # account does not keep it locked; the lock itself was audited when it began.
            raise TooManyRequests(
                "There have been too many wrong codes for this account. Wait 15 minutes, then "
                "sign in again.",
                retry_after=int(CODE_WINDOW.total_seconds()),
                field="code",
            )
    return attempt_id


async def _audit_a_new_lock(user_id: int, attempt_id: int, moment: datetime) -> None:
    # This wrong code's place among the window's wrong codes: only the one that is the limit-th
    # records the lock, however many arrive at once.
    wrong = await CodeAttempt.count().where(
        (CodeAttempt.user == user_id)
        & CodeAttempt.succeeded.eq(False)
        & (CodeAttempt.attempted_at >= moment - CODE_WINDOW)
        & (CodeAttempt.id <= attempt_id)
    )
    if wrong == ACCOUNT_CODE_LIMIT:
        await audit.record(
            "accounts.second_factor_locked", "user", user_id, after={"wrong_codes": wrong}
        )


async def _end_session_after_too_many(user_id: int, session_id: int, moment: datetime) -> None:
    wrong = await CodeAttempt.count().where(
        (CodeAttempt.session_id == session_id) & CodeAttempt.succeeded.eq(False)
    )
    if wrong < SESSION_CODE_LIMIT:
        return
    async with transaction():
        await BrowserSession.delete().where(BrowserSession.id == session_id)
        await audit.record(
            "accounts.second_factor_session_ended", "user", user_id, after={"wrong_codes": wrong}
        )
    raise TooManyRequests(
        "You entered too many wrong codes. Sign in again to try once more.",
        retry_after=0,
        field="code",
    )


async def _use_recovery_code(user_id: int, code: str) -> None:
    """Spend one of the user's unused recovery codes, or refuse the code."""
    spare = (
        await RecoveryCode.select(RecoveryCode.id)
        .where(
            (RecoveryCode.user == user_id)
            & (RecoveryCode.code_hash == credentials.hash_recovery_code(code))
            & RecoveryCode.used_at.is_null()
        )
        .first()
    )
    if spare is None:
        raise InvalidInput("The code is not correct. Enter a new code from your app.", field="code")
    await RecoveryCode.update({RecoveryCode.used_at: clock.now()}).where(
        RecoveryCode.id == spare["id"]
    )


async def unused_recovery_codes(user_id: int) -> int:
    return await RecoveryCode.count().where(  # type: ignore[no-any-return]
        (RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null()
    )
