"""Accounts: users and roles, browser sessions, API tokens, second factors, sign-in history."""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class User(Table, tablename="account_user"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    email = Varchar(length=254, unique=True)  # stored case-folded: one account per address
    display_name = Varchar(length=120)
    password_hash = Text(default="")  # empty until an invited user sets a password
    active = Boolean(default=True)
    totp_secret = Text(default="")  # encrypted with the service key; empty until enrolled
    totp_enabled_at = Timestamptz(null=True, default=None)
    totp_last_step = BigInt(null=True, default=None)  # refuses a code used once already
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)
    # When the holder proved the address is theirs (a confirmation, reset or invitation link);
    # an account made by self-service sign-up cannot apply to the register until then.
    email_confirmed_at = Timestamptz(null=True, default=None)


class UserRole(Table, tablename="account_user_role"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=32)
    # (user, role) is unique through an index the migration creates: Piccolo adds table
    # constraints with ALTER TABLE, which SQLite cannot do.


class BrowserSession(Table, tablename="account_session"):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    second_factor_verified = Boolean(default=False)
    client_address = Varchar(length=64, default="")
    user_agent = Varchar(length=256, default="")


class ApiToken(Table, tablename="account_api_token"):
    """A personal bearer token for the JSON API, shown once and stored as a SHA-256 hash."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=80)
    token_prefix = Varchar(length=16)  # the visible start of the token, to recognise it
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)  # null: never (tokens made before expiry)


class RecoveryCode(Table, tablename="account_recovery_code"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)


class PasswordResetToken(Table, tablename="account_password_reset"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class EmailConfirmation(Table, tablename="account_email_confirmation"):
    """A single-use link that confirms a new account's email address; only its hash is kept."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class SignUpAttempt(Table, tablename="account_sign_up_attempt"):
    """Every request to create an account, kept to limit them by address and by email."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    email = Varchar(length=254, index=True)
    client_address = Varchar(length=64, index=True)
    attempted_at = Timestamptz(index=True)


class CodeAttempt(Table, tablename="account_code_attempt"):
    """Every second-factor code entered at sign-in, kept to limit guessing per session and per
    account across all workers."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    session_id = Integer(null=True, default=None, index=True)  # sessions come and go; no key
    attempted_at = Timestamptz(index=True)
    succeeded = Boolean(default=False)


class LoginAttempt(Table, tablename="account_login_attempt"):
    """Every sign-in attempt, kept for rate limiting and lock-out across all workers."""

    id: Serial  # made by Piccolo; declared so the type checker knows it
    email = Varchar(length=254, index=True)
    client_address = Varchar(length=64, index=True)
    attempted_at = Timestamptz(index=True)
    succeeded = Boolean(default=False)


ACCOUNT_TABLES: list[type[Table]] = [
    User,
    UserRole,
    BrowserSession,
    ApiToken,
    RecoveryCode,
    PasswordResetToken,
    EmailConfirmation,
    SignUpAttempt,
    CodeAttempt,
    LoginAttempt,
]
