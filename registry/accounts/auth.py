"""Who is making this request: a browser session cookie for pages, a bearer token for the API."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any, TypeAlias

from litestar import Request
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Receive, Scope, Send

from registry.accounts import sign_in, tokens
from registry.accounts.roles import Role
from registry.audit.context import Actor, set_actor
from registry.config import IPNetwork
from registry.core.domain import active_domains
from registry.web.observability import request_id_from

SESSION_COOKIE = "registry_session"
API_PREFIX = "/api/"
# Stylesheets and scripts need no user; looking one up would cost a query per asset. The status
# checks and the service status page must answer while the database is down, so they never ask it.
ANONYMOUS_PREFIXES = ("/static/", "/assets/", "/health", "/ready", "/service-status")
# What an API call refused for want of a token is told to do; pages ask people to sign in instead.
TOKEN_HINT = "Send an API token in the Authorization header: Bearer prr_…"  # noqa: S105


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    display_name: str
    roles: frozenset[Role]
    is_staff: bool
    totp_enabled: bool
    session_id: int | None  # None when the request carries an API token
    fully_signed_in: bool  # staff have passed their second factor
    # What other domains say about this person for the pages (e.g. "has_application"): read
    # once per page request, for navigation and signposts; never for access decisions.
    facts: frozenset[str] = frozenset()
    # None for a person. For a machine credential (an organisation's API key, resolved by the
    # domain that issues it), what it may do: it reaches only routes whose rule names one.
    scopes: frozenset[str] | None = None


SignedInRequest: TypeAlias = Request[CurrentUser, Any, State]
"""A request to a route only signed-in users may open: ``request.user`` is who is signed in.

The access guard (:mod:`registry.accounts.access`) turns everyone else away before the handler
runs, so the handler needs no check of its own."""

VisitorRequest: TypeAlias = Request[CurrentUser | None, Any, State]
"""A request to a route anyone may open: ``request.user`` is None for a signed-out visitor."""


def client_address(scope: Scope) -> str:
    """Who is asking: the socket's peer, or, when that peer is one of the trusted proxies
    (``REGISTRY_TRUSTED_PROXIES``), the nearest address in ``X-Forwarded-For`` that is not one
    of them. Anyone can send the header, so it is read only through the proxies that set it."""
    state = scope.setdefault("state", {})
    if "client_address" not in state:
        state["client_address"] = _client_address(scope)
    return str(state["client_address"])


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    app = scope.get("app")
    trusted = app.state.settings.trusted_networks if app is not None else ()
    if not trusted or not _within(peer, trusted):
        return peer
    forwarded = [part.strip() for part in _header(scope, b"x-forwarded-for").split(",")]
    for hop in reversed([part for part in forwarded if part]):
        if not _within(hop, trusted):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    return _address(text) is not None


def _within(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # An address is never this long; whatever else a header holds is not kept.
    return _remembered_address(text) if len(text) <= 64 else _parsed_address(text)


def _parsed_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# The proxies and clients of the moment, each parsed once.
_remembered_address = functools.lru_cache(maxsize=4096)(_parsed_address)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope: Scope, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def _bearer_token(scope: Scope) -> str:
    """The token in ``Authorization: Bearer …``, or "" when the request carries none."""
    scheme, _, raw = _header(scope, b"authorization").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def is_api_call(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(API_PREFIX)


def token_refused(scope: Scope) -> NotAuthorizedException:
    """The 401 for an API call with no working token, as RFC 6750 words it: ``WWW-Authenticate:
    Bearer``, with ``error="invalid_token"`` when a token came but is wrong or revoked, so a
    client knows to get a new token rather than to add one."""
    if _bearer_token(scope):
        return NotAuthorizedException(
            "That API token is not valid: it may be mistyped or revoked, or its account "
            f"deactivated. {TOKEN_HINT}",
            headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="The token is not valid"'
            },
        )
    return NotAuthorizedException(TOKEN_HINT, headers={"WWW-Authenticate": "Bearer"})


async def _from_token(scope: Scope) -> CurrentUser | None:
    raw = _bearer_token(scope)
    if not raw:
        return None
    for domain in active_domains():
        for prefix, resolve in domain.bearer_credentials.items():
            if raw.startswith(prefix):
                resolved: CurrentUser | None = await resolve(raw)
                return resolved
    account = await tokens.account_for_api_token(raw)
    if account is None:
        return None
    return CurrentUser(
        account.id,
        account.email,
        account.display_name,
        account.roles,
        account.is_staff,
        account.totp_enabled,
        session_id=None,
        fully_signed_in=True,
    )


async def _from_session(scope: Scope) -> CurrentUser | None:
    signed_in = await sign_in.session_for(_cookie(scope, SESSION_COOKIE))
    if signed_in is None:
        return None
    account = signed_in.account
    fully_signed_in = signed_in.second_factor_verified or not account.needs_second_factor
    return CurrentUser(
        account.id,
        account.email,
        account.display_name,
        account.roles,
        account.is_staff,
        account.totp_enabled,
        session_id=signed_in.session_id,
        fully_signed_in=fully_signed_in,
        facts=await _facts(account.id, account.roles) if fully_signed_in else frozenset(),
    )


async def _facts(user_id: int, roles: frozenset[Role]) -> frozenset[str]:
    found: set[str] = set()
    for domain in active_domains():
        for source in domain.visitor_facts:
            found |= await source(user_id, roles)
    return frozenset(found)


class AuthenticationMiddleware:
    """Sets ``scope["user"]`` on every HTTP request (None when signed out), so ``request.user``
    never raises, and the audit trail's actor.

    The API takes bearer tokens only and pages take the session cookie only: cookies never
    authenticate an API call, so the API needs no CSRF token and a page cannot be driven by a
    stolen API token in a browser.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            pass
        elif scope["path"].startswith(ANONYMOUS_PREFIXES):
            scope["user"] = None
        else:
            await authenticate(scope)
        await self.app(scope, receive, send)


async def authenticate(scope: Scope) -> CurrentUser | None:
    """Who makes this HTTP request (None when signed out), set as ``scope["user"]`` and as the
    audit trail's actor: by bearer token on the API, by session cookie on pages."""
    user = await (_from_token(scope) if is_api_call(scope) else _from_session(scope))
    scope["user"] = user
    set_actor(
        Actor(
            id=user.id if user and user.scopes is None else None,
            label=user.email if user else "public",
            client_address=client_address(scope),
            request_id=request_id_from(scope),
        )
    )
    return user
