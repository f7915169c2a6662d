"""Personal API tokens: issued to a user, shown once, stored hashed, revocable.

No HTTP here. The token's shape and hashing are in :mod:`registry.accounts.credentials`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from registry.accounts import credentials
from registry.accounts.roles import Role
from registry.accounts.sign_in import SESSION_TOUCH_INTERVAL
from registry.accounts.tables import ApiToken
from registry.accounts.users import Account, get_account
from registry.audit import service as audit
from registry.core import clock
from registry.db import as_datetime, fetch_all_by_key, transaction
from registry.errors import InvalidInput, NotFound

MAX_TOKEN_NAME = 80
# A token outlives any one session, so it cannot live for ever: a year for practitioners and
# employers, 90 days for staff, whose tokens reach more.
PRACTITIONER_TOKEN_LIFETIME = timedelta(days=365)
STAFF_TOKEN_LIFETIME = timedelta(days=90)


@dataclass(frozen=True)
class TokenSummary:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None = None

    def expired(self, moment: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment


async def issue_api_token(user_id: int, name: str) -> tuple[TokenSummary, str]:
    """A new personal token; the full value is returned now and never again."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_TOKEN_NAME:
        raise InvalidInput(
            f"Give the token a name of {MAX_TOKEN_NAME} characters or fewer", field="name"
        )
    issued = credentials.new_api_token()
    moment = clock.now()
    owner = await get_account(user_id)
    expires_at = moment + (STAFF_TOKEN_LIFETIME if owner.is_staff else PRACTITIONER_TOKEN_LIFETIME)
    async with transaction():
        token = ApiToken(
            user=user_id,
            name=name,
            token_prefix=issued.prefix,
            token_hash=issued.hash,
            created_at=moment,
            expires_at=expires_at,
        )
        await token.save()
        await audit.record(
            "accounts.token_issued",
            "api_token",
            token.id,
            after={"name": name, "user": user_id, "expires_at": expires_at.isoformat()},
        )
    summary = TokenSummary(token.id, name, issued.prefix, moment, None, None, expires_at)
    return summary, issued.token


async def list_api_tokens(user_id: int) -> list[TokenSummary]:
    rows = (
        await ApiToken.select()
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [
        TokenSummary(
            r["id"],
            r["name"],
            r["token_prefix"],
            r["created_at"],
            r["last_used_at"],
            r["revoked_at"],
            r["expires_at"],
        )
        for r in rows
    ]


async def revoke_api_token(user_id: int, token_id: int) -> None:
    """Revoke one of the user's own tokens; another user's token is 'not found', not 'forbidden'."""
    async with transaction():
        if not await ApiToken.exists().where(
            (ApiToken.id == token_id) & (ApiToken.user == user_id)
        ):
            raise NotFound("You have no token with that id")
        # Only the request that finds it live revokes (and records) it: the update's own
        # condition decides, so fifty revocations at once make one audit entry, not fifty.
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: clock.now()})
            .where((ApiToken.id == token_id) & ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        if revoked:
            await audit.record("accounts.token_revoked", "api_token", token_id)


async def revoke_all_tokens(user_id: int, *, why: str) -> int:
    """Revoke every live token of the user, inside the caller's transaction (a password change
    or reset: whoever had the old password may have made one). Returns how many."""
    revoked = (
        await ApiToken.update({ApiToken.revoked_at: clock.now()})
        .where((ApiToken.user == user_id) & ApiToken.revoked_at.is_null())
        .returning(ApiToken.id)
    )
    if revoked:
        await audit.record(
            "accounts.tokens_revoked", "user", user_id, after={"tokens": len(revoked), "why": why}
        )
    return len(revoked)


# The token, its account and the account's roles in one read by the token's hash (a unique
# index): one row per role, or one with no role. Read afresh on every call, never remembered, so
# a token revoked, expired or whose account was deactivated fails on the very next request. Its
# plan is the same whatever the hash (the unique index, then the account's roles): on
# PostgreSQL it is read on the engine's key-read connections (db.fetch_all_by_key), planned
# once, without the pool.
BEARER_LOOKUP = (
    "SELECT t.id AS token_id, t.revoked_at, t.expires_at, t.last_used_at, u.id, u.email,"
    " u.display_name, u.active, u.password_hash, u.totp_enabled_at, u.created_at,"
    " u.last_login_at, u.email_confirmed_at, r.role"
    ' FROM account_api_token t JOIN account_user u ON u.id = t."user"'
    ' LEFT JOIN account_user_role r ON r."user" = u.id'
    " WHERE t.token_hash = {}"
)


async def account_for_api_token(raw: str) -> Account | None:
    if not credentials.looks_like_api_token(raw):
        return None
    rows = await fetch_all_by_key(BEARER_LOOKUP, credentials.hash_token(raw))
    if not rows:
        return None
    row = rows[0]
    moment = clock.now()
    expires_at = as_datetime(row["expires_at"])
    if row["revoked_at"] is not None or (expires_at is not None and expires_at <= moment):
        return None
    if not row["active"]:
        return None
    account = Account(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        roles=frozenset(Role(each["role"]) for each in rows if each["role"] is not None),
        active=True,
        has_password=bool(row["password_hash"]),
        totp_enabled=row["totp_enabled_at"] is not None,
        created_at=cast(datetime, as_datetime(row["created_at"])),
        last_login_at=as_datetime(row["last_login_at"]),
        email_confirmed=row["email_confirmed_at"] is not None,
    )
    # Like a session, "last used" is only written once a minute, not on every call.
    last_used = as_datetime(row["last_used_at"])
    if last_used is None or moment - last_used > SESSION_TOUCH_INTERVAL:
        await ApiToken.update({ApiToken.last_used_at: moment}).where(ApiToken.id == row["token_id"])
    return account
