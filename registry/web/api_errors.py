"""What the API description says about errors: every API operation may answer with an RFC 9457
problem document, and the description says so with its schema, so a generated client and a
fuzzer expect what the server sends (see :mod:`registry.web.errors`, which sends them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"


@dataclass
class ProblemField:
    """One bad value in the request."""

    field: str
    source: Literal["query", "path", "body", "header"] | None
    message: str


@dataclass
class Problem:
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[ProblemField] = field(default_factory=list)


# Every error an API operation can answer with, and what it means.
PROBLEMS: dict[int, str] = {
    400: "The request could not be read (not JSON, or not valid UTF-8)",
    401: "No API token was sent, or the one sent is wrong, revoked or expired",
    403: "The token's owner may not do this",
    404: "There is no such thing (or it is someone else's)",
    409: "The thing is not in a state that allows this",
    413: "The request is too large",
    422: "A value in the query, path or body is not acceptable; `errors` names each",
    429: "Too many requests; `Retry-After` says when to try again",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers for ``statuses`` (every one an API operation can give, by default):
    for a route outside ``/api/`` that answers problems too, to list the ones it gives."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=meaning,
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status, meaning in PROBLEMS.items()
        if not statuses or status in statuses
    }


@dataclass(frozen=True, eq=False)
class ProblemResponses(ReceiveRoutePlugin):
    """Adds the problem responses to each API operation as Litestar registers its route."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            handler.responses = {**problem_responses(), **(handler.responses or {})}
