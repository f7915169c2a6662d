"""The one place the application is assembled: ``create_app(settings)``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Contact
from litestar.types import ASGIApp

from registry import SERVICE_NAME, __version__
from registry.accounts.access import access_guard
from registry.accounts.api_docs import TokenRequirements, security_components
from registry.accounts.auth import AuthenticationMiddleware
from registry.conduct.api import concern_raise_answer
from registry.config import Settings, ensure_secret_key, load_settings
from registry.core.domain import API_PREFIX, Domain, route_access
from registry.cpd.api import activity_create_answer
from registry.db import RegistryEngine, bind_engine, create_engine
from registry.domains import DOMAINS
from registry.register.api import entry_answer, search_answer
from registry.register.pages import entry_page_answer
from registry.web.api_errors import ProblemResponses
from registry.web.csrf import form_protection
from registry.web.errors import EXCEPTION_HANDLERS
from registry.web.fastpath import COMPRESS_FROM, GZIP_LEVEL, FastPaths, WriteRoute
from registry.web.observability import RequestContextMiddleware, configure_logging
from registry.web.templating import template_config

# Public reads answered before the framework when they can be answered exactly as their route
# would (registry.web.fastpath): the register's lookup by number, and its entry page.
FAST_READS = [(f"{API_PREFIX}/register/", entry_answer), ("/register/", entry_page_answer)]
# ... and by exact path, given their query: the register's search.
FAST_QUERIES = {f"{API_PREFIX}/register": search_answer}
# API writes answered the same way, by method and path, each with its route's name (its access
# row decides who may make it): logging a CPD activity, and (by someone with no credential at
# all) raising a concern.
FAST_WRITES = {
    ("POST", f"{API_PREFIX}/me/cpd/activities"): WriteRoute(
        "api_cpd_activity_create", activity_create_answer
    ),
    ("POST", f"{API_PREFIX}/concerns"): WriteRoute(
        "api_concern_raise", concern_raise_answer, anonymous=True
    ),
}


def _openapi_config() -> OpenAPIConfig:
    swagger = "/assets/swagger-ui"
    return OpenAPIConfig(
        title=f"{SERVICE_NAME} API",
        version=__version__,
        description=(
            "The public register of probation practitioners in England and Wales, and the API "
            "that practitioners, regulator staff and employers use. Errors are RFC 9457 "
            "problem+json documents. Operations marked with a padlock need an API token: "
            "`Authorization: Bearer prr_…`."
        ),
        contact=Contact(name="Register support"),
        components=security_components(),
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
        settings: Settings = self.state.settings
        return RequestContextMiddleware(
            FastPaths(
                super()._create_asgi_handler(),
                FAST_READS,
                FAST_QUERIES,
                FAST_WRITES,
                self.state.access,
            ),
            strict_transport=settings.secure_cookies,
        )


def create_app(settings: Settings | None = None, domains: Sequence[Domain] = DOMAINS) -> Litestar:
    """The service: every domain's routes (each :class:`Domain` is a Litestar plugin), guarded
    by every domain's access rows, with every domain's navigation."""
    settings = ensure_secret_key(settings or load_settings())
    configure_logging(settings.log_format)
    engine = create_engine(settings)
    bind_engine(engine)
    access = route_access(domains)
    return RegistryApp(
        # The API description marks what needs a token from the same access table as the guard.
        plugins=[*domains, TokenRequirements(access), ProblemResponses()],
        middleware=[AuthenticationMiddleware, form_protection(settings)],
        guards=[access_guard(access)],
        lifespan=[_lifespan(engine)],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=template_config(domains, auto_reload=settings.environment == "development"),
        openapi_config=_openapi_config(),
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=COMPRESS_FROM, gzip_compress_level=GZIP_LEVEL
        ),
        state=State({"settings": settings, "engine": engine, "access": access}),
        debug=False,
        logging_config=None,
    )


def serving_app() -> Litestar:
    """The application as ``registry serve`` runs it (granian's factory, once in each worker).

    What is made while assembling it (modules, routes, templates, compiled SQL, schemas) lives
    as long as the process, so it is frozen out of the cycle collector: a full collection then
    walks only what requests make, not the whole application every time (a bulk check of
    10,000 numbers set off full collections that cost as much as its queries)."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
