"""Where the account pages live. Routes, redirects and emailed links all take their paths from here,
so moving a page is one edit and an emailed link cannot point at a page that has moved."""

# ruff: noqa: S105 (paths with "password" in them, not passwords)
from __future__ import annotations

from urllib.parse import urlencode

SIGN_IN = "/sign-in"
SIGN_OUT = "/sign-out"
TWO_FACTOR = "/sign-in/two-factor"
FORGOTTEN_PASSWORD = "/forgotten-password"
RESET_PASSWORD = "/reset-password"
ACCOUNT = "/account"
ACCOUNT_PASSWORD = "/account/password"
ACCOUNT_TOKENS = "/account/tokens"
TWO_FACTOR_SETUP = "/account/two-factor/setup"
ADMIN_USERS = "/admin/users"
# The sign-in page says why the person is back on it.
SIGN_IN_AFTER_SIGN_OUT = f"{SIGN_IN}?signed_out=1"
SIGN_IN_AFTER_RESET = f"{SIGN_IN}?password_reset=1"


def with_query(path: str, **params: str) -> str:
    """``path`` with ``params`` as its query string; empty values are left out."""
    present = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(present)}" if present else path


def reset_password_link(token: str) -> str:
    """The path of a reset or invitation link; the email adds the service's address when sent."""
    return with_query(RESET_PASSWORD, token=token)


def two_factor_prompt(next_page: str = "") -> str:
    return with_query(TWO_FACTOR, next=next_page)


def admin_user(user_id: int, **params: str) -> str:
    return with_query(f"{ADMIN_USERS}/{user_id}", **params)


CREATE_ACCOUNT = "/create-account"
CREATE_ACCOUNT_CHECK_EMAIL = "/create-account/check-your-email"
CONFIRM_EMAIL = "/create-account/confirm"
RESEND_CONFIRMATION = "/create-account/resend"


def confirm_email_link(token: str) -> str:
    """The path of an email confirmation link; the email adds the service's address."""
    return with_query(CONFIRM_EMAIL, token=token)
