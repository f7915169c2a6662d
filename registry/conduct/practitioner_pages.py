"""A practitioner's own fitness to practise cases, as pages: what is asked of them and by when,
one case with its allegations, the documents disclosed to them and its timeline, their response
to the notice of investigation (text and files), and their answer to an accepted outcome.

Thin over :mod:`registry.conduct.service` (the same calls as the ``/me/cases`` API): another
practitioner's case is not found there, so it is not found here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from registry.accounts.auth import SignedInRequest
from registry.conduct import service
from registry.conduct.tables import SANCTION_LABELS, STAGE_LABELS, Stage
from registry.config import Settings
from registry.core import clock
from registry.errors import Conflict, InvalidInput
from registry.register import evidence
from registry.web.forms import FormErrors, read_form
from registry.web.inputs import row_id

SEE_OTHER: Literal[303] = 303
YOUR_CASES = "/your-cases"
# Up to the response's files, each at the limit, and the form around them.
RESPONSE_BODY_LIMIT = service.MAX_RESPONSE_FILES * evidence.MAX_BYTES + 2 * 1024 * 1024
DONE = {
    "responded": "Your response has been sent to the caseworker",
    "accept": "You accepted the outcome. It is in force from today.",
    "reject": "You rejected the outcome. Your case goes to a hearing: we will tell you its date.",
}
ANSWER_FIELD = "decision"


async def _case_page(
    request: SignedInRequest,
    case_id: int,
    errors: FormErrors | None = None,
    values: Mapping[str, Any] | None = None,
) -> Template:
    errors = errors or FormErrors()
    detail = await service.practitioner_case(request.user.id, case_id)
    done = request.query_params.get("done", "")
    return Template(
        "conduct/your_case.html",
        context={
            "detail": detail,
            "case": detail.case,
            "labels": SANCTION_LABELS,
            "stage_labels": STAGE_LABELS,
            "event_labels": service.EVENT_LABELS,
            "asked": service.ASKED_OF_PRACTITIONER,
            "today": clock.now().date(),
            "responding": detail.case.stage is Stage.investigation,
            "answering": detail.case.stage is Stage.accepted_outcome,
            "banner": DONE.get(done, ""),
            "values": values or {},
            "max_files": service.MAX_RESPONSE_FILES,
            "max_upload_mb": evidence.MAX_BYTES // (1024 * 1024),
            **errors.context(),
        },
        status_code=errors.status_code,
    )


def _answer_page(detail: service.CaseDetail, errors: FormErrors, *, confirm: str = "") -> Template:
    return Template(
        "conduct/your_case_outcome.html",
        context={
            "detail": detail,
            "case": detail.case,
            "labels": SANCTION_LABELS,
            "confirm": confirm,
            **errors.context(),
        },
        status_code=errors.status_code,
    )


class PractitionerCasePages(Controller):
    path = YOUR_CASES
    include_in_schema = False

    @get("/", name="conduct_your_cases")
    async def cases(self, request: SignedInRequest) -> Template:
        found = await service.practitioner_cases(request.user.id)
        return Template(
            "conduct/your_cases.html",
            context={
                "cases": found,
                "today": clock.now().date(),
                "stage_labels": STAGE_LABELS,
                "asked": service.ASKED_OF_PRACTITIONER,
            },
        )

    @get("/{case_id:int}", name="conduct_your_case")
    async def case(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        return await _case_page(request, case_id)

    @post(
        "/{case_id:int}/response",
        name="conduct_your_case_respond",
        request_max_body_size=RESPONSE_BODY_LIMIT,
    )
    async def respond(
        self, request: SignedInRequest, case_id: FromPath[int]
    ) -> Template | Redirect:
        values = await read_form(request)
        given = values.get(evidence.FIELD, [])
        uploads = [
            await evidence.read_upload(each)
            for each in (given if isinstance(given, list) else [given])
        ]
        response = values.get("response", "")
        errors = FormErrors()
        with errors.catch(InvalidInput, Conflict):
            settings: Settings = request.app.state.settings
            await service.respond_with_files(
                request.user.id,
                case_id,
                response if isinstance(response, str) else "",
                uploads,
                settings.data_dir,
            )
            return Redirect(f"{YOUR_CASES}/{case_id}?done=responded", status_code=SEE_OTHER)
        return await _case_page(request, case_id, errors, {"response": response})

    @get("/{case_id:int}/outcome", name="conduct_your_case_outcome")
    async def outcome(self, request: SignedInRequest, case_id: FromPath[int]) -> Template:
        detail = await service.practitioner_case(request.user.id, case_id)
        return _answer_page(detail, FormErrors())

    @post("/{case_id:int}/outcome", name="conduct_your_case_answer")
    async def answer(self, request: SignedInRequest, case_id: FromPath[int]) -> Template | Redirect:
        """Accept or reject: chosen on the radios, then confirmed (nothing changes until it is)."""
        values = await read_form(request)
        detail = await service.practitioner_case(request.user.id, case_id)
        errors = FormErrors()
        decision = values.get(ANSWER_FIELD)
        if decision not in ("accept", "reject"):
            errors.add(ANSWER_FIELD, "Choose whether you accept or reject the outcome")
            return _answer_page(detail, errors)
        if values.get("confirmed") != "yes":
            return _answer_page(detail, errors, confirm=decision)
        posted = values.get("version", "")
        version = row_id(posted) if isinstance(posted, str) else None
        if version is None:
            errors.add("form", "The page was out of date: look at the outcome again")
            return _answer_page(detail, errors)
        with errors.catch(Conflict):
            await service.answer_outcome(request.user.id, case_id, decision == "accept", version)
            return Redirect(f"{YOUR_CASES}/{case_id}?done={decision}", status_code=SEE_OTHER)
        detail = await service.practitioner_case(request.user.id, case_id)
        return _answer_page(detail, errors)

    @get("/{case_id:int}/documents/{document_id:int}", name="conduct_your_case_document")
    async def document(
        self, request: SignedInRequest, case_id: FromPath[int], document_id: FromPath[int]
    ) -> File:
        stored = await service.practitioner_document(request.user.id, case_id, document_id)
        return evidence.download(request, stored)
