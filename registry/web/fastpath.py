"""Answers to a few hot public reads, given before the framework's routing and middleware.

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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


FastRead = Callable[[str, Scope], Awaitable[Answer | None]]
"""Given the rest of the path after its prefix (or the query string, for a read by exact path)
and the scope: the answer, or None."""


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class FastReads:
    """``reads`` by path prefix, given the rest of the path, for requests with no query;
    ``queried`` by exact path, given the query string (which may be empty)."""

    def __init__(
        self,
        app: ASGIApp,
        reads: Sequence[tuple[str, FastRead]],
        queried: Mapping[str, FastRead] | None = None,
    ) -> None:
        self.app = app
        self.reads = tuple(reads)
        self.queried = dict(queried or {})

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
                    return
        await self.app(scope, receive, send)
