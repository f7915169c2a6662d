"""The access table, route by route and role by role, through the real HTTP stack."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar

from registry.accounts.access import allows, route_key
from registry.accounts.auth import CurrentUser
from registry.accounts.roles import Role
from registry.core.domain import route_access
from registry.domains import DOMAINS
from tests.accounts.helpers import csrf_headers, user_signed_in_as

ROUTE_ACCESS = route_access(DOMAINS)

ASSET_PREFIXES = ("/static", "/assets", "/schema")


def app_routes(app: Litestar) -> Iterator[tuple[str, str, str]]:
    """(method, path template, route key) for every route a person could call."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods):
                if method in ("OPTIONS", "HEAD"):
                    continue
                yield method, route.path, route_key(handler, route.path)


def concrete(path: str) -> str:
    # An id nobody has: a call that gets through must not revoke the caller's own token.
    return re.sub(r"\{[^}]+\}", "987654", path)


def test_every_route_has_a_row_in_the_access_table(app: Litestar) -> None:
    missing = {key for _, _, key in app_routes(app) if key not in ROUTE_ACCESS}
    assert not missing, f"routes with no access rule (refused to everyone): {sorted(missing)}"


def _expected_refusal(rule_key: str, user: CurrentUser | None) -> int | None:
    rule = ROUTE_ACCESS[rule_key]
    if allows(rule, user):
        return None
    return 401 if user is None else 403


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> int:
    body: dict[str, object] | None = (
        {} if method in ("POST", "PATCH", "PUT") and path.startswith("/api/") else None
    )
    response = await client.request(method, path, headers=headers, json=body)
    return response.status_code


async def test_signed_out_visitors_get_401_outside_public_routes(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    headers = await csrf_headers(client)
    checked = 0
    for method, path, key in app_routes(app):
        if path.startswith(ASSET_PREFIXES):
            continue
        expected = _expected_refusal(key, None)
        status = await _call(client, method, concrete(path), headers)
        if expected is None:
            assert status not in (401, 403), f"{method} {path} refused a visitor it should serve"
        else:
            assert status == expected, f"{method} {path}: {status}, expected {expected}"
            checked += 1
    assert checked > 10


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_is_refused_outside_its_rows(
    app: Litestar, client: httpx.AsyncClient, role: Role
) -> None:
    signed_in = await user_signed_in_as(role)
    account = signed_in.account
    user = CurrentUser(
        account.id,
        account.email,
        account.display_name,
        account.roles,
        account.is_staff,
        account.totp_enabled,
        session_id=1,
        fully_signed_in=True,
    )
    csrf = await csrf_headers(client)
    refused = 0
    for method, path, key in app_routes(app):
        if path.startswith(ASSET_PREFIXES) or key in ("sign_out",):
            continue
        is_api = path.startswith("/api/")
        headers = signed_in.bearer() if is_api else {**csrf}
        client.cookies.set("registry_session", signed_in.session_token)
        status = await _call(client, method, concrete(path), headers)
        expected = _expected_refusal(key, user)
        if expected is None:
            assert status not in (401, 403), f"{role}: {method} {path} refused ({status})"
        else:
            assert status == 403, f"{role}: {method} {path}: {status}, expected 403"
            refused += 1
    if role is not Role.admin:
        assert refused > 0


async def test_staff_without_their_second_factor_reach_only_the_second_factor_pages(
    client: httpx.AsyncClient,
) -> None:
    from registry.accounts import sign_in
    from tests.accounts.helpers import make_user

    account = await make_user(Role.registrar)
    token = await sign_in.start_session(account, "127.0.0.1", "test")
    client.cookies.set("registry_session", token)
    assert (await client.get("/account/two-factor/setup")).status_code == 200
    assert (await client.get("/account")).status_code == 401
    assert (await client.get("/admin/users")).status_code == 401
