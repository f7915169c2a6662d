"""What the API description says about tokens: the bearer scheme, and which operations need it.

Which operations need a token is not listed here: the access table already says who may call
each route, and an API route a signed-out caller may not reach needs a token. So the description
cannot drift from what the guard does.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import Components, Reference, SecurityRequirement, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from registry.accounts.access import AccessTable, allows, route_key
from registry.accounts.auth import API_PREFIX

API_TOKEN_SCHEME = "apiToken"  # noqa: S105 (the scheme's name, not a secret)


def security_components() -> Components:
    """The description's components: the API token scheme operations refer to by name."""
    schemes: dict[str, SecurityScheme | Reference] = {
        API_TOKEN_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="prr_…",
            description=(
                "A personal API token (`prr_…`), made on your account page or with "
                "`POST /api/v1/me/tokens` and shown once. Send it as "
                "`Authorization: Bearer prr_…`. The public register needs none."
            ),
        )
    }
    return Components(security_schemes=schemes)


def needs_a_token() -> list[SecurityRequirement]:
    return [{API_TOKEN_SCHEME: []}]


@dataclass(frozen=True, eq=False)
class TokenRequirements(ReceiveRoutePlugin):
    """Marks each API operation the access table closes to signed-out callers as needing a
    token, as Litestar registers its route (before the description is first built)."""

    access: AccessTable

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            rule = self.access.get(route_key(handler, route.path_format))
            # A route with no row is refused to everyone; a token is still the way to ask.
            if rule is None or not allows(rule, None):
                handler.security = needs_a_token()
