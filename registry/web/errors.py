"""Every error leaves as RFC 9457 problem+json (API) or a GOV.UK error page (browser).

A person reading either sees what went wrong and what to do next; nobody ever sees a stack
trace. Unexpected errors are logged with the request id, and the response quotes that id.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ExceptionHandlersMap

from registry.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RegistryError,
    TooManyRequests,
)
from registry.web.observability import request_id_from

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


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    except ValueError:
        return "error"


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """Build the response for an error, as problem+json or as a page."""
    request_id = request_id_from(request.scope)
    title = title or HTTPStatus(status).phrase
    if _wants_html(request):
        return Template(
            template_name="errors/error.html",
            context={
                "status": status,
                "title": title,
                "detail": detail,
                "errors": [
                    {
                        "text": f"{error['field']}: {error['message']}"
                        if error["field"]
                        else error["message"]
                    }
                    for error in errors or []
                ],
                "request_id": request_id,
            },
            status_code=status,
            headers=headers,
            media_type=MediaType.HTML,
        )
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{_slug(status)}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key", ""),
                    "source": str(item.get("source", "body")),
                    "message": item.get("message", "is not valid"),
                }
            )
    return errors


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _validation_errors(exc.extra)
    fields = ", ".join(error["field"] for error in errors if error["field"])
    detail = f"Check these fields: {fields}." if fields else _ADVICE[422]
    return problem(
        request, HTTP_422_UNPROCESSABLE_ENTITY, detail, title="Check your answers", errors=errors
    )


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return on_unexpected_error(request, exc)
    detail = exc.detail
    if not detail or detail == HTTPStatus(status).phrase:
        detail = _ADVICE.get(status, HTTPStatus(status).phrase)
    return problem(request, status, detail, headers=exc.headers)


def on_registry_error(request: Request[Any, Any, Any], exc: RegistryError) -> Response[Any]:
    status = next(
        (code for kind, code in _STATUS_FOR_ERROR.items() if isinstance(exc, kind)),
        HTTP_422_UNPROCESSABLE_ENTITY,
    )
    errors = [{"field": exc.field, "source": "body", "message": exc.detail}] if exc.field else None
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return problem(request, status, exc.detail, title=exc.title, errors=errors, headers=headers)


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    request_id = request_id_from(request.scope)
    detail = (
        "Something went wrong on our side and nothing was changed. "
        f"Try again later; if it keeps happening, quote reference {request_id}."
    )
    return problem(
        request, HTTP_500_INTERNAL_SERVER_ERROR, detail, title="Sorry, there is a problem"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    RegistryError: on_registry_error,
    Exception: on_unexpected_error,
}
