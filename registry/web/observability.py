"""Structured logs and a request id on every response and every log line."""

from __future__ import annotations

import base64
import datetime
import logging
import os
import re
import sys
import time
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
    return _JSON_ENCODER.encode(event).decode()


class _RequestLines:
    """How the one line each request logs is written (see :func:`request_line`): set by
    :func:`configure_logging`."""

    json = False  # JSON lines at INFO or below: written directly, as structlog would render them


def request_line(request_id: str, method: str, path: str, status: int, duration_ms: float) -> None:
    """The request's log line, exactly as ``log.info("request", ...)`` writes it.

    Every request writes this line, and structlog's processors (a context copy to merge the
    bound request id, the level, the logger's name, the time, the renderer) cost several times
    the JSON encoding itself. With JSON logs on, the same event, with its keys in structlog's
    order, is encoded and written here in one step. The request id is the only value bound to
    the logging context while a request runs (by :class:`RequestContextMiddleware`). Console
    logs (development) go through structlog.
    """
    if not _RequestLines.json:
        log.info("request", method=method, path=path, status=status, duration_ms=duration_ms)
        return
    event = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "event": "request",
        "request_id": request_id,
        "level": "info",
        "logger": "registry.http",
        # as structlog's TimeStamper(fmt="iso", utc=True)
        "timestamp": datetime.datetime.now(tz=datetime.UTC).isoformat().replace("+00:00", "Z"),
    }
    sys.stderr.write(_JSON_ENCODER.encode(event).decode() + "\n")


_JSON_ENCODER = msgspec.json.Encoder(enc_hook=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Structured logs: structlog's native loggers render and write their lines themselves;
    the standard library's (libraries') go through a formatter that renders them the same way."""
    _RequestLines.json = log_format == "json" and level <= logging.INFO
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


class _Fresh:
    """Request ids and script nonces for this process, each 16 random bytes (a request id as
    32 hex digits, like a UUID's; a nonce as ``secrets.token_urlsafe(16)`` makes it), read from
    ``os.urandom`` 256 at a time instead of one system call (and for an id, a UUID object) per
    request. A process forked from this one reads its own."""

    BATCH = 256

    def __init__(self) -> None:
        self._restart()
        os.register_at_fork(after_in_child=self._restart)

    def _restart(self) -> None:
        self.random = b""
        self.used = 0

    def _bytes(self) -> bytes:
        if self.used >= len(self.random):
            self.random, self.used = os.urandom(16 * self.BATCH), 0
        start, self.used = self.used, self.used + 16
        return self.random[start : self.used]

    def request_id(self) -> str:
        return self._bytes().hex()

    def nonce(self) -> str:
        return base64.urlsafe_b64encode(self._bytes()).rstrip(b"=").decode()


_FRESH = _Fresh()


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
        request_id = _incoming_request_id(scope) or _FRESH.request_id()
        nonce = _FRESH.nonce()
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
            request_line(
                request_id,
                scope["method"],
                path,
                status_holder[0],
                round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.reset_contextvars(**token)
