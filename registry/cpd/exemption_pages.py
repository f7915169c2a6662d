"""Exemption pages: a practitioner asks for days to be excused their CPD, a registrar grants or
refuses. Thin: read the form, call the service, render."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.accounts.auth import SignedInRequest
from registry.cpd import activities, exemptions
from registry.cpd.pages import read_dated_form
from registry.cpd.schemas import ExemptionIn
from registry.cpd.tables import EXEMPTION_KIND_LABELS
from registry.errors import Conflict, InvalidInput
from registry.web.forms import FormErrors, form_page, read_form

SEE_OTHER: Literal[303] = 303
REGISTRAR_LIST = "/registrar/cpd/exemptions"


def _kinds() -> dict[str, Any]:
    return {
        "kind_labels": EXEMPTION_KIND_LABELS,
        "kind_choices": [
            {"value": kind.value, "text": label} for kind, label in EXEMPTION_KIND_LABELS.items()
        ],
    }


class ExemptionRequestPages(Controller):
    path = "/cpd/exemptions"
    include_in_schema = False

    @get("/", name="cpd_exemptions")
    async def list_own(self, request: SignedInRequest) -> Template | Redirect:
        if await activities.find_owner(request.user.id) is None:
            return Redirect("/cpd", status_code=SEE_OTHER)
        return Template(
            "cpd/exemptions.html",
            context={
                "exemptions": await exemptions.list_own(request.user.id),
                "banner": request.query_params.get("done", ""),
                **_kinds(),
            },
        )

    @get("/new", name="cpd_exemption_new")
    async def new(self, request: SignedInRequest) -> Template | Redirect:
        if await activities.find_owner(request.user.id) is None:
            return Redirect("/cpd", status_code=SEE_OTHER)
        return form_page("cpd/exemption_form.html", FormErrors(), values={}, **_kinds())

    @post("/new", name="cpd_exemption_create")
    async def create(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        data, errors = read_dated_form(
            ExemptionIn,
            values,
            ("kind", "reason"),
            ("starts_on", "First day", "Enter the first day of the exemption"),
            also_dated=(("ends_on", "Last day", "Enter the last day of the exemption"),),
        )
        if data is not None:
            with errors.catch(InvalidInput, Conflict):
                await exemptions.request(request.user.id, data)
                return Redirect("/cpd/exemptions?done=requested", status_code=SEE_OTHER)
        return form_page("cpd/exemption_form.html", errors, values=values, **_kinds())


class RegistrarExemptionPages(Controller):
    path = REGISTRAR_LIST
    include_in_schema = False

    @get("/", name="registrar_cpd_exemptions")
    async def list_all(self, request: SignedInRequest) -> Template:
        return Template(
            "cpd/registrar/exemptions.html",
            context={"exemptions": await exemptions.list_all(), **_kinds()},
        )

    @get("/{exemption_id:int}", name="registrar_cpd_exemption")
    async def one(self, request: SignedInRequest, exemption_id: FromPath[int]) -> Template:
        found = await exemptions.get(exemption_id)
        return _decision_page(found, FormErrors(), {}, request.query_params.get("done", ""))

    @post("/{exemption_id:int}/grant", name="registrar_cpd_exemption_grant")
    async def grant(
        self, request: SignedInRequest, exemption_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(request, exemption_id, grant=True)

    @post("/{exemption_id:int}/refuse", name="registrar_cpd_exemption_refuse")
    async def refuse(
        self, request: SignedInRequest, exemption_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(request, exemption_id, grant=False)


async def _decide(
    request: SignedInRequest, exemption_id: int, *, grant: bool
) -> Template | Redirect:
    found = await exemptions.get(exemption_id)
    values = await read_form(request)
    reason = values.get("reason", "")
    errors = FormErrors()
    if not isinstance(reason, str) or len(reason) > 5_000:
        errors.add("reason", "The reason must be 5,000 characters or fewer")
    else:
        with errors.catch(InvalidInput, Conflict):
            await exemptions.decide(
                exemption_id, grant=grant, reason=reason, by_user_id=request.user.id
            )
            done = "granted" if grant else "refused"
            return Redirect(f"{REGISTRAR_LIST}/{exemption_id}?done={done}", status_code=SEE_OTHER)
    return _decision_page(found, errors, values)


def _decision_page(
    found: exemptions.ExemptionRecord, errors: FormErrors, values: dict[str, Any], done: str = ""
) -> Template:
    return form_page(
        "cpd/registrar/exemption.html",
        errors,
        exemption=found,
        values=values,
        banner={"granted": "Exemption granted", "refused": "Exemption refused"}.get(done, ""),
        **_kinds(),
    )
