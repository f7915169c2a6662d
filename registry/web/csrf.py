"""Form protection: Litestar's CSRF check (a signed token in a cookie, echoed by every form),
run only where forms are.

The API takes bearer tokens only, never cookies, so it needs no token; the status checks and the
static files take no forms. A page read (GET) gets a token for its forms; the cookie that holds
it is set only on an HTML page (the only answers that can carry a form), never on JSON, so a
script reading the public register is not handed a cookie with every answer. Every unsafe
request (POST, PUT, PATCH, DELETE) outside the excluded paths is checked exactly as Litestar
checks it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from registry.config import Settings

COOKIE_NAME = "registry_csrf"
API_PREFIX = "/api/"
# Paths that take no forms: the API (bearer tokens only), the status checks, static files.
NO_FORMS = [f"^{API_PREFIX}", "^/health$", "^/ready$", "^/static/", "^/assets/"]


def _cookie(scope: Scope, name: str) -> str:
    prefix = name + "="
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                part = part.strip()
                if part.startswith(prefix):
                    return part[len(prefix) :]
    return ""


def _is_html(message: Message) -> bool:
    headers: Iterable[tuple[bytes, bytes]] = message.get("headers") or ()  # type: ignore[assignment]
    for key, value in headers:
        if key.lower() == b"content-type":
            return bool(value.startswith(b"text/html"))
    return False


class FormProtection(CSRFMiddleware):
    """:class:`CSRFMiddleware` that sets its cookie on HTML pages only."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["path"].startswith(API_PREFIX):
            # Most calls are the API's, which Litestar would let through too (NO_FORMS) but
            # only after its bypass checks (the route's opt, the exclusion patterns) each time.
            await self.app(scope, receive, send)
            return
        if scope["type"] != ScopeType.HTTP or scope["method"] not in self.config.safe_methods:
            await super().__call__(scope, receive, send)
            return
        if should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        held = _cookie(scope, self.config.cookie_name)
        token = ScopeState.from_scope(scope).csrf_token = held or generate_csrf_token(
            secret=self.config.secret
        )
        if held:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and _is_html(message):
                message.setdefault("headers", [])
                self._set_cookie_if_needed(message=message, token=token)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def fresh_token(settings: Settings) -> tuple[bytes, bytes]:
    """A new form token and the ``set-cookie`` value that holds it: what
    :class:`FormProtection` gives a visitor without one on an HTML page, for an answer made
    without it (registry.web.fastpath)."""
    head, tail = _cookie_around_token(settings.secret_key, settings.secure_cookies)
    token = generate_csrf_token(secret=settings.secret_key).encode()
    return token, head + token + tail


@functools.lru_cache(maxsize=4)
def _cookie_around_token(secret: str, secure: bool) -> tuple[bytes, bytes]:
    """The set-cookie value Litestar's CSRFMiddleware writes, made once, either side of the
    token (its ``_set_cookie_if_needed``, with this service's settings)."""
    config = _config(secret, secure)
    stand_in = "registry-csrf-cookie-stand-in"
    cookie = Cookie(
        key=config.cookie_name,
        value=stand_in,
        path=config.cookie_path,
        secure=config.cookie_secure,
        httponly=config.cookie_httponly,
        samesite=config.cookie_samesite,
        domain=config.cookie_domain,
    )
    head, tail = cookie.to_header(header="").split(stand_in)
    return head.encode("latin-1"), tail.encode("latin-1")


def form_protection(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(
        FormProtection, config=_config(settings.secret_key, settings.secure_cookies)
    )


def _config(secret: str, secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=secret,
        cookie_name=COOKIE_NAME,
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=NO_FORMS,
    )
