"""Answers to a few hot public reads and API writes, given before the framework's routing and
middleware.

The public register's lookup by number is the service's hottest path, and in Litestar's own
machinery (routing, the middleware stack, parameter parsing, the guard, building a response) it
costs several times what the lookup itself does. A :data:`FastRead` answers such a request
directly when it can answer it *exactly* as its route would: a GET with no query (or, for a read
that takes one, a query it reads exactly as the route's parameters would) and no
credential (no ``Authorization`` header: an API token is checked by the framework), for a route
whose access row is public. Whenever it cannot (a malformed number, one not on the register, a
header it does not handle, any error), it returns None and the request goes through the framework
as before, which answers it (a 422, a 404 as problem+json, and so on). The request id, the
request log line and the security headers come from :class:`RequestContextMiddleware` around
both.

A :class:`FastWrite` does the same for a JSON write of the API made with a credential (logging a
CPD activity), or, for an anonymous one, made with none at all (raising a concern): the caller
is authenticated exactly as the middleware would (:func:`registry.accounts.auth.authenticate`,
which also sets the audit trail's actor: the client's address and the request id) and must
pass the route's own access row; then the write parses the body with the route's schema and
calls the route's service. Whatever it cannot take (another media type, a body too long, a
credential it does not expect or the want of one it does, a role the row does not admit, a body
its schema refuses, a refusal of the service) it gives back untouched, before anything is
stored, and the framework answers the same request from the same body, in its own words. Once
the service has stored anything, the answer is given here whatever happens: the write itself,
or a refusal that keeps a record of itself (a concern one too many from an address, whose
attempt is counted), answered as the application's error handler would (:func:`refused`).
"""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pydantic_core
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from registry.accounts.access import Rule, allows
from registry.accounts.auth import authenticate
from registry.db import write_coming
from registry.errors import RegistryError
from registry.web.errors import PROBLEM_JSON, api_refusal

# The application's compression (its CompressionConfig): gzip, from this many bytes on.
COMPRESS_FROM = 1024
GZIP_LEVEL = 9


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


FastRead = Callable[[str, Scope], Awaitable[Answer | None]]
"""Given the rest of the path after its prefix (or the query string, for a read by exact path)
and the scope: the answer, or None."""

FastWrite = Callable[[bytes, Scope], Awaitable[Answer | None]]
"""Given the body and the scope (its ``user`` authenticated and admitted by the route's access
row): the answer once stored, or None, having stored nothing, for the framework to answer."""


@dataclass(frozen=True)
class WriteRoute:
    """A :class:`FastWrite` and the name of the route it answers for (its access row).

    ``anonymous``: a public write taken only from a request with no credential at all (no
    ``Authorization``, no ``Cookie`` header); any other is taken only with an ``Authorization``
    header. What is not taken, the framework answers."""

    route: str
    write: FastWrite
    anonymous: bool = False

    def takes(self, scope: Scope) -> bool:
        """Whether the request carries the credential this write is made with (or none)."""
        token = header(scope, b"authorization") is not None
        if self.anonymous:
            return not token and header(scope, b"cookie") is None
        return token


# A write's body is read here up to this length; a longer one is the framework's to read.
FAST_WRITE_BODY_MOST = 256 * 1024


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class FastPaths:
    """``reads`` by path prefix, given the rest of the path, for requests with no query;
    ``queried`` by exact path, given the query string (which may be empty); ``writes`` by
    method and exact path, each admitted by its route's row in ``access``."""

    def __init__(
        self,
        app: ASGIApp,
        reads: Sequence[tuple[str, FastRead]],
        queried: Mapping[str, FastRead] | None = None,
        writes: Mapping[tuple[str, str], WriteRoute] | None = None,
        access: Mapping[str, Rule] | None = None,
    ) -> None:
        self.app = app
        self.reads = tuple(reads)
        self.queried = dict(queried or {})
        # By method and exact path; each write's route has a row in ``access`` (else refused).
        self.writes = dict(writes or {})
        self.access = dict(access or {})

    def _read_for(self, scope: Scope) -> tuple[FastRead, str] | None:
        path: str = scope["path"]
        read = self.queried.get(path)
        if read is not None:
            return read, bytes(scope["query_string"]).decode("latin-1")
        if scope["query_string"]:
            return None
        for prefix, read in self.reads:
            if path.startswith(prefix):
                return read, path[len(prefix) :]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope["method"] == "GET"
            and header(scope, b"authorization") is None
        ):
            found = self._read_for(scope)
            if found is not None:
                read, rest = found
                try:
                    answer = await read(rest, scope)
                except Exception:  # the framework answers it again, and reports what fails
                    answer = None
                if answer is not None:
                    scope["user"] = None
                    await _send(answer, send)
                    return
        elif scope["type"] == ScopeType.HTTP and not scope["query_string"]:
            route = self.writes.get((scope["method"], scope["path"]))
            if route is not None:
                await self._write(route, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _write(self, route: WriteRoute, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self.access.get(route.route)
        if (
            rule is None
            or header(scope, b"content-type") != b"application/json"
            or not route.takes(scope)
        ):
            await self.app(scope, receive, send)
            return
        with write_coming():
            received, body = await _read_body(receive, FAST_WRITE_BODY_MOST)
            answer = None
            if body is not None and allows(rule, await authenticate(scope)):
                answer = await route.write(body, scope)
        if answer is None:  # nothing stored: the framework answers, from the same body
            await self.app(scope, _replay(received, receive), send)
            return
        await _send(_compressed(answer, scope), send)


async def _read_body(receive: Receive, most: int) -> tuple[list[ReceiveMessage], bytes | None]:
    """The messages received, and the whole body, or None when it is longer than ``most``
    (the rest is left unread) or the client went away."""
    received: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    length = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        chunks.append(message.get("body", b""))
        length += len(chunks[-1])
        if length > most:
            return received, None
        if not message.get("more_body", False):
            return received, b"".join(chunks)


def _replay(received: list[ReceiveMessage], receive: Receive) -> Receive:
    """``receive`` that gives the messages already received again first."""
    waiting = list(received)

    async def replay() -> ReceiveMessage:
        if waiting:
            return waiting.pop(0)
        return await receive()

    return replay


def created(content: Any) -> Answer:
    """``201 Created`` with ``content`` (a pydantic model) as the framework encodes it."""
    body = pydantic_core.to_json(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return Answer(HTTP_201_CREATED, headers, body)


def refused(exc: RegistryError, scope: Scope) -> Answer:
    """``exc`` answered as the application's handler answers it to this request (problem+json,
    registry.web.errors), for a write that cannot give the request back: what raised it had
    already stored something."""
    found, content = api_refusal(exc, scope)
    body = msgspec.json.encode(content)
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in (found.headers or {}).items()
    ]
    headers += [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return Answer(found.status, headers, body)


def _compressed(answer: Answer, scope: Scope) -> Answer:
    """``answer`` as the application's compression would send it to this client: gzipped
    from :data:`COMPRESS_FROM` bytes on, when the client takes gzip."""
    if len(answer.body) < COMPRESS_FROM or b"gzip" not in (
        header(scope, b"accept-encoding") or b""
    ):
        return answer
    body = gzip.compress(answer.body, compresslevel=GZIP_LEVEL)
    headers = [(key, value) for key, value in answer.headers if key != b"content-length"]
    headers += [
        (b"content-encoding", b"gzip"),
        (b"vary", b"Accept-Encoding"),
        (b"content-length", str(len(body)).encode()),
    ]
    return Answer(answer.status, headers, body)


async def _send(answer: Answer, send: Send) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": answer.status,
        "headers": answer.headers,
    }
    await send(start)
    body: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": answer.body,
        "more_body": False,
    }
    await send(body)
