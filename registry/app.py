"""The one place the application is assembled: ``create_app(settings)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Contact
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp

from registry import SERVICE_NAME, __version__
from registry.accounts.access import access_guard
from registry.accounts.api import MeController, UsersController
from registry.accounts.auth import AuthenticationMiddleware
from registry.accounts.pages import AccountPages, PasswordPages, SignInPages, StaffAdminPages
from registry.audit.api import AuditController
from registry.audit.pages import AuditPages
from registry.config import Settings, ensure_secret_key, load_settings
from registry.db import RegistryEngine, bind_engine, create_engine
from registry.notifications.pages import OutboxPages
from registry.register.api import PublicRegisterController
from registry.register.application_pages import (
    ApplicationPages,
    RegistrarApplicationPages,
    YourApplicationPages,
)
from registry.register.opendata import OpenDataController
from registry.register.pages import PublicRegisterPages
from registry.register.practitioner_pages import YourRegistrationPages
from registry.register.reference_pages import ReferenceDataPages
from registry.web.errors import EXCEPTION_HANDLERS
from registry.web.health import HealthController
from registry.web.observability import RequestContextMiddleware, configure_logging
from registry.web.pages import HomePage
from registry.web.templating import template_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = PROJECT_ROOT / "static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
API_PREFIX = "/api/v1"

# Each domain's API controllers and pages, added here as each domain lands.
API_HANDLERS: list[object] = [
    MeController,
    UsersController,
    AuditController,
    PublicRegisterController,
]
PAGE_HANDLERS: list[object] = [
    HomePage,
    SignInPages,
    PasswordPages,
    AccountPages,
    StaffAdminPages,
    AuditPages,
    OutboxPages,
    PublicRegisterPages,
    OpenDataController,
    ReferenceDataPages,
    ApplicationPages,
    YourApplicationPages,
    RegistrarApplicationPages,
    YourRegistrationPages,
]


def _static_routers() -> list[Router]:
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


def _openapi_config() -> OpenAPIConfig:
    swagger = "/assets/swagger-ui"
    return OpenAPIConfig(
        title=f"{SERVICE_NAME} API",
        version=__version__,
        description=(
            "The public register of probation practitioners in England and Wales, and the API "
            "that practitioners, regulator staff and employers use. Errors are RFC 9457 "
            "problem+json documents."
        ),
        contact=Contact(name="Register support"),
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{swagger}/swagger-ui-bundle.js",
                css_url=f"{swagger}/swagger-ui.css",
                standalone_preset_js_url=f"{swagger}/swagger-ui-standalone-preset.js",
                favicon='<link rel="icon" href="/static/images/favicon.svg" type="image/svg+xml">',
            )
        ],
    )


def _csrf_config(settings: Settings) -> CSRFConfig:
    # The API authenticates with bearer tokens only, never cookies, so it needs no CSRF token.
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="registry_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=["^/api/"],
    )


def _lifespan(engine: RegistryEngine):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        bind_engine(engine)
        await engine.start()
        try:
            yield
        finally:
            await engine.stop()

    return lifespan


class RegistryApp(Litestar):
    """Litestar with the request context around everything, unmatched routes included.

    Litestar's own middleware wraps matched routes only; a 404 must carry a request id too.
    """

    def _create_asgi_handler(self) -> ASGIApp:
        return RequestContextMiddleware(super()._create_asgi_handler())


def create_app(settings: Settings | None = None) -> Litestar:
    settings = ensure_secret_key(settings or load_settings())
    configure_logging(settings.log_format)
    engine = create_engine(settings)
    bind_engine(engine)
    api = Router(path=API_PREFIX, route_handlers=API_HANDLERS)  # type: ignore[arg-type]
    return RegistryApp(
        route_handlers=[HealthController, *PAGE_HANDLERS, api, *_static_routers()],  # type: ignore[list-item]
        middleware=[AuthenticationMiddleware],
        guards=[access_guard],
        csrf_config=_csrf_config(settings),
        lifespan=[_lifespan(engine)],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(),
        openapi_config=_openapi_config(),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        state=State({"settings": settings, "engine": engine}),
        debug=False,
        logging_config=None,
    )
