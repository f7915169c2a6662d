"""Structured logs and a request id on every response and every log line."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
import uuid
from typing import Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Pages are served with this policy; the nonce lets our one inline bootstrap script run.
_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The interactive API page loads its own inline configuration script, so it gets no script
# policy; it still may not be framed by another site.
_NO_CSP_PREFIXES = ("/schema",)
_FRAME_ONLY_POLICY = "frame-ancestors 'none'"
# Browsers that once reached the service over https keep to https for a year.
_STRICT_TRANSPORT = "max-age=31536000; includeSubDomains"
_ASSET_PREFIXES = ("/static/", "/assets/")  # files that are the same for everyone

log = structlog.get_logger("registry.http")


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send structlog and the standard library's logging through one structured pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Piccolo announces the engine version on every connection; that is noise, not news.
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def request_id_from(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def csp_nonce_from(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("csp_nonce", ""))


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.match(candidate):
                return candidate
    return None


class RequestContextMiddleware:
    """Tag each request with an id, log one line for it and add the security headers.

    A caller's own ``X-Request-ID`` is kept when it looks like an id, so a request can be
    followed across a proxy; otherwise a fresh one is made.
    """

    def __init__(self, app: ASGIApp, *, strict_transport: bool = False) -> None:
        self.app = app
        self.strict_transport = strict_transport  # the service is served over https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["csp_nonce"] = nonce
        path = scope["path"]
        started = time.perf_counter()
        status_holder = [500]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Request-ID"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                html = headers.get("content-type", "").startswith("text/html")
                if not path.startswith(_ASSET_PREFIXES) and (
                    "cache-control" not in headers or (html and scope.get("user") is not None)
                ):
                    # Personal pages must not outlive the session: not in a shared cache, and
                    # not in the browser's history after signing out. Public register answers
                    # set their own caching; a page made for a signed-in person never shares it.
                    headers["Cache-Control"] = "no-store"
                if self.strict_transport:
                    headers["Strict-Transport-Security"] = _STRICT_TRANSPORT
                if path.startswith(_NO_CSP_PREFIXES):
                    headers["Content-Security-Policy"] = _FRAME_ONLY_POLICY
                    headers["X-Frame-Options"] = "DENY"
                elif html:
                    headers["Content-Security-Policy"] = _CONTENT_SECURITY_POLICY.format(
                        nonce=nonce
                    )
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    status=status_holder[0],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
