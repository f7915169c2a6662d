"""The public register's pages: search, and one practitioner's entry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template
from litestar.types import Scope

from registry.errors import InvalidInput, NotFound
from registry.register import search as public_register
from registry.register import service
from registry.register.schemas import STATUS_LABELS, PublicEntry, RegisterSearchQuery
from registry.web.csrf import fresh_token
from registry.web.fastpath import Answer, header
from registry.web.forms import form_page, read_query
from registry.web.observability import csp_nonce_from
from registry.web.templating import KeptPages, VisitorPages, fill

PAGE_SIZE = 20
SEARCH_PAGE = "register/search.html"
ENTRY_PAGE = "register/entry.html"
ENTRY_PAGES = VisitorPages()
# Entry pages as a signed-out visitor gets them, each kept with the document it shows, by
# application (its templates and navigation make the frame). A kept page holds its own blocks
# (~3 KB) and its document (~1 KB): 48 MB keep some 10,000 entries.
KEPT_PAGES_BYTES = 48 * 1024 * 1024
_HTML = (b"content-type", b"text/html; charset=utf-8")
_COMPRESSED = (b"gzip", b"br", b"zstd", b"deflate")  # a page is always worth compressing


async def entry_page_answer(number: str, scope: Scope) -> Answer | None:
    """``GET /register/{number}`` for :class:`FastPaths`: the page :meth:`PublicRegisterPages.entry`
    gives a visitor who holds no cookie (signed out, no form token yet), byte for byte, with the
    form token cookie :class:`FormProtection` would set. The entry is read fresh every time; the
    page is made again unless the one kept was made from the very same document. None (the
    framework answers) for anyone holding a cookie (a session: their page is rendered for them),
    a client the compression middleware would compress for, or anything but a page found."""
    if not number or "/" in number or header(scope, b"cookie") is not None:
        return None
    accepted = header(scope, b"accept-encoding")
    if accepted and any(kind in accepted for kind in _COMPRESSED):
        return None
    try:
        found = await service.public_document(number)
    except (InvalidInput, NotFound):
        return None
    path: str = scope["path"]
    state = scope["app"].state
    pages = state.get("kept_entry_pages")
    if pages is None:
        pages = state["kept_entry_pages"] = KeptPages(KEPT_PAGES_BYTES)
    pieces = pages.get(path, found.json)
    if pieces is None:
        entry = PublicEntry.model_validate_json(found.json)
        kept = ENTRY_PAGES.pieces(Request(scope), ENTRY_PAGE, {"entry": entry})
        if kept is None:
            return None
        pages.put(path, found.json, kept)
        pieces = kept.pieces
    token, cookie = fresh_token(state.settings)
    body = fill(pieces, csp_nonce_from(scope).encode(), token)
    length = (b"content-length", str(len(body)).encode())
    return Answer(200, [_HTML, length, (b"set-cookie", cookie)], body)


class PublicRegisterPages(Controller):
    path = "/register"
    include_in_schema = False

    @get("/", name="register_search")
    async def search(self, request: Request[Any, Any, Any]) -> Template:
        query = read_query(request, RegisterSearchQuery)
        values = {key: value for key, value in query.values.items() if key != "page"}
        context = await _search_context(values)
        errors, asked = query.errors, query.form
        if asked is not None:
            # A mistyped number came from the search box: the message belongs beside it.
            with errors.catch(field="q", rename={"registration_number": "q"}):
                found = await public_register.search(
                    query=asked.q,
                    region=asked.region,
                    role=asked.role,
                    status=asked.status,
                    page=asked.page,
                    page_size=PAGE_SIZE,
                )
                filters = {key: value for key, value in values.items() if value}
                return form_page(
                    SEARCH_PAGE,
                    errors,
                    **context,
                    found=found,
                    previous_href=_href(filters, asked.page - 1) if asked.page > 1 else None,
                    next_href=_href(filters, asked.page + 1)
                    if asked.page < found.last_page
                    else None,
                    last_page=found.last_page,
                )
        return form_page(SEARCH_PAGE, errors, **context, found=None)

    @get("/{registration_number:str}", name="register_entry")
    async def entry(
        self, request: Request[Any, Any, Any], registration_number: FromPath[str]
    ) -> Response[str]:
        found = await service.public_document(registration_number)
        # Read fresh every time: only the page's frame is kept, never what it shows.
        return ENTRY_PAGES.render(
            request, ENTRY_PAGE, {"entry": PublicEntry.model_validate_json(found.json)}
        )


async def _search_context(values: dict[str, str]) -> dict[str, Any]:
    """The search form, filled in as the person left it."""
    reference = await service.reference_data()
    return {
        "values": values,
        "region_items": _items(reference.regions, values["region"], "Any region"),
        "role_items": _items(reference.roles, values["role"], "Any role"),
        "status_items": [{"value": "", "text": "Any status"}]
        + [
            {"value": key.value, "text": label, "selected": key.value == values["status"]}
            for key, label in STATUS_LABELS.items()
        ],
        "searched": any(values.values()),
    }


def _items(table: dict[str, service.Reference], chosen: str, anything: str) -> list[dict[str, Any]]:
    return [{"value": "", "text": anything}] + [
        {"value": code, "text": ref.name, "selected": code == chosen} for code, ref in table.items()
    ]


def _href(filters: dict[str, str], page: int) -> str:
    return "/register?" + urlencode({**filters, "page": page})
