"""Admin pages for reference data: every list a domain declares (the register's designated
roles, regions and qualification types; CPD's standards and practice areas)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.core import reference
from registry.core.reference import ReferenceList, reference_list, reference_lists
from registry.errors import Conflict, InvalidInput
from registry.web.forms import FormErrors, form_page, read_form

AnyRequest = Request[Any, Any, Any]


class ReferenceDataPages(Controller):
    path = "/admin/reference"
    include_in_schema = False

    @get("/", name="admin_reference")
    async def overview(self) -> Template:
        kinds = [
            {"kind": each.kind, "title": each.title, "items": await reference.list_items(each)}
            for each in reference_lists().values()
        ]
        return Template("register/admin/reference.html", context={"kinds": kinds})

    @get("/{kind:str}", name="admin_reference_kind")
    async def kind_page(
        self,
        kind: FromPath[str],
        added: FromQuery[str] = "",
        updated: FromQuery[str] = "",
    ) -> Template:
        return await _kind_page(
            reference_list(kind), FormErrors(), values={}, added=added, updated=updated
        )

    @post("/{kind:str}", name="admin_reference_add")
    async def add(self, request: AnyRequest, kind: FromPath[str]) -> Template | Redirect:
        of = reference_list(kind)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, field="name"):
            item = await reference.add_item(
                of, str(values.get("code", "")), str(values.get("name", ""))
            )
            return Redirect(f"/admin/reference/{of.kind}?added={item.code}", status_code=303)
        return await _kind_page(of, errors, values=values)

    @get("/{kind:str}/{code:str}", name="admin_reference_item")
    async def item_page(self, kind: FromPath[str], code: FromPath[str]) -> Template:
        of = reference_list(kind)
        item = await reference.get_item(of, code)
        return _item_page(of, item, FormErrors(), name=item.name)

    @post("/{kind:str}/{code:str}", name="admin_reference_update")
    async def update(
        self, request: AnyRequest, kind: FromPath[str], code: FromPath[str]
    ) -> Template | Redirect:
        of = reference_list(kind)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(field="name"):
            await reference.update_item(
                of, code, name=str(values.get("name", "")), active=values.get("active") == "yes"
            )
            return Redirect(f"/admin/reference/{of.kind}?updated={code}", status_code=303)
        item = await reference.get_item(of, code)
        return _item_page(of, item, errors, name=values.get("name", ""))


async def _kind_page(
    of: ReferenceList,
    errors: FormErrors,
    *,
    values: dict[str, Any],
    added: str = "",
    updated: str = "",
) -> Template:
    """The list, with a banner naming what was just added or changed (by its name: the code
    means little to the person who typed the name)."""
    items = await reference.list_items(of)
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
        kind=of.kind,
        title=of.title,
        singular=of.singular,
        used_by=of.used_by,
        items=items,
        values=values,
        banner=banner,
    )


def _item_page(
    of: ReferenceList,
    item: reference.ReferenceItem,
    errors: FormErrors,
    *,
    name: str,
) -> Template:
    return form_page(
        "register/admin/reference_item.html",
        errors,
        kind=of.kind,
        title=of.title,
        singular=of.singular,
        used_by=of.used_by,
        in_use_question=of.in_use_question,
        renamed_note=of.renamed_note,
        item=item,
        name=name,
    )
