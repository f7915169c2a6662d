"""What accounts hold about a person, for a subject access export.

Every row is read column by column, never whole: a password hash, a second-factor secret and
the hashes of session, API, reset, confirmation and recovery tokens stay out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from registry.accounts.tables import (
    ApiToken,
    BrowserSession,
    CodeAttempt,
    EmailConfirmation,
    LoginAttempt,
    PasswordResetToken,
    RecoveryCode,
    SignUpAttempt,
    User,
    UserRole,
)
from registry.core.subject_access import EMAIL, PersonKeys, SubjectAccess, SubjectRecords

USER = "user"
API_TOKEN = "api_token"  # noqa: S105 (the audit trail's target type for a token)


async def identify(person: PersonKeys) -> PersonKeys:
    """The account behind each email address, and each account's address and tokens."""
    emails = sorted(person.of(EMAIL))
    if emails:
        rows = await User.select(User.id).where(User.email.is_in(emails))
        person = person.adding(USER, (row["id"] for row in rows))
    user_ids = person.numbers(USER)
    if user_ids:
        users = await User.select(User.email).where(User.id.is_in(user_ids))
        person = person.adding(EMAIL, (row["email"] for row in users))
        tokens = await ApiToken.select(ApiToken.id).where(ApiToken.user.is_in(user_ids))
        person = person.adding(API_TOKEN, (row["id"] for row in tokens))
    return person


async def export(person: PersonKeys, data_dir: Path) -> SubjectRecords:
    user_ids = person.numbers(USER)
    emails = sorted(person.of(EMAIL))
    if not user_ids:
        return SubjectRecords({"accounts": [], "sign_in_attempts": [], "sign_up_attempts": []})
    return SubjectRecords(
        {
            "accounts": [await _account(user_id) for user_id in user_ids],
            # Kept by the address typed, so they may predate the account or name no account.
            "sign_in_attempts": await _rows(
                LoginAttempt,
                LoginAttempt.email.is_in(emails),
                LoginAttempt.email,
                LoginAttempt.attempted_at,
                LoginAttempt.client_address,
                LoginAttempt.succeeded,
            ),
            "sign_up_attempts": await _rows(
                SignUpAttempt,
                SignUpAttempt.email.is_in(emails),
                SignUpAttempt.email,
                SignUpAttempt.attempted_at,
                SignUpAttempt.client_address,
            ),
        }
    )


async def _account(user_id: int) -> dict[str, Any]:
    account = await (
        User.select(
            User.id,
            User.email,
            User.display_name,
            User.active,
            User.created_at,
            User.last_login_at,
            User.password_changed_at,
            User.email_confirmed_at,
            User.totp_enabled_at,
        )
        .where(User.id == user_id)
        .first()
    )
    assert account is not None  # identify found it
    return {
        **account,
        "roles": sorted(
            row["role"]
            for row in await UserRole.select(UserRole.role).where(UserRole.user == user_id)
        ),
        "sessions": await _rows(
            BrowserSession,
            BrowserSession.user == user_id,
            BrowserSession.id,
            BrowserSession.created_at,
            BrowserSession.last_seen_at,
            BrowserSession.second_factor_verified,
            BrowserSession.client_address,
            BrowserSession.user_agent,
        ),
        "api_tokens": await _rows(
            ApiToken,
            ApiToken.user == user_id,
            ApiToken.id,
            ApiToken.name,
            ApiToken.token_prefix,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
            ApiToken.expires_at,
        ),
        "recovery_codes": await _rows(
            RecoveryCode, RecoveryCode.user == user_id, RecoveryCode.id, RecoveryCode.used_at
        ),
        "password_links": await _rows(
            PasswordResetToken,
            PasswordResetToken.user == user_id,
            PasswordResetToken.created_at,
            PasswordResetToken.expires_at,
            PasswordResetToken.used_at,
        ),
        "email_confirmation_links": await _rows(
            EmailConfirmation,
            EmailConfirmation.user == user_id,
            EmailConfirmation.created_at,
            EmailConfirmation.expires_at,
            EmailConfirmation.used_at,
        ),
        "second_factor_attempts": await _rows(
            CodeAttempt,
            CodeAttempt.user == user_id,
            CodeAttempt.attempted_at,
            CodeAttempt.succeeded,
        ),
    }


async def _rows(table: type[Table], where: Any, *columns: Column) -> list[dict[str, Any]]:
    """Just ``columns`` of ``table``'s rows that match, oldest first."""
    return list(await table.select(*columns).where(where).order_by(table._meta.primary_key))


SUBJECT_ACCESS = SubjectAccess(part="accounts", identify=identify, export=export)
