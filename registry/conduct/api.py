"""Fitness to practise through the API. Thin: parse, call the service, shape the answer.

- ``POST /concerns``: anyone raises a concern (limited per client address, with a honeypot).
- ``/cases``: fitness to practise staff (caseworkers, case examiners, adjudicators): the list,
  a case with its timeline (every read audited), its moves, assignment, identification,
  interim orders.
- ``/me/cases``: the practitioner's own cases (anyone else's is not found).
- ``/register/{number}/decisions`` and ``/hearings``: what is published.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_409_CONFLICT
from litestar.types import Scope

from registry.accounts.auth import SignedInRequest, VisitorRequest, client_address
from registry.conduct import (
    concerns,
    interim_orders,
    publication,
    references,
    service,
    timeliness,
    workflow,
)
from registry.conduct.concerns import ConcernIn
from registry.conduct.schemas import (
    AssignmentBody,
    AttachmentOut,
    CaseListOut,
    CaseOut,
    ConcernBody,
    DisclosureBody,
    HearingOut,
    IdentificationBody,
    InterimOrderBody,
    InterimOrderOut,
    InterimReviewBody,
    MoveBody,
    OutcomeAnswerBody,
    PublicOrdersOut,
    PublishedDecisionOut,
    RaisedOut,
    ResponseBody,
    TimelinessOut,
    case_out,
    interim_out,
    move_in,
    summary_out,
)
from registry.conduct.tables import SANCTION_LABELS, Relationship, Stage
from registry.conduct.workflow import Mover, MoveRefused
from registry.config import Settings
from registry.errors import InvalidInput, TooManyRequests
from registry.register import evidence, numbers
from registry.register.api import RegistrationNumber
from registry.register.evidence import EvidenceUpload, download
from registry.web.errors import problem
from registry.web.fastpath import Answer, created, refused
from registry.web.inputs import LARGEST_ID, PageNumber, RowId

RAISED = (
    "We have your concern. Quote its reference whenever you contact us about it. We have "
    "emailed it to you if you gave an email address."
)


def on_move_refused(request: Request[Any, Any, Any], exc: MoveRefused) -> Response[Any]:
    """409 as problem+json, with the moves the case allows this person now."""
    answer = problem(request, HTTP_409_CONFLICT, exc.detail)
    if isinstance(answer.content, dict):
        answer.content["allowed_moves"] = exc.allowed
    return answer


def mover(request: SignedInRequest) -> Mover:
    return Mover(request.user.id, frozenset(request.user.roles))


def secret_key_of(request: Request[Any, Any, Any]) -> str:
    settings: Settings = request.app.state.settings
    return settings.secret_key


async def make_interim_order(
    case_id: int, data: InterimOrderBody, by: Mover
) -> interim_orders.InterimRecord:
    """An interim order as the API's body, or the case page's form checked by it, asks."""
    return await interim_orders.make(
        case_id,
        data.kind,
        months=data.months,
        conditions=data.conditions,
        reason=data.reason,
        by=by,
        version=data.version,
        court_order_reference=data.court_order_reference,
    )


async def review_interim_order(
    order_id: int, data: InterimReviewBody, by: Mover
) -> interim_orders.InterimRecord:
    """An interim order's review as the API's body, or the case page's form, asks."""
    return await interim_orders.review(
        order_id,
        data.outcome,
        reason=data.reason,
        by=by,
        version=data.version,
        months=data.months,
        court_order_reference=data.court_order_reference,
    )


async def concern_in(secret_key: str, data: ConcernBody) -> ConcernIn:
    """The concern as the service takes it; its attachments' tokens checked and read (signed
    with the service's ``secret_key``)."""
    attached = await concerns.read_attachments(secret_key, data.attachments)
    return ConcernIn(
        what_happened=data.what_happened,
        relationship=data.relationship.value,
        categories=list(data.categories),
        about_number=data.about_number,
        about_name=data.about_name,
        about_workplace=data.about_workplace,
        happened_on=data.happened_on,
        happened_when=data.happened_when,
        raiser_name=data.raiser_name,
        raiser_email=data.raiser_email,
        raiser_phone=data.raiser_phone,
        consent_to_share=data.consent_to_share,
        attachments=[each.stored.id for each in attached],
    )


async def concern_raise_answer(body: bytes, scope: Scope) -> Answer | None:
    """``POST /api/v1/concerns`` by someone with no credential, for
    :class:`~registry.web.fastpath.FastPaths`, as :meth:`ConcernController.raise_concern`
    answers it: the body read as the framework reads it (msgspec's JSON, then the schema), the
    same service call, the same answer. None, having stored nothing, for a robot (the honeypot),
    whatever the schema refuses, an attachment's token that does not hold and whatever the
    service refuses before it stores anything: the framework answers those. One refusal comes
    after storing: the concern one too many from its address is refused with its attempt kept
    (and audited), so it is answered here as the framework's handler answers it, never given
    back to be counted twice."""
    try:
        data = ConcernBody.model_validate(msgspec.json.decode(body))
        if data.website:
            return None
        settings: Settings = scope["app"].state.settings
        raised = await concerns.raise_concern(
            await concern_in(settings.secret_key, data), client_address=client_address(scope)
        )
    except TooManyRequests as limited:  # its attempt is counted and kept: answered here
        return refused(limited, scope)
    except Exception:  # refused or failed, so not stored: the framework answers it in its words
        return None
    return created(RaisedOut(reference=raised.reference, message=RAISED))


class ConcernController(Controller):
    path = "/concerns"
    tags = ["Fitness to practise"]

    @post(
        "/",
        name="api_concern_raise",
        status_code=HTTP_201_CREATED,
        summary="Raise a concern about a practitioner (no account needed)",
    )
    async def raise_concern(
        self, request: VisitorRequest, data: JSONBody[ConcernBody]
    ) -> RaisedOut:
        if data.website:  # a robot filled in the honeypot: answered as ever, nothing kept
            return RaisedOut(reference=references.new_reference(), message=RAISED)
        signed_in = request.user
        raised = await concerns.raise_concern(
            await concern_in(secret_key_of(request), data),
            raised_by=signed_in.id if signed_in else None,
            client_address=None if signed_in else client_address(request.scope),
        )
        return RaisedOut(reference=raised.reference, message=RAISED)

    @post(
        "/attachments",
        name="api_concern_attachment_upload",
        status_code=HTTP_201_CREATED,
        summary="Upload a file for a concern still to be raised (PDF, PNG or JPEG, at most "
        "10 MB) as multipart `data`; name it in the concern by the token returned",
        request_max_body_size=evidence.UPLOAD_BODY_LIMIT,
    )
    async def upload_attachment(
        self,
        request: VisitorRequest,
        data: Annotated[EvidenceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AttachmentOut:
        filename, content = await evidence.read_upload(data.data)
        settings: Settings = request.app.state.settings
        signed_in = request.user
        attached = await concerns.upload_attachment(
            filename,
            content,
            settings.data_dir,
            settings.secret_key,
            uploaded_by=signed_in.id if signed_in else None,
            client_address=None if signed_in else client_address(request.scope),
        )
        stored = attached.stored
        return AttachmentOut(
            token=attached.token,
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
        )


StageFilter = Annotated[Stage | None, QueryParameter(title="Stage")]
CaseworkerFilter = Annotated[
    int | None, QueryParameter(ge=1, le=LARGEST_ID, title="Assigned caseworker")
]
OverdueFilter = Annotated[bool | None, QueryParameter(title="Overdue")]
UnassignedFilter = Annotated[
    bool, QueryParameter(title="Only the cases nobody is assigned to (as the page's 'nobody')")
]


class CaseController(Controller):
    path = "/cases"
    tags = ["Fitness to practise"]
    exception_handlers = {MoveRefused: on_move_refused}

    @get("/", name="api_cases", summary="Open cases, oldest first, filtered")
    async def cases(
        self,
        stage: StageFilter = None,
        caseworker: CaseworkerFilter = None,
        overdue: OverdueFilter = None,
        unassigned: UnassignedFilter = False,
        page: PageNumber = 1,
    ) -> CaseListOut:
        if unassigned and caseworker is not None:
            raise InvalidInput(
                "Choose a caseworker or the cases nobody is assigned to, not both",
                field="unassigned",
            )
        found, total = await service.list_cases(
            stage=stage, assigned_to=caseworker, unassigned=unassigned, overdue=overdue, page=page
        )
        return CaseListOut(cases=[summary_out(each) for each in found], total=total, page=page)

    @post(
        "/",
        name="api_case_open",
        status_code=HTTP_201_CREATED,
        summary="Open a concern on the regulator's own motion",
    )
    async def open_case(self, request: SignedInRequest, data: JSONBody[ConcernBody]) -> CaseOut:
        values = await concern_in(secret_key_of(request), data)
        own = ConcernIn(**{**values.__dict__, "relationship": Relationship.regulator.value})
        raised = await concerns.raise_concern(own, raised_by=request.user.id, own_motion=True)
        return case_out(await service.staff_case(raised.case_id, mover(request)))

    @get(
        "/{case_id:int}", name="api_case", summary="A case with its timeline (the read is audited)"
    )
    async def case(self, request: SignedInRequest, case_id: RowId) -> CaseOut:
        return case_out(await service.staff_case(case_id, mover(request)))

    @post(
        "/{case_id:int}/moves",
        name="api_case_move",
        status_code=HTTP_200_OK,
        summary="Make a move of the case's workflow, as of the version you saw (409: not now)",
    )
    async def move(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[MoveBody]
    ) -> CaseOut:
        by = mover(request)
        await workflow.perform(case_id, data.move, by=by, version=data.version, data=move_in(data))
        return case_out(await service.staff_case(case_id, by))

    @post(
        "/{case_id:int}/assignment",
        name="api_case_assign",
        status_code=HTTP_200_OK,
        summary="Assign the case to a caseworker, or to nobody",
    )
    async def assign(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[AssignmentBody]
    ) -> CaseOut:
        by = mover(request)
        await workflow.assign(case_id, data.caseworker_id, by=by, version=data.version)
        return case_out(await service.staff_case(case_id, by))

    @post(
        "/{case_id:int}/identification",
        name="api_case_identify",
        status_code=HTTP_200_OK,
        summary="Say who a flagged case is about (it joins their open case, if any)",
    )
    async def identify(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[IdentificationBody]
    ) -> CaseOut:
        by = mover(request)
        holder = await concerns.identify(
            case_id, data.registration_number, by=by, version=data.version
        )
        return case_out(await service.staff_case(holder, by))

    @get(
        "/{case_id:int}/documents/{document_id:int}",
        name="api_case_document",
        summary="Download a document of a case (the download is audited)",
        responses=evidence.DOWNLOAD_RESPONSES,
    )
    async def document(self, request: SignedInRequest, case_id: RowId, document_id: RowId) -> File:
        return download(request, await service.staff_document(case_id, document_id))

    @post(
        "/{case_id:int}/documents/{document_id:int}/disclosure",
        name="api_case_document_disclose",
        status_code=HTTP_200_OK,
        summary="Disclose a document of the case to the practitioner (caseworkers; audited)",
    )
    async def disclose(
        self,
        request: SignedInRequest,
        case_id: RowId,
        document_id: RowId,
        data: JSONBody[DisclosureBody],
    ) -> CaseOut:
        by = mover(request)
        await service.disclose_document(case_id, document_id, by=by, version=data.version)
        return case_out(await service.staff_case(case_id, by))

    @post(
        "/{case_id:int}/interim-orders",
        name="api_case_interim_order",
        status_code=HTTP_201_CREATED,
        summary="Make an interim order (adjudicators), in force at once",
    )
    async def interim_order(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[InterimOrderBody]
    ) -> InterimOrderOut:
        return interim_out(await make_interim_order(case_id, data, mover(request)))


class TimelinessController(Controller):
    path = "/conduct/timeliness"
    tags = ["Fitness to practise"]

    @get(
        "/",
        name="api_conduct_timeliness",
        summary="Median and 90th percentile weeks per quarter, and open caseload by age, live",
    )
    async def figures(self) -> TimelinessOut:
        found = await timeliness.figures()
        return TimelinessOut.model_validate(found, from_attributes=True)

    @get(
        "/csv",
        name="api_conduct_timeliness_csv",
        summary="The timeliness figures as CSV",
        media_type="text/csv",
    )
    async def figures_csv(self) -> Response[bytes]:
        found = await timeliness.figures()
        return Response(timeliness.as_csv(found).encode(), media_type="text/csv; charset=utf-8")


class InterimOrderController(Controller):
    path = "/interim-orders"
    tags = ["Fitness to practise"]

    @post(
        "/{order_id:int}/reviews",
        name="api_interim_order_review",
        status_code=HTTP_200_OK,
        summary="Review an interim order: continue, extend (beyond 18 months by court order) or "
        "revoke",
    )
    async def review(
        self, request: SignedInRequest, order_id: RowId, data: JSONBody[InterimReviewBody]
    ) -> InterimOrderOut:
        return interim_out(await review_interim_order(order_id, data, mover(request)))


class MyCasesController(Controller):
    path = "/me/cases"
    tags = ["Your fitness to practise cases"]
    exception_handlers = {MoveRefused: on_move_refused}

    @get("/", name="api_my_cases", summary="Your open cases: what is asked of you, and by when")
    async def mine(self, request: SignedInRequest) -> list[CaseOut]:
        return [
            case_out(await service.practitioner_case(request.user.id, case.id))
            for case in await service.practitioner_cases(request.user.id)
        ]

    @get("/{case_id:int}", name="api_my_case", summary="One of your cases")
    async def one(self, request: SignedInRequest, case_id: RowId) -> CaseOut:
        return case_out(await service.practitioner_case(request.user.id, case_id))

    @post(
        "/{case_id:int}/response",
        name="api_my_case_respond",
        status_code=HTTP_200_OK,
        summary="Your response to the notice of investigation",
    )
    async def respond(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[ResponseBody]
    ) -> CaseOut:
        await service.respond(request.user.id, case_id, data.response, [])
        return case_out(await service.practitioner_case(request.user.id, case_id))

    @post(
        "/{case_id:int}/outcome",
        name="api_my_case_outcome",
        status_code=HTTP_200_OK,
        summary="Accept or reject the outcome the case examiners propose",
    )
    async def outcome(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[OutcomeAnswerBody]
    ) -> CaseOut:
        await service.answer_outcome(
            request.user.id, case_id, data.decision == "accept", data.version
        )
        return case_out(await service.practitioner_case(request.user.id, case_id))

    @get(
        "/{case_id:int}/documents/{document_id:int}",
        name="api_my_case_document",
        summary="Download a document of your case disclosed to you",
        responses=evidence.DOWNLOAD_RESPONSES,
    )
    async def document(self, request: SignedInRequest, case_id: RowId, document_id: RowId) -> File:
        stored = await service.practitioner_document(request.user.id, case_id, document_id)
        return download(request, stored)


class PublicationController(Controller):
    path = "/"
    tags = ["Fitness to practise"]

    @get(
        "/register/{number:str}/decisions",
        name="api_register_decisions",
        summary="An entry's published fitness to practise decisions and interim orders in force",
    )
    async def decisions(self, number: RegistrationNumber) -> PublicOrdersOut:
        found, published, interim = await publication.decisions(number)
        return PublicOrdersOut(
            registration_number=found,
            decisions=[_published_out(each, found) for each in published],
            interim_orders=[interim_out(order) for order in interim],
        )

    @get(
        "/register/{number:str}/decisions/{decision_id:int}",
        name="api_register_decision",
        summary="One published decision",
    )
    async def decision(
        self, number: RegistrationNumber, decision_id: RowId
    ) -> PublishedDecisionOut:
        published = await publication.decision(number, decision_id)
        return _published_out(published, numbers.parse_registration_number(number))

    @get("/hearings", name="api_hearings", summary="Hearings in the next eight weeks")
    async def hearings(self) -> list[HearingOut]:
        return [
            HearingOut.model_validate(each, from_attributes=True)
            for each in await publication.hearings()
        ]


def _published_out(published: publication.Published, number: str) -> PublishedDecisionOut:
    sanction = published.sanction
    return PublishedDecisionOut(
        id=sanction.id,
        kind=sanction.kind.value,
        label=SANCTION_LABELS[sanction.kind],
        summary=sanction.summary,
        conditions=sanction.conditions,
        decided_on=published.decided_on,
        starts_on=sanction.starts_on,
        ends_on=sanction.ends_on,
        pdf_url=f"/register/{number}/decisions/{sanction.id}/pdf",
    )


API = [
    ConcernController,
    CaseController,
    TimelinessController,
    InterimOrderController,
    MyCasesController,
    PublicationController,
]
