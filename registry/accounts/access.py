"""Who reaches which route: the rules, and the guard that applies every domain's access rows.

Each domain lists, in its manifest, a rule for each of its routes by the route's name (or, for
the handlers Litestar makes itself for the API description, by its path); the application joins
them into one table and tests call every route as every role. A route missing from the table is
refused to everyone: new routes fail closed until someone decides who may use them. Object
checks (a practitioner sees only their own records) live in the services, on top of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from registry.accounts.auth import is_api_call, token_refused
from registry.accounts.roles import STAFF_ROLES, Role


class Audience(Enum):
    public = "anyone, signed in or not"
    password_only = "signed in with a password, second factor still to come"  # noqa: S105
    signed_in = "any signed-in user"


@dataclass(frozen=True)
class Rule:
    audience: Audience | None = None
    roles: frozenset[Role] = frozenset()
    # The scope of a machine credential (an organisation's API key) that also opens the route.
    scope: str | None = None

    def describe(self) -> str:
        if self.audience is not None:
            return self.audience.value
        people = ", ".join(sorted(role.value for role in self.roles))
        return f"{people}; API keys with scope {self.scope}" if self.scope else people


PUBLIC = Rule(Audience.public)
PASSWORD_ONLY = Rule(Audience.password_only)
SIGNED_IN = Rule(Audience.signed_in)
STAFF = Rule(roles=STAFF_ROLES)
ADMIN = Rule(roles=frozenset({Role.admin}))
PRACTITIONER = Rule(roles=frozenset({Role.practitioner}))
REGISTRAR = Rule(roles=frozenset({Role.registrar}))

AccessTable = Mapping[str, Rule]


def route_key(handler: BaseRouteHandler, path_template: str) -> str:
    """A route's name; for handlers Litestar makes (the API description), its path."""
    if handler.name and "litestar" not in handler.name:
        return handler.name
    return path_template


def allows(rule: Rule, user: Any) -> bool:
    """Does ``rule`` let ``user`` (a CurrentUser, or None when signed out) through?"""
    if rule.audience is Audience.public:
        return True
    if user is None:
        return False
    if getattr(user, "scopes", None) is not None:  # a machine credential: its scopes only
        return rule.scope is not None and rule.scope in user.scopes
    if rule.audience is Audience.password_only:
        return True
    if not user.fully_signed_in:
        return False
    if rule.audience is Audience.signed_in:
        return True
    return bool(rule.roles & user.roles)


def access_guard(table: AccessTable) -> Guard:
    """A Litestar guard applying ``table`` (every domain's access rows) to every route."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        if connection.scope.get("method") == "OPTIONS" and handler.name is None:
            return
        rule = table.get(route_key(handler, str(connection.scope.get("path_template", ""))))
        user = connection.scope.get("user")
        if rule is None:
            raise PermissionDeniedException("This page has not been opened to anyone yet.")
        if allows(rule, user):
            return
        if user is None and is_api_call(connection.scope):
            raise token_refused(connection.scope)
        if user is None:
            raise NotAuthorizedException("Sign in to continue.")
        if not user.fully_signed_in:
            raise NotAuthorizedException("Enter the code from your authenticator app to continue.")
        raise PermissionDeniedException("You do not have permission to do this.")

    return guard
