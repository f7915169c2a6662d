"""Structured logs and a request id on every response and every log line."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec
import structlog
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


class LineLogger:
    """structlog's own logger, writing each rendered event as one line on stderr.

    No round trip through the standard library's ``logging`` (a record, a handler, a formatter
    per line): the request log is the one line every request writes. The stream is looked up on
    each write so a test's captured stderr is honoured; stderr is line-buffered, so every line is
    out as soon as it is written.
    """

    def __init__(self, name: str = "") -> None:
        self.name = name  # read by structlog.stdlib.add_logger_name

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _line_logger(*args: Any) -> LineLogger:
    return LineLogger(str(args[0]) if args else "")


def _json_line(event: dict[str, Any], **_: Any) -> str:
    return msgspec.json.encode(event, enc_hook=str).decode()


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Structured logs: structlog's native loggers render and write their lines themselves;
    the standard library's (libraries') go through a formatter that renders them the same way."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=_line_logger,
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


# The headers every answer carries, worked out once (names lower case, as ASGI sends them).
_EVERY_ANSWER = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_NO_STORE = (b"cache-control", b"no-store")
_STRICT = (b"strict-transport-security", _STRICT_TRANSPORT.encode())
_FRAME_ONLY = (
    (b"content-security-policy", _FRAME_ONLY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
)
_DENY_FRAMES = (b"x-frame-options", b"DENY")
_CSP_HEAD, _CSP_TAIL = (part.encode() for part in _CONTENT_SECURITY_POLICY.split("{nonce}"))
# What this middleware sets: any the answer already has are replaced, not repeated.
_REPLACED = frozenset(
    {
        b"x-request-id",
        b"x-content-type-options",
        b"referrer-policy",
        b"strict-transport-security",
        b"content-security-policy",
        b"x-frame-options",
    }
)


def _security_headers(
    headers: Iterable[tuple[bytes, bytes]],
    *,
    request_id: bytes,
    nonce: str,
    path: str,
    signed_in: bool,
    strict_transport: bool,
) -> list[tuple[bytes, bytes]]:
    """The answer's headers with the request id and the security headers, in one pass."""
    out: list[tuple[bytes, bytes]] = []
    html = False
    cache_control: tuple[bytes, bytes] | None = None
    for name, value in headers:
        key = name.lower()
        if key in _REPLACED:
            continue
        if key == b"cache-control":
            cache_control = (name, value)
            continue
        if key == b"content-type":
            html = value.startswith(b"text/html")
        out.append((name, value))
    out.append((b"x-request-id", request_id))
    out.extend(_EVERY_ANSWER)
    if path.startswith(_ASSET_PREFIXES):
        if cache_control is not None:
            out.append(cache_control)
    elif cache_control is None or (html and signed_in):
        # Personal pages must not outlive the session: not in a shared cache, and not in the
        # browser's history after signing out. Public register answers set their own caching;
        # a page made for a signed-in person never shares it.
        out.append(_NO_STORE)
    else:
        out.append(cache_control)
    if strict_transport:
        out.append(_STRICT)
    if path.startswith(_NO_CSP_PREFIXES):
        out.extend(_FRAME_ONLY)
    elif html:
        out.append((b"content-security-policy", _CSP_HEAD + nonce.encode() + _CSP_TAIL))
        out.append(_DENY_FRAMES)
    return out


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
                message["headers"] = _security_headers(
                    message.get("headers") or [],
                    request_id=request_id.encode(),
                    nonce=nonce,
                    path=path,
                    signed_in=scope.get("user") is not None,
                    strict_transport=self.strict_transport,
                )
            await send(message)

        token = structlog.contextvars.bind_contextvars(request_id=request_id)
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
            structlog.contextvars.reset_contextvars(**token)
