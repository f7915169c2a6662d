"""Admin pages for reference data: designated roles, regions and qualification types."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.errors import Conflict, InvalidInput
from registry.register import reference
from registry.register.reference import LABELS, ReferenceKind
from registry.web.forms import FormErrors, form_page, read_form

AnyRequest = Request[Any, Any, Any]


class ReferenceDataPages(Controller):
    path = "/admin/reference"
    include_in_schema = False

    @get("/", name="admin_reference")
    async def overview(self) -> Template:
        kinds = [
            {
                "kind": kind.value,
                "title": LABELS[kind][0],
                "items": await reference.list_items(kind),
            }
            for kind in ReferenceKind
        ]
        return Template("register/admin/reference.html", context={"kinds": kinds})

    @get("/{kind:str}", name="admin_reference_kind")
    async def kind_page(
        self,
        kind: FromPath[ReferenceKind],
        added: FromQuery[str] = "",
        updated: FromQuery[str] = "",
    ) -> Template:
        return await _kind_page(kind, FormErrors(), values={}, added=added, updated=updated)

    @post("/{kind:str}", name="admin_reference_add")
    async def add(self, request: AnyRequest, kind: FromPath[ReferenceKind]) -> Template | Redirect:
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field="name"):
            item = await reference.add_item(
                kind, str(values.get("code", "")), str(values.get("name", ""))
            )
            return Redirect(f"/admin/reference/{kind.value}?added={item.code}", status_code=303)
        return await _kind_page(kind, errors, values=values)

    @get("/{kind:str}/{code:str}", name="admin_reference_item")
    async def item_page(self, kind: FromPath[ReferenceKind], code: FromPath[str]) -> Template:
        item = await reference.get_item(kind, code)
        return _item_page(kind, item, FormErrors(), name=item.name)

    @post("/{kind:str}/{code:str}", name="admin_reference_update")
    async def update(
        self, request: AnyRequest, kind: FromPath[ReferenceKind], code: FromPath[str]
    ) -> Template | Redirect:
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(field="name"):
            await reference.update_item(
                kind, code, name=str(values.get("name", "")), active=values.get("active") == "yes"
            )
            return Redirect(f"/admin/reference/{kind.value}?updated={code}", status_code=303)
        item = await reference.get_item(kind, code)
        return _item_page(kind, item, errors, name=values.get("name", ""))


async def _kind_page(
    kind: ReferenceKind,
    errors: FormErrors,
    *,
    values: dict[str, Any],
    added: str = "",
    updated: str = "",
) -> Template:
    """The list, with a banner naming what was just added or changed (by its name: the code
    means little to the person who typed the name)."""
    items = await reference.list_items(kind)
    names = {item.code: item.name for item in items}
    banner = (
        f"Added {names[added]}"
        if added in names
        else f"Updated {names[updated]}"
        if updated in names
        else ""
    )
    return form_page(
        "register/admin/reference_kind.html",
        errors,
        kind=kind.value,
        title=LABELS[kind][0],
        singular=LABELS[kind][1],
        items=items,
        values=values,
        banner=banner,
    )


def _item_page(
    kind: ReferenceKind,
    item: reference.ReferenceItem,
    errors: FormErrors,
    *,
    name: str,
) -> Template:
    return form_page(
        "register/admin/reference_item.html",
        errors,
        kind=kind.value,
        title=LABELS[kind][0],
        singular=LABELS[kind][1],
        item=item,
        name=name,
    )
