"""The audit trail page: staff browse and filter what was done, by whom, to what."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from registry.audit import service
from registry.audit.schemas import AuditFilterForm
from registry.web.dates import PARTS, date_values, typed
from registry.web.forms import read_query

PAGE_SIZE = 50


class AuditPages(Controller):
    include_in_schema = False

    @get("/audit", name="audit_trail")
    async def audit_trail(self, request: Request[Any, Any, Any]) -> Template:
        query = read_query(request, AuditFilterForm)
        values, form, errors = query.values, query.form, query.errors
        if form is None:
            context = {
                "values": values,
                "dates": _date_boxes(values),
                "entries": [],
                "total": 0,
                **errors.context(),
            }
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
                "dates": _date_boxes(values, form.from_date, form.to_date),
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


def _date_boxes(
    values: dict[str, Any], from_date: date | None = None, to_date: date | None = None
) -> dict[str, str]:
    """What the date boxes show: what was typed in them, or the dates the filter is using (a
    link may carry them as from_date=YYYY-MM-DD)."""
    boxes: dict[str, str] = {}
    for name, day in (("from_date", from_date), ("to_date", to_date)):
        if typed(values, name):
            boxes |= {f"{name}-{part}": str(values.get(f"{name}-{part}", "")) for part in PARTS}
        else:
            boxes |= date_values(name, day)
    return boxes
