"""The public register's pages: search, and one practitioner's entry."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from registry.errors import InvalidInput
from registry.register import search as public_register
from registry.register import service
from registry.register.schemas import STATUS_LABELS, PublicEntry
from registry.web.forms import FormErrors

PAGE_SIZE = 20


class PublicRegisterPages(Controller):
    path = "/register"
    include_in_schema = False

    @get("/", name="register_search")
    async def search(
        self,
        q: Annotated[str, QueryParameter(max_length=100)] = "",
        region: Annotated[str, QueryParameter(max_length=40)] = "",
        role: Annotated[str, QueryParameter(max_length=40)] = "",
        status: Annotated[str, QueryParameter(max_length=32)] = "",
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        values = {"q": q, "region": region, "role": role, "status": status}
        reference = await service.reference_data()
        context: dict[str, Any] = {
            "values": values,
            "region_items": _items(reference.regions, region, "Any region"),
            "role_items": _items(reference.roles, role, "Any role"),
            "status_items": [{"value": "", "text": "Any status"}]
            + [
                {"value": key.value, "text": label, "selected": key.value == status}
                for key, label in STATUS_LABELS.items()
            ],
            "searched": any(values.values()),
        }
        try:
            found = await public_register.search(
                query=q, region=region, role=role, status=status, page=page, page_size=PAGE_SIZE
            )
        except InvalidInput as error:
            # A mistyped number came from the search box: the message belongs beside it.
            errors = FormErrors()
            field = "q" if error.field in (None, "registration_number") else error.field
            errors.add(field, error.detail)
            context.update(errors.context(), found=None)
            return Template(
                "register/search.html", context=context, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        filters = {key: value for key, value in values.items() if value}
        last_page = found.last_page
        context.update(
            FormErrors().context(),
            found=found,
            previous_href=_href(filters, page - 1) if page > 1 else None,
            next_href=_href(filters, page + 1) if page < last_page else None,
            last_page=last_page,
        )
        return Template("register/search.html", context=context)

    @get("/{registration_number:str}", name="register_entry")
    async def entry(self, registration_number: FromPath[str]) -> Template:
        found = await service.public_document(registration_number)
        return Template(
            "register/entry.html", context={"entry": PublicEntry.model_validate_json(found.json)}
        )


def _items(table: dict[str, service.Reference], chosen: str, anything: str) -> list[dict[str, Any]]:
    return [{"value": "", "text": anything}] + [
        {"value": code, "text": ref.name, "selected": code == chosen} for code, ref in table.items()
    ]


def _href(filters: dict[str, str], page: int) -> str:
    return "/register?" + urlencode({**filters, "page": page})
