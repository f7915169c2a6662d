"""The service's own pages: the start page, the footer's support pages (accessibility, privacy,
cookies, contact, service status), health and readiness, static files and the API description.
Not a domain of the regulator's, but it plugs in the same way."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router

from registry.accounts.access import PUBLIC
from registry.core.domain import Domain
from registry.web.health import HealthController
from registry.web.inputs import AddressGuard
from registry.web.pages import HomePage, SupportPages

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
STATIC_DIR = PROJECT_ROOT / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"


def static_routers() -> list[Router]:
    # Front-end packages are served straight from what npm installed, never from a CDN.
    return [
        create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        create_static_files_router(
            path="/assets/govuk",
            directories=[NODE_MODULES / "govuk-frontend" / "dist" / "govuk"],
            name="govuk_assets",
            include_in_schema=False,
        ),
        create_static_files_router(
            path="/assets/swagger-ui",
            directories=[NODE_MODULES / "swagger-ui-dist"],
            name="swagger_assets",
            include_in_schema=False,
        ),
    ]


DOMAIN = Domain(
    name="service",
    # Guards the address of every route, whichever domain owns it: one check, so no route is
    # left out (registry.web.inputs).
    middleware=[AddressGuard()],
    pages=[HealthController, HomePage, SupportPages, *static_routers()],
    access={
        # service
        "home": PUBLIC,
        "health": PUBLIC,
        "ready": PUBLIC,
        # the footer's support pages
        "accessibility": PUBLIC,
        "privacy": PUBLIC,
        "cookies": PUBLIC,
        "contact": PUBLIC,
        "service_status": PUBLIC,
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
    },
)
