"""Every error leaves as RFC 9457 problem+json (API) or a GOV.UK error page (browser).

A person reading either sees what went wrong and what to do next; nobody ever sees a stack
trace. Unexpected errors are logged with the request id, and the response quotes that id.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import structlog
from litestar import MediaType, Request, Response
from litestar.datastructures import URL
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ExceptionHandlersMap, Scope

from registry.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RegistryError,
    TooManyRequests,
)
from registry.web.observability import request_id_from
from registry.web.validation import InputError, Source, input_errors

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"
PROBLEM_TYPE_BASE = "/problems/"

log = structlog.get_logger("registry.errors")

_STATUS_FOR_ERROR: dict[type[RegistryError], int] = {
    NotFound: HTTP_404_NOT_FOUND,
    Conflict: HTTP_409_CONFLICT,
    InvalidInput: HTTP_422_UNPROCESSABLE_ENTITY,
    PermissionDenied: HTTP_403_FORBIDDEN,
    TooManyRequests: HTTP_429_TOO_MANY_REQUESTS,
}

# What a person can do about each status, when the code that raised it said nothing better.
_ADVICE: dict[int, str] = {
    400: "The request was not understood. Check it and try again.",
    401: "Sign in and try again.",
    403: "You do not have permission to do this.",
    404: "Check the address or the number and try again.",
    405: "This address does not accept that kind of request.",
    409: "This cannot be done in the current state of the record.",
    413: "What you sent is too large.",
    422: "Some of what you sent is not valid. Correct the fields named and try again.",
    429: "Too many requests. Wait a moment and try again.",
    503: "The service is not ready. Try again shortly.",
}


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith((API_PREFIX, "/schema")) or request.url.path in (
        "/health",
        "/ready",
    ):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def _slug(title: str) -> str:
    return "-".join(title.lower().replace("'", "").split())


# What each kind of problem is called in the API: one title per kind, as RFC 9457 asks, so a
# client can tell kinds apart without reading the detail. Pages keep their own headings.
_API_TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_INVALID_TITLES: dict[Source, str] = {
    "query": "Invalid query parameter",
    "path": "Invalid path parameter",
    "body": "Invalid request body",
    "header": "Invalid header",
    "cookie": "Invalid cookie",
}
# The heading of a page that cannot be shown because of what its address or form carried.
_INVALID_PAGE_TITLES: dict[Source, str] = {
    "query": "There is a problem with the page address",
    "path": "There is a problem with the page address",
}
_INVALID_PAGE_TITLE = "There is a problem"
# The service's own headings for the pages people most often reach by mistake, whatever the code
# that refused them called the problem.
_PAGE_TITLES: dict[int, str] = {
    401: "You need to sign in",
    403: "You cannot see this page",
    404: "Page not found",
}
# What Litestar's CSRF middleware says when a form's token is missing or stale: most often a
# form left open past its session, or sent again after signing out and in.
CSRF_FAILED = "CSRF token verification failed"


def _api_title(status: int) -> str:
    return _API_TITLES.get(status) or _phrase(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    title: str | None = None,
    page_title: str | None = None,
    errors: Sequence[InputError] = (),
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """Build the response for an error: problem+json titled ``title`` (the kind of problem), or
    a page headed ``page_title`` with each bad field in its error summary."""
    request_id = request_id_from(request.scope)
    if _wants_html(request):
        return Template(
            template_name="errors/error.html",
            context={
                "status": status,
                "title": page_title or _PAGE_TITLES.get(status) or _phrase(status),
                "detail": detail,
                "errors": [{"text": error.message} for error in errors],
                "request_id": request_id,
            },
            status_code=status,
            headers=headers,
            media_type=MediaType.HTML,
        )
    body = problem_content(
        status, detail, instance=request.url.path, request_id=request_id, title=title, errors=errors
    )
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_content(
    status: int,
    detail: str,
    *,
    instance: str,
    request_id: str,
    title: str | None = None,
    errors: Sequence[InputError] = (),
) -> dict[str, Any]:
    """The problem+json document of an error of the API, at the path ``instance``."""
    title = title or _api_title(status)
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{_slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = [error.as_json() for error in errors]
    return body


def _detail(errors: Sequence[InputError]) -> str:
    return " ".join(f"{error.message}." for error in errors) or _ADVICE[422]


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = input_errors(request, exc)
    if any(error.source == "path" for error in errors):
        # A path segment that cannot be what the address names (``/admin/reference/widgets``)
        # names nothing that exists: not found, however the segment is checked.
        return problem(request, HTTP_404_NOT_FOUND, _ADVICE[404])
    sources = {error.source for error in errors}
    source = sources.pop() if len(sources) == 1 else None
    return problem(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        _detail(errors),
        title=_INVALID_TITLES.get(source) if source else None,
        page_title=_INVALID_PAGE_TITLES.get(source, _INVALID_PAGE_TITLE)
        if source
        else _INVALID_PAGE_TITLE,
        errors=errors,
    )


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return on_unexpected_error(request, exc)
    detail = exc.detail
    if detail == CSRF_FAILED and _wants_html(request):
        return _form_expired(request)
    if isinstance(exc.__cause__, SerializationException):  # msgspec's words about the body
        detail = f"The request body is not valid JSON: {_MALFORMED_BODY}."
    elif not detail or detail == HTTPStatus(status).phrase:
        detail = _ADVICE.get(status, HTTPStatus(status).phrase)
    return problem(request, status, detail, headers=exc.headers)


def _form_expired(request: Request[Any, Any, Any]) -> Response[Any]:
    """Not "Forbidden": the person did nothing wrong, their form went stale. Nothing was
    changed; the link goes back to the page the form was on (a path on this service only)."""
    referrer = urlsplit(request.headers.get("referer", ""))
    ours = referrer.netloc == request.url.netloc and referrer.path.startswith("/")
    back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return Template(
        template_name="errors/form_expired.html",
        context={"back": back if ours else request.url.path},
        status_code=HTTP_403_FORBIDDEN,
        media_type=MediaType.HTML,
    )


def status_for(error: RegistryError) -> int:
    """The HTTP status that answers a refusal of this kind."""
    return next(
        (code for kind, code in _STATUS_FOR_ERROR.items() if isinstance(error, kind)),
        HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _source_of(
    field: str | None, method: str, path_params: Container[str], query: Container[str]
) -> Source | None:
    # A service names the field, not where it came from: the request says which it was.
    if not field:
        return None
    if field in path_params:
        return "path"
    if field in query:
        return "query"
    return "body" if method in ("POST", "PUT", "PATCH") else None


@dataclass(frozen=True)
class Refusal:
    """How a refusal of the service is answered: :func:`problem`'s arguments."""

    status: int
    detail: str
    title: str | None
    page_title: str | None
    errors: list[InputError]
    headers: dict[str, str] | None


def refusal(exc: RegistryError, source: Source | None) -> Refusal:
    """The answer to ``exc``, raised for a request whose field it names came from ``source``."""
    status = status_for(exc)
    invalid = isinstance(exc, InvalidInput) and source is not None
    return Refusal(
        status,
        exc.detail,
        title=_INVALID_TITLES[source] if invalid and source else None,
        page_title=_PAGE_TITLES.get(status)
        or (_INVALID_PAGE_TITLES.get(source, exc.title) if source else exc.title),
        errors=[InputError(exc.field, source, exc.detail)] if exc.field else [],
        headers={"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None,
    )


def on_registry_error(request: Request[Any, Any, Any], exc: RegistryError) -> Response[Any]:
    source = _source_of(exc.field, request.method, request.path_params, request.query_params)
    found = refusal(exc, source)
    return problem(
        request,
        found.status,
        found.detail,
        title=found.title,
        page_title=found.page_title,
        errors=found.errors,
        headers=found.headers,
    )


def api_refusal(exc: RegistryError, scope: Scope) -> tuple[Refusal, dict[str, Any]]:
    """``exc`` as :func:`on_registry_error` answers it to an API call with no query, before
    the framework's routing (so with no path parameters): how, and its problem+json document.
    For :class:`registry.web.fastpath.FastPaths`, which answers a refusal it cannot give back."""
    method = scope["method"] if scope["type"] == ScopeType.HTTP else ""
    found = refusal(exc, _source_of(exc.field, method, (), ()))
    content = problem_content(
        found.status,
        found.detail,
        instance=URL.from_scope(scope).path,
        request_id=request_id_from(scope),
        title=found.title,
        errors=found.errors,
    )
    return found, content


# Why a body Litestar could not decode is refused. Malformed JSON reaches ``on_http_error`` as
# a 400 whose cause is a SerializationException; the decoder raises the others itself.
_MALFORMED_BODY = "check its brackets, quotes and commas"
_UNREADABLE_BODY: dict[type[Exception], str] = {
    UnicodeDecodeError: "it must be encoded as UTF-8",
    RecursionError: "it is nested too deeply",
}
# Litestar's body decoders, by the name of their function, and what each reads.
_BODY_DECODERS = {
    "decode_json": "valid JSON",
    "decode_msgpack": "valid JSON",
    "parse_multipart_form": "a form that can be read",
    "parse_url_encoded_form_data": "a form that can be read",
}


def _body_being_decoded(exc: Exception) -> str | None:
    # These kinds of error are only the client's fault when raised by Litestar decoding the
    # request body; anywhere else they are the service's own fault, answered 500 and logged.
    trace = exc.__traceback__
    while trace is not None:
        reading = _BODY_DECODERS.get(trace.tb_frame.f_code.co_name)
        if reading is not None:
            return reading
        trace = trace.tb_next
    return None


def on_unreadable_body(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    reading = _body_being_decoded(exc)
    if reading is None:
        return on_unexpected_error(request, exc)
    why = next(words for kind, words in _UNREADABLE_BODY.items() if isinstance(exc, kind))
    return problem(request, HTTP_400_BAD_REQUEST, f"The request body is not {reading}: {why}.")


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    request_id = request_id_from(request.scope)
    detail = (
        "Something went wrong on our side and nothing was changed. "
        f"Try again later; if it keeps happening, quote reference {request_id}."
    )
    return problem(
        request, HTTP_500_INTERNAL_SERVER_ERROR, detail, page_title="Sorry, there is a problem"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    RegistryError: on_registry_error,
    **dict.fromkeys(_UNREADABLE_BODY, on_unreadable_body),
    Exception: on_unexpected_error,
}
