"""Users: who has an account and with what roles. Adding, inviting, changing roles, deactivating.

No HTTP here. Every change runs in one transaction with its audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw

from registry import SERVICE_NAME, text
from registry.accounts import password_links, passwords
from registry.accounts.roles import ROLE_LABELS, STAFF_ROLES, Role, is_staff
from registry.accounts.tables import ApiToken, BrowserSession, User, UserRole
from registry.audit import service as audit
from registry.core import clock
from registry.db import escape_like, lock_key, lock_row, serialise_on, transaction
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied

MAX_DISPLAY_NAME = 120
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


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
    email_confirmed: bool = True

    @property
    def is_staff(self) -> bool:
        return is_staff(self.roles)

    @property
    def needs_second_factor(self) -> bool:
        return self.is_staff


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


def check_display_name(name: str) -> str:
    """A person's name as they want it shown, or InvalidInput saying what is wrong with it."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("Enter a name", field="display_name")
    if wrong := text.text_problem(cleaned, "Name"):
        raise InvalidInput(wrong, field="display_name")
    if not any(character.isalpha() for character in cleaned):
        raise InvalidInput("Name must include letters", field="display_name")
    if len(cleaned) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            f"Name must be {MAX_DISPLAY_NAME} characters or fewer", field="display_name"
        )
    return cleaned


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
        email_confirmed=row["email_confirmed_at"] is not None,
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


async def create_user(
    email: str,
    display_name: str,
    roles: Iterable[Role],
    password: str | None = None,
    *,
    email_confirmed: bool = True,
    password_hash: str = "",
) -> Account:
    """Add a user. Without a password the user is invited: they set one through a reset link.

    Staff and the command line vouch for the addresses they add; self-service sign-up passes
    ``email_confirmed=False`` until the holder follows the confirmation link.
    """
    email = normalise_email(email)
    display_name = check_display_name(display_name)
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput("Choose at least one role", field="roles")
    if password is not None:
        passwords.check_new_password(password, email)
        password_hash = await passwords.hash_password_in_thread(password)
    moment = clock.now()
    async with transaction():
        # Two requests for one new address (a sign-up sent twice, two admins inviting the same
        # person) queue here, so the second finds the first's account instead of colliding
        # with it on the unique email.
        await serialise_on(User, lock_key("new-account", email))
        if await User.exists().where(User.email == email):
            raise Conflict(f"There is already an account for {email}", field="email")
        user = User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            created_at=moment,
            password_changed_at=moment if password_hash else None,
            email_confirmed_at=moment if email_confirmed else None,
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


async def invite_user(
    email: str, display_name: str, roles: Iterable[Role], *, invited_by: str
) -> Account:
    """Add a user without a password and email them a link, valid for a week, to choose one."""
    async with transaction():
        account = await create_user(email, display_name, roles)
        await password_links.send_link(
            account.id,
            password_links.INVITATION_LIFETIME,
            account.email,
            "invitation",
            {
                "invited_by": invited_by,
                "roles": ", ".join(ROLE_LABELS[role] for role in sorted(account.roles)),
            },
            subject=f"Your account on the {SERVICE_NAME.lower()}",
        )
    return account


async def set_roles(
    user_id: int, roles: Iterable[Role], *, by_user_id: int | None = None
) -> Account:
    """Replace a user's roles. An admin cannot take away their own admin role, for the same
    reason they cannot deactivate themselves: the last admin would lock everyone out."""
    role_set = frozenset(roles)
    if not role_set:
        raise InvalidInput("Choose at least one role", field="roles")
    async with transaction():
        await _hold_for_change(user_id, by_user_id)
        before = await get_account(user_id)
        if user_id == by_user_id and Role.admin in before.roles and Role.admin not in role_set:
            raise Conflict("You cannot remove your own admin role", field="roles")
        if before.roles == role_set:
            return before  # nothing to change: a twin request has already made it
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


async def _hold_for_change(user_id: int, by_user_id: int | None) -> None:
    """Hold the account being changed and the admin changing it (lower id first, so two admins
    changing each other queue rather than deadlock) to the end of the transaction, then check
    the admin may still act. Each admin is refused only their own powers, so an admin is always
    left; without this, two taking each other's at the same moment would both succeed."""
    for held in sorted({user_id} if by_user_id is None else {user_id, by_user_id}):
        await lock_row(User, held)
    if by_user_id is not None and by_user_id != user_id:
        actor = await get_account(by_user_id)
        if not actor.active or Role.admin not in actor.roles:
            raise PermissionDenied("Your account can no longer change other accounts")


async def update_user(
    user_id: int,
    *,
    roles: Iterable[Role] | None = None,
    active: bool | None = None,
    by_user_id: int | None = None,
) -> Account:
    """Change roles and the active flag together: both happen, or, if either is refused, neither."""
    async with transaction():
        await _hold_for_change(user_id, by_user_id)
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
        await _hold_for_change(user_id, by_user_id)
        before = await get_account(user_id)
        if before.active == active:
            return before  # nothing to change: a twin request has already made it
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
