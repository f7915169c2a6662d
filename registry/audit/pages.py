"""The audit trail page: staff browse and filter what was done, by whom, to what."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from registry.audit import service
from registry.audit.schemas import AuditFilterForm
from registry.web.forms import read_query

PAGE_SIZE = 50


class AuditPages(Controller):
    include_in_schema = False

    @get("/audit", name="audit_trail")
    async def audit_trail(self, request: Request[Any, Any, Any]) -> Template:
        query = read_query(request, AuditFilterForm)
        values, form, errors = query.values, query.form, query.errors
        if form is None:
            context = {"values": values, "entries": [], "total": 0, **errors.context()}
            return Template(
                "audit/trail.html", context=context, status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        found = await service.search(
            action=form.action,
            actor_label=form.actor,
            target_type=form.target_type,
            target_id=form.target_id,
            occurred_from=form.occurred_from(),
            occurred_before=form.occurred_before(),
            page=form.page,
            page_size=PAGE_SIZE,
        )
        filters = {k: v for k, v in values.items() if v and k != "page"}
        last_page = max(1, -(-found.total // PAGE_SIZE))
        return Template(
            "audit/trail.html",
            context={
                "values": values,
                "entries": found.entries,
                "total": found.total,
                "page": form.page,
                "last_page": last_page,
                "previous_href": _page_href(filters, form.page - 1) if form.page > 1 else None,
                "next_href": _page_href(filters, form.page + 1) if form.page < last_page else None,
            },
        )


def _page_href(filters: dict[str, str], page: int) -> str:
    return "/audit?" + urlencode({**filters, "page": page})
