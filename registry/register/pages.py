"""The public register's pages: search, and one practitioner's entry."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from registry.register import search as public_register
from registry.register import service
from registry.register.schemas import STATUS_LABELS, PublicEntry, RegisterSearchQuery
from registry.web.forms import form_page, read_query
from registry.web.templating import VisitorPages

PAGE_SIZE = 20
SEARCH_PAGE = "register/search.html"
ENTRY_PAGE = "register/entry.html"
ENTRY_PAGES = VisitorPages()


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
