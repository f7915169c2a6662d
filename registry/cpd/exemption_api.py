"""The API for exemptions: a practitioner asks (``/me/cpd/exemptions``), a registrar grants or
refuses (``/cpd/exemptions``). Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from registry.accounts.auth import SignedInRequest
from registry.cpd import exemptions
from registry.cpd.schemas import ExemptionDecisionIn, ExemptionIn, ExemptionOut
from registry.web.inputs import RowId


def exemption_out(record: exemptions.ExemptionRecord) -> ExemptionOut:
    return ExemptionOut(
        id=record.id,
        registration_number=record.registration_number,
        name=record.name,
        kind=record.kind,
        reason=record.reason,
        starts_on=record.starts_on,
        ends_on=record.ends_on,
        days=record.days,
        state=record.state,
        requested_at=record.requested_at,
        decided_at=record.decided_at,
        decision_reason=record.decision_reason,
    )


class MyExemptionsController(Controller):
    path = "/me/cpd/exemptions"
    tags = ["Your CPD"]

    @get("/", name="api_cpd_my_exemptions", summary="Your requests for an exemption from CPD")
    async def list_own(self, request: SignedInRequest) -> list[ExemptionOut]:
        return [exemption_out(each) for each in await exemptions.list_own(request.user.id)]

    @post(
        "/",
        name="api_cpd_exemption_request",
        status_code=HTTP_201_CREATED,
        summary="Ask a registrar to exempt some days from your CPD requirement",
    )
    async def ask(self, request: SignedInRequest, data: JSONBody[ExemptionIn]) -> ExemptionOut:
        return exemption_out(await exemptions.request(request.user.id, data))


class ExemptionsController(Controller):
    path = "/cpd/exemptions"
    tags = ["CPD exemptions"]

    @get("/", name="api_cpd_exemptions", summary="Exemption requests, those waiting first")
    async def list_all(
        self, waiting: Annotated[bool, QueryParameter(title="Waiting only")] = False
    ) -> list[ExemptionOut]:
        return [exemption_out(each) for each in await exemptions.list_all(waiting_only=waiting)]

    @get("/{exemption_id:int}", name="api_cpd_exemption", summary="One exemption request")
    async def one(self, exemption_id: RowId) -> ExemptionOut:
        return exemption_out(await exemptions.get(exemption_id))

    @post(
        "/{exemption_id:int}/grant",
        name="api_cpd_exemption_grant",
        status_code=HTTP_200_OK,
        summary="Grant an exemption: the year's targets shrink pro rata by its days",
    )
    async def grant(
        self,
        request: SignedInRequest,
        exemption_id: RowId,
        data: JSONBody[ExemptionDecisionIn],
    ) -> ExemptionOut:
        decided = await exemptions.decide(
            exemption_id, grant=True, reason=data.reason, by_user_id=request.user.id
        )
        return exemption_out(decided)

    @post(
        "/{exemption_id:int}/refuse",
        name="api_cpd_exemption_refuse",
        status_code=HTTP_200_OK,
        summary="Refuse an exemption, saying why",
    )
    async def refuse(
        self,
        request: SignedInRequest,
        exemption_id: RowId,
        data: JSONBody[ExemptionDecisionIn],
    ) -> ExemptionOut:
        decided = await exemptions.decide(
            exemption_id, grant=False, reason=data.reason, by_user_id=request.user.id
        )
        return exemption_out(decided)
