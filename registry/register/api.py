"""The public register as JSON: search, and one entry by registration number.

Both answers carry an ``ETag`` and a short ``Cache-Control`` so a CDN can serve them and revalidate
cheaply; ``max-age=0, must-revalidate`` means a shared cache asks again every time, so a change of
status is seen on the very next request, never a stale one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, Response, get
from litestar._parsers import parse_query_string
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED
from litestar.types import Scope
from pydantic import TypeAdapter

from registry.core import clock
from registry.errors import InvalidInput, NotFound
from registry.register import numbers, service
from registry.register import search as public_register
from registry.register.schemas import PublicEntry, PublicSearchPage
from registry.register.search import SearchResult
from registry.web.fastpath import COMPRESS_FROM, Answer, header

CACHE_CONTROL = "public, max-age=0, must-revalidate"
IF_NONE_MATCH_MAX = 1000

# Documented, not checked by Litestar: the service reads the number itself, so a malformed one
# is told what is wrong with it (422) rather than not found.
RegistrationNumber = Annotated[
    str,
    PathParameter(
        description=numbers.FORMAT_HINT + "; either case, spaces and hyphens ignored",
        schema_extra={"pattern": numbers.TYPED_PATTERN},
    ),
]


# A client that kept an answer sends its ETag back and is told when nothing has changed; the
# description says so, so a generated client expects the 304.
IfNoneMatch = Annotated[
    str,
    HeaderParameter(
        name="If-None-Match",
        max_length=IF_NONE_MATCH_MAX,
        description="The ETag of an answer already held: 304 if it is still current",
    ),
]
NOT_MODIFIED = {
    HTTP_304_NOT_MODIFIED: ResponseSpec(
        None, description="Not modified: the ETag sent in If-None-Match is still current"
    )
}


def _search_body(found: SearchResult, documents: list[str]) -> tuple[bytes, str]:
    """A page of results as :class:`PublicSearchPage` (its entries the public documents as
    stored, which are :class:`PublicEntry` serialised) and its ETag. The ETag covers everything
    but the time (the last field), which is added after, so the same results keep the same tag."""
    unstamped = b"".join(
        (
            b'{"items":[',
            ",".join(documents).encode(),
            b'],"total":%d,"more":%s,"page":%d,"page_size":%d}'
            % (found.total, b"true" if found.more else b"false", found.page, found.page_size),
        )
    )
    etag = '"' + hashlib.sha256(unstamped).hexdigest()[:32] + '"'
    stamp = _MOMENT.dump_json(clock.now().astimezone(UTC))
    return unstamped[:-1] + b',"generated_at":' + stamp + b"}", etag


_MOMENT = TypeAdapter(datetime)


def _still_current(etag: str, if_none_match: str) -> bool:
    return etag in {tag.strip() for tag in if_none_match.split(",")}


def cached_json(body: bytes, etag: str, if_none_match: str) -> Response[bytes]:
    headers = {"etag": etag, "cache-control": CACHE_CONTROL}
    if _still_current(etag, if_none_match):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _entry_etag(number: str, version: int) -> str:
    return f'"{number.upper()}-{version}"'


_CACHE_CONTROL = (b"cache-control", CACHE_CONTROL.encode())
_JSON = (b"content-type", b"application/json")
_COMPRESSED = (b"gzip", b"br", b"zstd", b"deflate")


async def entry_answer(number: str, scope: Scope) -> Answer | None:
    """``GET /api/v1/register/{number}`` for :class:`FastPaths`: the same answer as
    :meth:`PublicRegisterController.entry` (its body, ETag and caching; a 304 when the ETag
    sent is current), read fresh from the database every time. None (the framework answers)
    for anything else: a malformed or unknown number, an If-None-Match the route would refuse,
    or a body the compression middleware would compress for this client."""
    if not number or "/" in number:
        return None
    if_none_match = (header(scope, b"if-none-match") or b"").decode("latin-1")
    if len(if_none_match) > IF_NONE_MATCH_MAX:
        return None
    try:
        found = await service.public_document(number)
    except (InvalidInput, NotFound):
        return None
    return _json_answer(
        found.json.encode(), _entry_etag(number, found.version), if_none_match, scope
    )


# The search's parameters as its route reads them: each text's longest, each number's bounds.
_SEARCH_TEXT = {"q": 100, "region": 40, "role": 40, "status": 32}
_SEARCH_NUMBERS = {"page": (1, 10_000), "page_size": (1, public_register.MAX_PAGE_SIZE)}


def _search_arguments(query_string: str) -> dict[str, str | int] | None:
    """The query as :meth:`PublicRegisterController.search` reads it (parsed by Litestar's own
    parser), or None for anything the route might read otherwise or refuse: a name it does not
    take or one given twice, a text too long or not printable, a number not written plainly or
    out of bounds."""
    arguments: dict[str, str | int] = {}
    for name, value in parse_query_string(query_string.encode("latin-1")):
        if name in arguments or not value.isprintable():
            # Control and direction characters (all unprintable) are refused by the framework's
            # check of every query (registry.web.inputs), in its words.
            return None
        if name in _SEARCH_TEXT:
            if len(value) > _SEARCH_TEXT[name]:
                return None
            arguments[name] = value
        elif name in _SEARCH_NUMBERS:
            low, high = _SEARCH_NUMBERS[name]
            if not (value.isascii() and value.isdigit() and value[0] != "0"):
                return None
            number = int(value)
            if not low <= number <= high:
                return None
            arguments[name] = number
        else:
            return None
    return arguments


async def search_answer(query_string: str, scope: Scope) -> Answer | None:
    """``GET /api/v1/register?...`` for :class:`FastPaths`: the same answer as
    :meth:`PublicRegisterController.search`, searched afresh every time. None (the framework
    answers) for a query the route would read otherwise or refuse (:func:`_search_arguments`),
    a search it refuses (a bad status, a page past the last), an If-None-Match it would refuse,
    or a body the compression middleware would compress for this client."""
    arguments = _search_arguments(query_string)
    if arguments is None:
        return None
    if_none_match = (header(scope, b"if-none-match") or b"").decode("latin-1")
    if len(if_none_match) > IF_NONE_MATCH_MAX:
        return None
    try:
        found, documents = await public_register.search_documents(
            query=str(arguments.get("q", "")),
            region=str(arguments.get("region", "")),
            role=str(arguments.get("role", "")),
            status=str(arguments.get("status", "")),
            page=int(arguments.get("page", 1)),
            page_size=int(arguments.get("page_size", 20)),
        )
    except (InvalidInput, NotFound):
        return None
    body, etag = _search_body(found, documents)
    return _json_answer(body, etag, if_none_match, scope)


def _json_answer(body: bytes, etag: str, if_none_match: str, scope: Scope) -> Answer | None:
    """:func:`cached_json`'s answer as the framework sends it, or None when the compression
    middleware would compress it for this client."""
    tagged = [(b"etag", etag.encode("latin-1")), _CACHE_CONTROL]
    if if_none_match and _still_current(etag, if_none_match):
        return Answer(HTTP_304_NOT_MODIFIED, tagged, b"")
    if len(body) >= COMPRESS_FROM and any(
        kind in (header(scope, b"accept-encoding") or b"") for kind in _COMPRESSED
    ):
        return None
    length = (b"content-length", str(len(body)).encode())
    return Answer(200, [_JSON, length, *tagged], body)


class PublicRegisterController(Controller):
    path = "/register"
    tags = ["Public register"]

    @get(
        "/",
        name="api_register_search",
        summary="Search the public register",
        responses={
            200: ResponseSpec(PublicSearchPage, description="A page of entries"),
            **NOT_MODIFIED,
        },
    )
    async def search(
        self,
        q: Annotated[
            str, QueryParameter(max_length=100, description="A name or a registration number")
        ] = "",
        region: Annotated[str, QueryParameter(max_length=40, description="Region code")] = "",
        role: Annotated[
            str, QueryParameter(max_length=40, description="Designated role code")
        ] = "",
        status: Annotated[str, QueryParameter(max_length=32)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=public_register.MAX_PAGE_SIZE)] = 20,
        if_none_match: IfNoneMatch = "",
    ) -> Response[bytes]:
        found, documents = await public_register.search_documents(
            query=q, region=region, role=role, status=status, page=page, page_size=page_size
        )
        body, etag = _search_body(found, documents)
        return cached_json(body, etag, if_none_match)

    @get(
        "/{registration_number:str}",
        name="api_register_entry",
        summary="One entry on the public register",
        responses={200: ResponseSpec(PublicEntry, description="The public entry"), **NOT_MODIFIED},
    )
    async def entry(
        self, registration_number: RegistrationNumber, if_none_match: IfNoneMatch = ""
    ) -> Response[bytes]:
        found = await service.public_document(registration_number)
        etag = _entry_etag(registration_number, found.version)
        return cached_json(found.json.encode(), etag, if_none_match)
