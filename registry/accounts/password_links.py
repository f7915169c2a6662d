"""Single-use links to choose a password: the reset link anyone can ask for by email, and the
invitation a new user gets. Each goes out through the outbox in the transaction that issues it.

No HTTP here; the links' path comes from :mod:`registry.accounts.urls`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from registry.accounts import credentials, urls
from registry.accounts.tables import PasswordResetToken, User
from registry.audit import service as audit
from registry.core import clock
from registry.db import transaction
from registry.errors import InvalidInput
from registry.notifications import service as notifications

RESET_TOKEN_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)


async def send_link(
    user_id: int,
    lifetime: timedelta,
    address: str,
    template: str,
    context: dict[str, Any],
    *,
    subject: str,
) -> str:
    """Issue a link for ``user_id`` and queue the email that carries it; returns the token.

    Call inside the caller's transaction, so the email goes only if the change commits.
    """
    token = await _issue(user_id, lifetime)
    await notifications.queue_email(
        address,
        template,
        {**context, "path": urls.reset_password_link(token)},
        subject=subject,
        key=f"password-link:{credentials.hash_token(token)}",
    )
    return token


async def request_password_reset(email: str) -> str | None:
    """Email a single-use reset link to an active account, queued with the token itself.

    Returns the token (for the caller's tests and logs of nothing: it is never shown), or None,
    with nothing sent, for an unknown or deactivated address: the page says the same either way.
    """
    row = (
        await User.select(User.id, User.active, User.email)
        .where(User.email == email.strip().casefold())
        .first()
    )
    if row is None or not row["active"]:
        return None
    async with transaction():
        token = await send_link(
            row["id"],
            RESET_TOKEN_LIFETIME,
            row["email"],
            "password_reset",
            {"email": row["email"]},
            subject="Reset your password",
        )
        await audit.record("accounts.password_reset_requested", "user", row["id"])
    return token


async def _issue(user_id: int, lifetime: timedelta) -> str:
    issued = credentials.new_reset_token()
    moment = clock.now()
    await PasswordResetToken.insert(
        PasswordResetToken(
            user=user_id,
            token_hash=issued.hash,
            created_at=moment,
            expires_at=moment + lifetime,
        )
    )
    return issued.token


async def live_link(token: str) -> dict[str, Any]:
    """The stored link ``token`` names, if it is unused and in date; otherwise InvalidInput."""
    row = (
        await PasswordResetToken.select()
        .where(PasswordResetToken.token_hash == credentials.hash_token(token))
        .first()
    )
    if row is None or row["used_at"] is not None or row["expires_at"] <= clock.now():
        raise InvalidInput(
            "This link has expired or has already been used. Ask for a new one.", field="token"
        )
    return row


async def check_reset_token(token: str) -> None:
    await live_link(token)
