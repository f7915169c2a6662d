"""Accounts: users and roles, signing in, second factor, passwords and API tokens."""

from __future__ import annotations

from pathlib import Path

from registry.accounts.access import ADMIN, PASSWORD_ONLY, PUBLIC, SIGNED_IN
from registry.accounts.api import MeController, UsersController
from registry.accounts.cli import users
from registry.accounts.demo import seed_demo_users
from registry.accounts.jobs import JOBS
from registry.accounts.pages import AccountPages, PasswordPages, SignInPages, StaffAdminPages
from registry.accounts.sign_up_pages import SignUpPages
from registry.accounts.subject_access import SUBJECT_ACCESS
from registry.accounts.tables import ACCOUNT_TABLES
from registry.core.domain import Domain, NavItem, holding, signed_in, signed_out

DOMAIN = Domain(
    name="accounts",
    api=[MeController, UsersController],
    pages=[SignInPages, SignUpPages, PasswordPages, AccountPages, StaffAdminPages],
    access={
        # creating an account and confirming its email address
        "create_account": PUBLIC,
        "create_account_submit": PUBLIC,
        "create_account_check_email": PUBLIC,
        "confirm_email": PUBLIC,
        "confirm_email_submit": PUBLIC,
        "resend_confirmation": SIGNED_IN,
        # signing in and out
        "sign_in": PUBLIC,
        "sign_in_submit": PUBLIC,
        "forgotten_password": PUBLIC,
        "forgotten_password_submit": PUBLIC,
        "reset_password": PUBLIC,
        "reset_password_submit": PUBLIC,
        "two_factor_prompt": PASSWORD_ONLY,
        "two_factor_submit": PASSWORD_ONLY,
        "two_factor_setup": PASSWORD_ONLY,
        "two_factor_setup_submit": PASSWORD_ONLY,
        "sign_out": PASSWORD_ONLY,
        # your own account
        "account": SIGNED_IN,
        "account_password": SIGNED_IN,
        "account_token_create": SIGNED_IN,
        "account_token_revoke": SIGNED_IN,
        "api_me": SIGNED_IN,
        "api_tokens_list": SIGNED_IN,
        "api_tokens_create": SIGNED_IN,
        "api_tokens_revoke": SIGNED_IN,
        # staff administration
        "admin_users": ADMIN,
        "admin_user_new": ADMIN,
        "admin_user_new_submit": ADMIN,
        "admin_user": ADMIN,
        "admin_user_roles_submit": ADMIN,
        "admin_user_active_submit": ADMIN,
        "api_admin_users_list": ADMIN,
        "api_admin_users_create": ADMIN,
        "api_admin_user_update": ADMIN,
    },
    navigation=[
        NavItem("/sign-in", "Sign in", signed_out, position=20),
        NavItem("/admin/users", "Users", holding("admin"), position=50),
        NavItem("/account", "Your account", signed_in, position=90),
    ],
    jobs=JOBS,
    demo_seeders=[seed_demo_users],
    commands=[users],
    tables=ACCOUNT_TABLES,
    email_templates=Path(__file__).resolve().parent / "templates" / "email",
    subject_access=[SUBJECT_ACCESS],
)
