"""Account rules: who may sign in, with what, for how long, and who may change whom.

No HTTP here. Every change runs in one transaction with its audit entry.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import structlog
from piccolo.columns.combination import WhereRaw

from registry import SERVICE_NAME
from registry.accounts import credentials, passwords, totp
from registry.accounts.roles import ROLE_LABELS, STAFF_ROLES, Role, is_staff
from registry.accounts.tables import (
    ApiToken,
    BrowserSession,
    LoginAttempt,
    PasswordResetToken,
    RecoveryCode,
    User,
    UserRole,
)
from registry.audit import service as audit
from registry.audit.context import current_actor
from registry.core import clock, secretbox
from registry.db import escape_like, transaction
from registry.errors import Conflict, InvalidInput, NotFound, RegistryError
from registry.notifications import service as notifications

log = structlog.get_logger("registry.accounts")

LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 50  # per client address: a password-spraying run across many accounts
STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
PRACTITIONER_IDLE_TIMEOUT = timedelta(hours=2)
SESSION_LIFETIME = timedelta(hours=12)
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)  # don't write on every request
RESET_TOKEN_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)
RECOVERY_CODE_COUNT = 10
MAX_DISPLAY_NAME = 120
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class InvalidCredentials(RegistryError):
    title = "Sign-in details not recognised"


class LockedOut(RegistryError):
    """Too many failed attempts; ``retry_at`` says when to try again."""

    title = "Too many attempts"

    def __init__(self, detail: str, retry_at: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Account:
    """A user as the rest of the service sees them."""

    id: int
    email: str
    display_name: str
    roles: frozenset[Role]
    active: bool
    has_password: bool
    totp_enabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_staff(self) -> bool:
        return is_staff(self.roles)

    @property
    def needs_second_factor(self) -> bool:
        return self.is_staff


@dataclass(frozen=True)
class SignedInSession:
    account: Account
    session_id: int
    second_factor_verified: bool


# --- users -------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    cleaned = email.strip().casefold()
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise InvalidInput(
            "Enter an email address in the correct format, like name@example.org", field="email"
        )
    return cleaned


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(value))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise InvalidInput(
                f"Unknown role '{value}'. Roles are: {known}", field="roles"
            ) from None
    return frozenset(roles)


def _check_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("Enter a name", field="display_name")
    if len(cleaned) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            f"Name must be {MAX_DISPLAY_NAME} characters or fewer", field="display_name"
        )
    return cleaned


def _check_password(password: str, email: str) -> None:
    problems = passwords.password_problems(password, email)
    if problems:
        raise InvalidInput(problems[0], field="password")


async def _roles_of(user_ids: Sequence[int]) -> dict[int, frozenset[Role]]:
    if not user_ids:
        return {}
    rows = await UserRole.select(UserRole.user, UserRole.role).where(
        UserRole.user.is_in(list(user_ids))
    )
    found: dict[int, set[Role]] = {user_id: set() for user_id in user_ids}
    for row in rows:
        found[row["user"]].add(Role(row["role"]))
    return {user_id: frozenset(roles) for user_id, roles in found.items()}


def _account(row: dict[str, Any], roles: frozenset[Role]) -> Account:
    return Account(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        roles=roles,
        active=row["active"],
        has_password=bool(row["password_hash"]),
        totp_enabled=row["totp_enabled_at"] is not None,
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


async def get_account(user_id: int) -> Account:
    row = await User.select().where(User.id == user_id).first()
    if row is None:
        raise NotFound(f"There is no user with id {user_id}")
    return _account(row, (await _roles_of([user_id]))[user_id])


async def find_account_by_email(email: str) -> Account | None:
    row = await User.select().where(User.email == email.strip().casefold()).first()
    if row is None:
        return None
    return _account(row, (await _roles_of([row["id"]]))[row["id"]])


async def list_accounts(
    *, role: Role | None = None, search: str = "", page: int = 1, page_size: int = 50
) -> tuple[list[Account], int]:
    query = User.select()
    count = User.count()
    if role is not None:
        holders = UserRole.select(UserRole.user).where(UserRole.role == role.value)
        ids = [row["user"] for row in await holders]
        query = query.where(User.id.is_in(ids or [-1]))
        count = count.where(User.id.is_in(ids or [-1]))
    if search:
        # Emails are stored case-folded; names are compared in lower case on both engines.
        pattern = f"%{escape_like(search.strip().casefold())}%"
        matches = WhereRaw(
            "(email LIKE {} ESCAPE '\\' OR LOWER(display_name) LIKE {} ESCAPE '\\')",
            pattern,
            pattern,
        )
        query = query.where(matches)
        count = count.where(matches)
    rows = await query.order_by(User.email).limit(page_size).offset((page - 1) * page_size)
    roles = await _roles_of([row["id"] for row in rows])
    return [_account(row, roles[row["id"]]) for row in rows], await count


# argon2 takes about a tenth of a second of CPU by design: off the event loop, so one sign-in
# does not stall every other request the worker is serving.
async def _hash(password: str) -> str:
    return await asyncio.to_thread(passwords.hash_password, password)


async def _verify(stored_hash: str, password: str) -> passwords.PasswordCheck:
    return await asyncio.to_thread(passwords.verify_password, stored_hash, password)


async def create_user(
    email: str, display_name: str, roles: Iterable[Role], password: str | None = None
) -> Account:
    """Add a user. Without a password the user is invited: they set one through a reset link."""
    email = normalise_email(email)
    display_name = _check_display_name(display_name)
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput("Choose at least one role", field="roles")
    if password is not None:
        _check_password(password, email)
    password_hash = await _hash(password) if password is not None else ""
    moment = clock.now()
    async with transaction():
        if await User.exists().where(User.email == email):
            raise Conflict(f"There is already an account for {email}", field="email")
        user = User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            created_at=moment,
            password_changed_at=moment if password else None,
        )
        await user.save()
        await UserRole.insert(
            *[UserRole(user=user.id, role=role.value) for role in sorted(role_set)]
        )
        await audit.record(
            "accounts.user_created",
            "user",
            user.id,
            after={"email": email, "display_name": display_name, "roles": sorted(role_set)},
        )
    return await get_account(user.id)


async def set_roles(
    user_id: int, roles: Iterable[Role], *, by_user_id: int | None = None
) -> Account:
    """Replace a user's roles. An admin cannot take away their own admin role, for the same
    reason they cannot deactivate themselves: the last admin would lock everyone out."""
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput("Choose at least one role", field="roles")
    async with transaction():
        before = await get_account(user_id)
        if user_id == by_user_id and Role.admin in before.roles and Role.admin not in role_set:
            raise Conflict("You cannot remove your own admin role", field="roles")
        await UserRole.delete().where(UserRole.user == user_id)
        await UserRole.insert(
            *[UserRole(user=user_id, role=role.value) for role in sorted(role_set)]
        )
        if (before.roles & STAFF_ROLES) != (role_set & STAFF_ROLES):
            # A change of staff powers takes effect at the next sign-in, not mid-session.
            await BrowserSession.delete().where(BrowserSession.user == user_id)
        await audit.record(
            "accounts.roles_changed",
            "user",
            user_id,
            before={"roles": sorted(before.roles)},
            after={"roles": sorted(role_set)},
        )
    return await get_account(user_id)


async def update_user(
    user_id: int,
    *,
    roles: Iterable[Role] | None = None,
    active: bool | None = None,
    by_user_id: int | None = None,
) -> Account:
    """Change roles and the active flag together: both happen, or, if either is refused, neither."""
    async with transaction():
        account = await get_account(user_id)
        if active is not None and active != account.active:
            account = await set_active(user_id, active, by_user_id=by_user_id)
        if roles is not None:
            account = await set_roles(user_id, roles, by_user_id=by_user_id)
    return account


async def set_active(user_id: int, active: bool, *, by_user_id: int | None = None) -> Account:
    """Deactivating ends every session and stops every token at once.

    An admin cannot deactivate themselves: the last admin would lock everyone out.
    """
    if not active and user_id == by_user_id:
        raise Conflict("You cannot deactivate your own account", field="active")
    async with transaction():
        before = await get_account(user_id)
        await User.update({User.active: active}).where(User.id == user_id)
        if not active:
            await BrowserSession.delete().where(BrowserSession.user == user_id)
            # Revoked, not just refused while inactive: reactivation must not revive old tokens.
            await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(
                (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
            )
        await audit.record(
            "accounts.user_deactivated" if not active else "accounts.user_reactivated",
            "user",
            user_id,
            before={"active": before.active},
            after={"active": active},
        )
    return await get_account(user_id)


# --- signing in ---------------------------------------------------------------------------


async def _recent_failures(column: Any, value: str, since: datetime) -> tuple[int, datetime | None]:
    rows = (
        await LoginAttempt.select(LoginAttempt.attempted_at)
        .where(
            (column == value)
            & (LoginAttempt.succeeded.eq(False))
            & (LoginAttempt.attempted_at >= since)
        )
        .order_by(LoginAttempt.attempted_at)
    )
    return len(rows), (rows[0]["attempted_at"] if rows else None)


async def _refuse_if_locked(email: str, client_address: str, moment: datetime) -> None:
    since = moment - LOCKOUT_WINDOW
    for column, value, limit in (
        (LoginAttempt.email, email, LOCKOUT_FAILURES),
        (LoginAttempt.client_address, client_address, ADDRESS_FAILURES),
    ):
        failures, oldest = await _recent_failures(column, value, since)
        if failures >= limit and oldest is not None:
            retry_at = oldest + LOCKOUT_WINDOW
            minutes = max(1, math.ceil((retry_at - moment).total_seconds() / 60))
            raise LockedOut(
                f"There have been too many attempts to sign in. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or reset your password.",
                retry_at=retry_at,
            )


async def authenticate(email: str, password: str, client_address: str) -> Account:
    """Check an email and password; the same answer, in the same time, for every failure."""
    moment = clock.now()
    email = email.strip().casefold()
    await _refuse_if_locked(email, client_address, moment)
    row = await User.select().where(User.email == email).first()
    if row is None or not row["password_hash"]:
        await asyncio.to_thread(passwords.dummy_verify, password)
        matched = False
    else:
        check = await _verify(row["password_hash"], password)
        matched = check.matched and row["active"]
        if check.matched and check.needs_rehash:
            rehashed = await _hash(password)
            await User.update({User.password_hash: rehashed}).where(User.id == row["id"])
    await LoginAttempt.insert(
        LoginAttempt(
            email=email, client_address=client_address, attempted_at=moment, succeeded=matched
        )
    )
    if not matched or row is None:
        raise InvalidCredentials("Enter a correct email address and password")
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


# --- second factor ------------------------------------------------------------------------


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


async def confirm_totp_enrolment(
    user_id: int, session_id: int, code: str, secret_key: str
) -> list[str]:
    """Turn on the second factor with a first good code; returns recovery codes, shown once."""
    secret, last_step = await _totp_secret(user_id, secret_key)
    step = totp.verify_totp(secret, code, at=clock.now(), last_used_step=last_step)
    if step is None:
        raise InvalidInput("Enter the 6-digit code shown in your authenticator app", field="code")
    codes = credentials.new_recovery_codes(RECOVERY_CODE_COUNT)
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
        await BrowserSession.update({BrowserSession.second_factor_verified: True}).where(
            BrowserSession.id == session_id
        )
        await audit.record("accounts.second_factor_enabled", "user", user_id)
    return codes


async def verify_second_factor(user_id: int, session_id: int, code: str, secret_key: str) -> None:
    """Accept a TOTP code or an unused recovery code, and mark the session as fully signed in."""
    secret, last_step = await _totp_secret(user_id, secret_key)
    step = totp.verify_totp(secret, code, at=clock.now(), last_used_step=last_step)
    async with transaction():
        if step is not None:
            await User.update({User.totp_last_step: step}).where(User.id == user_id)
            how = "authenticator"
        else:
            code_hash = credentials.hash_recovery_code(code)
            spare = (
                await RecoveryCode.select(RecoveryCode.id)
                .where(
                    (RecoveryCode.user == user_id)
                    & (RecoveryCode.code_hash == code_hash)
                    & RecoveryCode.used_at.is_null()
                )
                .first()
            )
            if spare is None:
                raise InvalidInput(
                    "The code is not correct. Enter a new code from your app.", field="code"
                )
            await RecoveryCode.update({RecoveryCode.used_at: clock.now()}).where(
                RecoveryCode.id == spare["id"]
            )
            how = "recovery_code"
        await BrowserSession.update({BrowserSession.second_factor_verified: True}).where(
            BrowserSession.id == session_id
        )
        await audit.record(
            "accounts.second_factor_verified", "user", user_id, after={"method": how}
        )


async def unused_recovery_codes(user_id: int) -> int:
    return await RecoveryCode.count().where(  # type: ignore[no-any-return]
        (RecoveryCode.user == user_id) & RecoveryCode.used_at.is_null()
    )


# --- passwords ----------------------------------------------------------------------------


async def change_password(
    user_id: int, current: str, new: str, keep_session_id: int | None
) -> None:
    row = await User.select(User.email, User.password_hash).where(User.id == user_id).first()
    if row is None:
        raise NotFound("There is no such user")
    if not (await _verify(row["password_hash"], current)).matched:
        raise InvalidInput("Your current password is not correct", field="current_password")
    _check_password(new, row["email"])
    new_hash = await _hash(new)  # before the transaction: hashing takes a tenth of a second
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
        token = await _issue_password_link(row["id"], RESET_TOKEN_LIFETIME)
        await notifications.queue_email(
            row["email"],
            "password_reset",
            {"email": row["email"], "path": reset_path(token)},
            subject="Reset your password",
            key=f"password-link:{credentials.hash_token(token)}",
        )
        await audit.record("accounts.password_reset_requested", "user", row["id"])
    return token


async def invite_user(
    email: str, display_name: str, roles: Iterable[Role], *, invited_by: str
) -> Account:
    """Add a user without a password and email them a link, valid for a week, to choose one."""
    async with transaction():
        account = await create_user(email, display_name, roles)
        token = await _issue_password_link(account.id, INVITATION_LIFETIME)
        await notifications.queue_email(
            account.email,
            "invitation",
            {
                "invited_by": invited_by,
                "roles": ", ".join(ROLE_LABELS[role] for role in sorted(account.roles)),
                "path": reset_path(token),
            },
            subject=f"Your account on the {SERVICE_NAME.lower()}",
            key=f"password-link:{credentials.hash_token(token)}",
        )
    return account


def reset_path(token: str) -> str:
    """The link's path; the email adds the service's address when it is sent."""
    return f"/reset-password?{urlencode({'token': token})}"


async def _issue_password_link(user_id: int, lifetime: timedelta) -> str:
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


async def _live_reset_token(token: str) -> dict[str, Any]:
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
    await _live_reset_token(token)


async def reset_password(token: str, new_password: str) -> Account:
    row = await _live_reset_token(token)
    account = await get_account(row["user"])
    _check_password(new_password, account.email)
    new_hash = await _hash(new_password)
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
        await BrowserSession.delete().where(BrowserSession.user == account.id)
        await audit.record("accounts.password_reset", "user", account.id)
    return account


# --- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSummary:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def issue_api_token(user_id: int, name: str) -> tuple[TokenSummary, str]:
    """A new personal token; the full value is returned now and never again."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidInput("Give the token a name of 80 characters or fewer", field="name")
    issued = credentials.new_api_token()
    moment = clock.now()
    async with transaction():
        token = ApiToken(
            user=user_id,
            name=name,
            token_prefix=issued.prefix,
            token_hash=issued.hash,
            created_at=moment,
        )
        await token.save()
        await audit.record(
            "accounts.token_issued", "api_token", token.id, after={"name": name, "user": user_id}
        )
    return TokenSummary(token.id, name, issued.prefix, moment, None, None), issued.token


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
        )
        for r in rows
    ]


async def revoke_api_token(user_id: int, token_id: int) -> None:
    """Revoke one of the user's own tokens; another user's token is 'not found', not 'forbidden'."""
    async with transaction():
        row = (
            await ApiToken.select(ApiToken.id, ApiToken.revoked_at)
            .where((ApiToken.id == token_id) & (ApiToken.user == user_id))
            .first()
        )
        if row is None:
            raise NotFound("You have no token with that id")
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(ApiToken.id == token_id)
            await audit.record("accounts.token_revoked", "api_token", token_id)


async def account_for_api_token(raw: str) -> Account | None:
    if not credentials.looks_like_api_token(raw):
        return None
    row = (
        await ApiToken.select(
            ApiToken.id, ApiToken.user, ApiToken.revoked_at, ApiToken.last_used_at
        )
        .where(ApiToken.token_hash == credentials.hash_token(raw))
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    account = await get_account(row["user"])
    if not account.active:
        return None
    moment = clock.now()
    if row["last_used_at"] is None or moment - row["last_used_at"] > SESSION_TOUCH_INTERVAL:
        await ApiToken.update({ApiToken.last_used_at: moment}).where(ApiToken.id == row["id"])
    return account


# --- housekeeping -------------------------------------------------------------------------

LOGIN_HISTORY_KEPT = timedelta(days=90)


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
