"""Who reaches which route: one table, reviewed here and tested route by route.

Every route handler is looked up by its name (or, for the handlers Litestar makes itself for
the API description, by its path). A route missing from the table is refused to everyone: new
routes fail closed until someone decides who may use them. Object checks (a practitioner sees
only their own records) live in the services, on top of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from registry.accounts.roles import STAFF_ROLES, Role


class Audience(Enum):
    public = "anyone, signed in or not"
    password_only = "signed in with a password, second factor still to come"  # noqa: S105
    signed_in = "any signed-in user"


@dataclass(frozen=True)
class Rule:
    audience: Audience | None = None
    roles: frozenset[Role] = frozenset()

    def describe(self) -> str:
        if self.audience is not None:
            return self.audience.value
        return ", ".join(sorted(role.value for role in self.roles))


PUBLIC = Rule(Audience.public)
PASSWORD_ONLY = Rule(Audience.password_only)
SIGNED_IN = Rule(Audience.signed_in)
STAFF = Rule(roles=STAFF_ROLES)
ADMIN = Rule(roles=frozenset({Role.admin}))
PRACTITIONER = Rule(roles=frozenset({Role.practitioner}))
REGISTRAR = Rule(roles=frozenset({Role.registrar}))

ROUTE_ACCESS: dict[str, Rule] = {
    # service
    "home": PUBLIC,
    "health": PUBLIC,
    "ready": PUBLIC,
    "static": PUBLIC,
    "static/head": PUBLIC,
    "govuk_assets": PUBLIC,
    "govuk_assets/head": PUBLIC,
    "swagger_assets": PUBLIC,
    "swagger_assets/head": PUBLIC,
    "/schema": PUBLIC,
    "/schema/{path:str}": PUBLIC,
    "/schema/openapi.json": PUBLIC,
    "/schema/oauth2-redirect.html": PUBLIC,
    # the public register
    "register_search": PUBLIC,
    "register_entry": PUBLIC,
    "api_register_search": PUBLIC,
    "api_register_entry": PUBLIC,
    "register_download": PUBLIC,
    "register_download_csv": PUBLIC,
    "register_download_json": PUBLIC,
    # applying to join the register, and following the application
    "apply_start": PRACTITIONER,
    "apply_begin": PRACTITIONER,
    "apply_restoration": PRACTITIONER,
    "apply_restoration_begin": PRACTITIONER,
    "apply_check": PRACTITIONER,
    "apply_submit": PRACTITIONER,
    "apply_submitted": PRACTITIONER,
    "apply_step": PRACTITIONER,
    "apply_step_submit": PRACTITIONER,
    "your_application": PRACTITIONER,
    "your_application_respond": PRACTITIONER,
    # a practitioner's own registration: renewing and leaving
    "your_registration": PRACTITIONER,
    "renew_registration": PRACTITIONER,
    "renew_registration_submit": PRACTITIONER,
    "renewal_done": PRACTITIONER,
    "leave_register": PRACTITIONER,
    "leave_register_submit": PRACTITIONER,
    # the registrar's decisions on applications
    "registrar_applications": REGISTRAR,
    "registrar_application": REGISTRAR,
    "registrar_application_approve": REGISTRAR,
    "registrar_application_reject": REGISTRAR,
    "registrar_application_request_information": REGISTRAR,
    "registrar_application_evidence": REGISTRAR,
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
    # reference data
    "admin_reference": ADMIN,
    "admin_reference_kind": ADMIN,
    "admin_reference_add": ADMIN,
    "admin_reference_item": ADMIN,
    "admin_reference_update": ADMIN,
    # the audit trail
    "audit_trail": STAFF,
    "api_audit_trail": STAFF,
    # the outbox
    "outbox": STAFF,
    "outbox_message": STAFF,
    "outbox_message_retry": STAFF,
}


def route_key(handler: BaseRouteHandler, path_template: str) -> str:
    """A route's name; for handlers Litestar makes (the API description), its path."""
    if handler.name and "litestar" not in handler.name:
        return handler.name
    return path_template


def rule_for(handler: BaseRouteHandler, path_template: str) -> Rule | None:
    return ROUTE_ACCESS.get(route_key(handler, path_template))


def allows(rule: Rule, user: Any) -> bool:
    """Does ``rule`` let ``user`` (a CurrentUser, or None when signed out) through?"""
    if rule.audience is Audience.public:
        return True
    if user is None:
        return False
    if rule.audience is Audience.password_only:
        return True
    if not user.fully_signed_in:
        return False
    if rule.audience is Audience.signed_in:
        return True
    return bool(rule.roles & user.roles)


async def access_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Litestar guard applying :data:`ROUTE_ACCESS` to every route."""
    if connection.scope.get("method") == "OPTIONS" and handler.name is None:
        return
    rule = rule_for(handler, str(connection.scope.get("path_template", "")))
    user = connection.scope.get("user")
    if rule is None:
        raise PermissionDeniedException("This page has not been opened to anyone yet.")
    if allows(rule, user):
        return
    if user is None:
        raise NotAuthorizedException("Sign in to continue.")
    if not user.fully_signed_in:
        raise NotAuthorizedException("Enter the code from your authenticator app to continue.")
    raise PermissionDeniedException("You do not have permission to do this.")
