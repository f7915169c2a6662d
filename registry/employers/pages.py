"""Employer pages: asking for an organisation; the organisation's page (members, keys); bulk
checks; and the registrar's list of organisations and requests. Thin: read the form, call the
service, render."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry import text
from registry.accounts.auth import SignedInRequest, VisitorRequest, client_address
from registry.employers import checks, keys, organisations
from registry.employers.tables import KeyScope
from registry.errors import Conflict, InvalidInput, PermissionDenied, TooManyRequests
from registry.web.forms import FormErrors, form_page, read_form

SEE_OTHER: Literal[303] = 303
REGISTRAR_LIST = "/registrar/employers"
ORGANISATION_PAGE = organisations.ORGANISATION_PAGE
CHECKS_PAGE = "/organisation/checks"
# A CSV of 10,000 numbers with a few other columns fits in well under this.
UPLOAD_LIMIT = 2 * 1024 * 1024
BODY_LIMIT = UPLOAD_LIMIT + 64 * 1024
SCOPE_LABELS = {
    KeyScope.verify: "Check registration numbers",
    KeyScope.watchlist: "Manage the watchlist",
}


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value if isinstance(value, str) else ""


# --- asking for an organisation -----------------------------------------------------------------


class OrganisationRequestPages(Controller):
    path = "/employers/request"
    include_in_schema = False

    @get("/", name="employer_request_form")
    async def form(self) -> Template:
        return form_page("employers/request.html", FormErrors(), values={})

    @post("/", name="employer_request_create")
    async def create(self, request: VisitorRequest) -> Template | Redirect:
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, TooManyRequests):
            answers = organisations.check_contact(
                _text(values, "name"),
                _text(values, "contact_name"),
                _text(values, "contact_email"),
                _text(values, "about"),
            )
            await organisations.request_organisation(answers, client_address(request.scope))
            return Redirect("/employers/request/sent", status_code=SEE_OTHER)
        return form_page("employers/request.html", errors, values=values)

    @get("/sent", name="employer_request_sent")
    async def sent(self) -> Template:
        return Template("employers/request_sent.html")


# --- the organisation's own page ----------------------------------------------------------------


async def _organisation_page(
    request: SignedInRequest,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    *,
    banner: str = "",
) -> Template:
    membership = await organisations.require_membership(request.user.id)
    organisation_id = membership.organisation.id
    return form_page(
        "employers/organisation.html",
        errors or FormErrors(),
        organisation=membership.organisation,
        is_admin=membership.is_admin,
        members=await organisations.members(organisation_id),
        api_keys=await keys.list_keys(organisation_id),
        scope_labels=SCOPE_LABELS,
        values=values or {},
        banner=banner,
    )


class OrganisationPages(Controller):
    path = ORGANISATION_PAGE
    include_in_schema = False

    @get("/", name="organisation_page")
    async def page(self, request: SignedInRequest) -> Template:
        banner = {"invited": "Invitation sent", "revoked": "Key revoked"}.get(
            request.query_params.get("done", ""), ""
        )
        return await _organisation_page(request, banner=banner)

    @post("/members", name="organisation_member_invite")
    async def invite(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, PermissionDenied):
            await organisations.invite_colleague(
                request.user.id,
                _text(values, "email"),
                _text(values, "display_name"),
                admin=_text(values, "admin") == "yes",
            )
            return Redirect(f"{ORGANISATION_PAGE}?done=invited", status_code=SEE_OTHER)
        return await _organisation_page(request, errors, values)

    @post("/keys", name="organisation_key_create", status_code=200)
    async def create_key(self, request: SignedInRequest) -> Template:
        values = await read_form(request)
        chosen = values.get("scopes", [])
        scopes = [chosen] if isinstance(chosen, str) else [s for s in chosen if isinstance(s, str)]
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict, PermissionDenied, field="key_name"):
            summary, secret = await keys.issue_key(
                request.user.id, _text(values, "key_name"), scopes
            )
            # The key is on this page once, never again: shown, not redirected to.
            return Template(
                "employers/key_created.html", context={"summary": summary, "key": secret}
            )
        errors.by_field = {
            ("key_name" if k == "name" else k): v for k, v in errors.by_field.items()
        }
        return await _organisation_page(request, errors, values)

    @post("/keys/{key_id:int}/revoke", name="organisation_key_revoke")
    async def revoke_key(self, request: SignedInRequest, key_id: FromPath[int]) -> Redirect:
        await keys.revoke_key(request.user.id, key_id)
        return Redirect(f"{ORGANISATION_PAGE}?done=revoked", status_code=SEE_OTHER)


# --- bulk checks ---------------------------------------------------------------------------------


async def _checks_page(
    request: SignedInRequest,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    outcome: checks.Outcome | None = None,
) -> Template:
    membership = await organisations.require_membership(request.user.id)
    history = await checks.history(membership.organisation.id, limit=20)
    pasted = "\n".join(r.input for r in outcome.results) if outcome else ""
    return form_page(
        "employers/checks.html",
        errors or FormErrors(),
        organisation=membership.organisation,
        history=history,
        values=values or {},
        outcome=outcome,
        pasted=pasted,
        max_numbers=checks.MAX_NUMBERS,
        upload_limit_mb=UPLOAD_LIMIT // (1024 * 1024),
    )


async def _read_inputs(values: dict[str, Any]) -> list[str]:
    """The numbers of the uploaded file's column, or else the pasted ones; InvalidInput if
    there are none, ListTooLong if there are too many."""
    upload = values.get("file")
    if isinstance(upload, UploadFile) and (upload.filename or "").strip():
        if problem := text.text_problem(upload.filename or "", "The file's name"):
            raise InvalidInput(problem, field="file")
        data = await upload.read(UPLOAD_LIMIT + 1)
        if len(data) > UPLOAD_LIMIT:
            raise InvalidInput(
                f"The file must be {UPLOAD_LIMIT // (1024 * 1024)} MB or smaller", field="file"
            )
        column = _text(values, "column").strip() or checks.DEFAULT_COLUMN
        return checks.read_csv(data, column)
    inputs = checks.read_pasted(_text(values, "numbers"))
    if not inputs:
        raise InvalidInput(
            "Enter registration numbers, one a line, or choose a CSV file", field="numbers"
        )
    if len(inputs) > checks.MAX_NUMBERS:
        raise checks.list_too_long(len(inputs))
    return inputs


class CheckPages(Controller):
    path = CHECKS_PAGE
    include_in_schema = False

    @get("/", name="organisation_checks")
    async def form(self, request: SignedInRequest) -> Template:
        return await _checks_page(request)

    @post("/", name="organisation_check_run", status_code=200, request_max_body_size=BODY_LIMIT)
    async def run(self, request: SignedInRequest) -> Template | Response[str]:
        membership = await organisations.require_membership(request.user.id)
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, checks.ListTooLong):
            inputs = await _read_inputs(values)
            checker = checks.Checker(membership.organisation.id, user_id=request.user.id)
            outcome = await checks.check(inputs, checker)
            if _text(values, "format") == "csv":
                stamp = outcome.checked_at.strftime("%Y%m%d-%H%M%S")
                return Response(
                    checks.csv_text(outcome),
                    media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="check-{stamp}.csv"'},
                )
            return await _checks_page(request, outcome=outcome)
        shown = {k: v for k, v in values.items() if k != "file"}
        return await _checks_page(request, errors, shown)


# --- registrars -----------------------------------------------------------------------------------


class RegistrarOrganisationPages(Controller):
    path = REGISTRAR_LIST
    include_in_schema = False

    @get("/", name="registrar_employers")
    async def list_all(self) -> Template:
        return Template(
            "employers/registrar/organisations.html",
            context={"organisations": await organisations.list_all()},
        )

    @get("/new", name="registrar_employer_new")
    async def new(self) -> Template:
        return form_page("employers/registrar/new.html", FormErrors(), values={})

    @post("/new", name="registrar_employer_create")
    async def create(self, request: SignedInRequest) -> Template | Redirect:
        values = await read_form(request)
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict):
            answers = organisations.check_contact(
                _text(values, "name"), _text(values, "contact_name"), _text(values, "contact_email")
            )
            made = await organisations.create_organisation(answers, by_user_id=request.user.id)
            return Redirect(f"{REGISTRAR_LIST}/{made.id}?done=created", status_code=SEE_OTHER)
        return form_page("employers/registrar/new.html", errors, values=values)

    @get("/{organisation_id:int}", name="registrar_employer")
    async def one(self, request: SignedInRequest, organisation_id: FromPath[int]) -> Template:
        return await _decision_page(
            organisation_id, FormErrors(), {}, request.query_params.get("done", "")
        )

    @post("/{organisation_id:int}/approve", name="registrar_employer_approve")
    async def approve(
        self, request: SignedInRequest, organisation_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(request, organisation_id, approve=True)

    @post("/{organisation_id:int}/refuse", name="registrar_employer_refuse")
    async def refuse(
        self, request: SignedInRequest, organisation_id: FromPath[int]
    ) -> Template | Redirect:
        return await _decide(request, organisation_id, approve=False)


async def _decide(
    request: SignedInRequest, organisation_id: int, *, approve: bool
) -> Template | Redirect:
    await organisations.get(organisation_id)  # another's or none: not found, before the form
    values = await read_form(request)
    errors = FormErrors()
    with errors.catch(InvalidInput, Conflict):
        await organisations.decide(
            organisation_id,
            approve=approve,
            reason=_text(values, "reason"),
            by_user_id=request.user.id,
        )
        done = "approved" if approve else "refused"
        return Redirect(f"{REGISTRAR_LIST}/{organisation_id}?done={done}", status_code=SEE_OTHER)
    return await _decision_page(organisation_id, errors, values)


async def _decision_page(
    organisation_id: int, errors: FormErrors, values: dict[str, Any], done: str = ""
) -> Template:
    found = await organisations.get(organisation_id)
    banner = {
        "approved": "Organisation approved: its contact has been invited",
        "refused": "Request refused: the requester has been told why",
        "created": "Organisation created: its contact has been invited",
    }.get(done, "")
    return form_page(
        "employers/registrar/organisation.html",
        errors,
        organisation=found,
        members=await organisations.members(organisation_id),
        values=values,
        banner=banner,
    )
