"""Setting a new password: changing it with the current one, or through a reset or invitation link.

Either way every other browser signed in as the user is signed out. No HTTP here.
"""

from __future__ import annotations

from registry.accounts import password_links, passwords, tokens, urls
from registry.accounts.tables import BrowserSession, PasswordResetToken, User
from registry.accounts.users import Account, get_account
from registry.audit import service as audit
from registry.core import clock
from registry.db import transaction
from registry.errors import InvalidInput, NotFound
from registry.notifications import service as notifications


async def change_password(
    user_id: int, current: str, new: str, keep_session_id: int | None
) -> None:
    row = await User.select(User.email, User.password_hash).where(User.id == user_id).first()
    if row is None:
        raise NotFound("There is no such user")
    if not (await passwords.verify_password_in_thread(row["password_hash"], current)).matched:
        raise InvalidInput("Your current password is not correct", field="current_password")
    passwords.check_new_password(new, row["email"])
    # Before the transaction: hashing takes a tenth of a second.
    new_hash = await passwords.hash_password_in_thread(new)
    async with transaction():
        await User.update(
            {
                User.password_hash: new_hash,
                User.password_changed_at: clock.now(),
            }
        ).where(User.id == user_id)
        # Every other browser signed in as this user is signed out.
        others = BrowserSession.delete().where(BrowserSession.user == user_id)
        if keep_session_id is not None:
            others = others.where(BrowserSession.id != keep_session_id)
        await others
        await audit.record("accounts.password_changed", "user", user_id)
        await _after_new_password(user_id, row["email"], "password changed")


async def reset_password(token: str, new_password: str) -> Account:
    row = await password_links.live_link(token)
    account = await get_account(row["user"])
    passwords.check_new_password(new_password, account.email)
    new_hash = await passwords.hash_password_in_thread(new_password)
    async with transaction():
        claimed = (
            await PasswordResetToken.update({PasswordResetToken.used_at: clock.now()})
            .where((PasswordResetToken.id == row["id"]) & PasswordResetToken.used_at.is_null())
            .returning(PasswordResetToken.id)
        )
        if not claimed:  # the same link used twice at once: one wins
            raise InvalidInput("This link has already been used. Ask for a new one.", field="token")
        await User.update(
            {
                User.password_hash: new_hash,
                User.password_changed_at: clock.now(),
            }
        ).where(User.id == account.id)
        # The link reached them at that address, so it is theirs.
        await User.update({User.email_confirmed_at: clock.now()}).where(
            (User.id == account.id) & User.email_confirmed_at.is_null()
        )
        await BrowserSession.delete().where(BrowserSession.user == account.id)
        await audit.record("accounts.password_reset", "user", account.id)
        await _after_new_password(account.id, account.email, "password reset")
    return account


async def _after_new_password(user_id: int, email: str, why: str) -> None:
    """Inside the change's transaction: whoever had the old password may have made API tokens,
    so they go too, and the holder is told, in case it was not them."""
    revoked = await tokens.revoke_all_tokens(user_id, why=why)
    moment = clock.now()
    await notifications.queue_email(
        email,
        "password_changed",
        {
            "changed_at": moment.strftime("%-d %B %Y at %H:%M UTC"),
            "tokens_revoked": revoked,
            "account": urls.ACCOUNT,
            "forgotten_password": urls.FORGOTTEN_PASSWORD,
        },
        subject="Your password has been changed",
        key=f"password-changed:{user_id}:{moment.isoformat()}",
    )
