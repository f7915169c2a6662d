"""The CPD audit through the API: a chosen practitioner's profile (``/me/cpd/audit``), the
assessors' and registrars' moves on a case, and the statistics per year (``/cpd/audit``).
Thin: parse, call the workflow, shape the answer."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from registry.accounts.auth import SignedInRequest
from registry.cpd import activities, audit_workflow
from registry.cpd.audit_workflow import CaseRecord, Move, Profile
from registry.cpd.schemas import chosen
from registry.cpd.tables import AuditCase, AuditCaseState
from registry.web.forms import Form
from registry.web.inputs import LARGEST_ID, Day, MultilineText, RowId

LONG = audit_workflow.MAX_TEXT
ActivityId = Annotated[int, Field(ge=1, le=LARGEST_ID)]  # one of the practitioner's


class ProfileIn(Form):
    model_config = ConfigDict(extra="forbid")

    summary_of_practice: MultilineText = Field(max_length=LONG, title="Summary of practice")
    activity_ids: list[ActivityId] = Field(max_length=200, title="Activities chosen")
    statements: dict[
        Annotated[str, Field(max_length=40)], Annotated[MultilineText, Field(max_length=LONG)]
    ] = Field(title="How you met each standard", description="Standard code -> statement")


class InformationIn(Form):
    model_config = ConfigDict(extra="forbid")

    information: MultilineText = Field(max_length=LONG, title="The information asked for")


class AssessmentIn(Form):
    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[
        Literal["meets", "does_not_meet", "request_information"],
        BeforeValidator(chosen("Select whether the profile meets the standards")),
    ] = Field(title="Outcome")
    reasons: MultilineText = Field(max_length=LONG, title="Reasons")
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)


class ModerationIn(Form):
    model_config = ConfigDict(extra="forbid")

    agrees: Annotated[
        bool, BeforeValidator(chosen("Select yes if you agree with the decision"))
    ] = Field(title="Agrees with the decision")
    notes: MultilineText = Field(max_length=LONG, title="Notes")


class DecisionIn(Form):
    model_config = ConfigDict(extra="forbid")

    decision: Annotated[
        Literal["advise", "extend", "lapse"], BeforeValidator(chosen("Select a decision"))
    ] = Field(title="Decision")
    reasons: MultilineText = Field(max_length=LONG, title="Reasons")
    new_due_on: Day = Field(default=None, title="New date for the profile")


class CaseOut(BaseModel):
    id: int
    registration_year: int
    state: AuditCaseState
    due_on: date
    summary_of_practice: str
    chosen_activities: list[int]
    statements: dict[str, str]
    information: str
    decision_reasons: str
    for_moderation: bool
    moderated: bool
    moderation_agrees: bool | None
    version: int


class YearStatisticsOut(BaseModel):
    registration_year: int
    eligible: int
    sampled: int
    submitted: int
    on_time: int
    met: int
    not_met: int
    outcomes: dict[str, int]


def case_out(case: CaseRecord) -> CaseOut:
    return CaseOut(
        id=case.id,
        registration_year=case.registration_year,
        state=case.state,
        due_on=case.due_on,
        summary_of_practice=case.summary_of_practice,
        chosen_activities=case.chosen_activities,
        statements=case.statements,
        information=case.information,
        decision_reasons=case.decision_reasons,
        for_moderation=case.for_moderation,
        moderated=case.moderated_by is not None,
        moderation_agrees=case.moderation_agrees,
        version=case.version,
    )


class MyAuditController(Controller):
    path = "/me/cpd/audit"
    tags = ["Your CPD"]

    @get(
        "/", name="api_cpd_my_audit", summary="Your CPD audits: the years chosen and where each is"
    )
    async def mine(self, request: SignedInRequest) -> list[CaseOut]:
        owner = await activities.owner_of(request.user.id)
        rows = await AuditCase.select(AuditCase.id).where(
            AuditCase.practitioner == owner.practitioner_id
        )
        return [case_out(await audit_workflow.get_case(row["id"])) for row in rows]

    @post(
        "/{case_id:int}/profile",
        name="api_cpd_audit_submit",
        status_code=HTTP_200_OK,
        summary="Submit your CPD profile for an audit (once)",
    )
    async def submit(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[ProfileIn]
    ) -> CaseOut:
        profile = Profile(data.summary_of_practice, data.activity_ids, dict(data.statements))
        moved = await audit_workflow.perform(
            case_id, Move.submit, by_user_id=request.user.id, profile=profile
        )
        return case_out(moved)

    @post(
        "/{case_id:int}/information",
        name="api_cpd_audit_inform",
        status_code=HTTP_200_OK,
        summary="Send the information an assessor asked for",
    )
    async def inform(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[InformationIn]
    ) -> CaseOut:
        moved = await audit_workflow.perform(
            case_id, Move.add_information, by_user_id=request.user.id, reason=data.information
        )
        return case_out(moved)


class AuditController(Controller):
    path = "/cpd/audit"
    tags = ["CPD audit"]

    @get("/cases", name="api_cpd_audit_cases", summary="Audit cases, oldest first")
    async def cases(
        self,
        in_state: Annotated[
            AuditCaseState | None, QueryParameter(name="state", title="State")
        ] = None,
    ) -> list[CaseOut]:
        query = AuditCase.select(AuditCase.id).order_by(AuditCase.id)
        if in_state is not None:
            query = query.where(AuditCase.state == in_state.value)
        return [case_out(await audit_workflow.get_case(row["id"])) for row in await query]

    @get("/cases/{case_id:int}", name="api_cpd_audit_case", summary="One audit case")
    async def case(self, case_id: RowId) -> CaseOut:
        return case_out(await audit_workflow.get_case(case_id))

    @post(
        "/cases/{case_id:int}/assessment",
        name="api_cpd_audit_assess",
        status_code=HTTP_200_OK,
        summary="An assessor's decision on a submitted profile, with reasons",
    )
    async def assess(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[AssessmentIn]
    ) -> CaseOut:
        move = {
            "meets": Move.meets,
            "does_not_meet": Move.does_not_meet,
            "request_information": Move.request_information,
        }[data.outcome]
        moved = await audit_workflow.perform(
            case_id, move, by_user_id=request.user.id, reason=data.reasons, version=data.version
        )
        return case_out(moved)

    @post(
        "/cases/{case_id:int}/moderation",
        name="api_cpd_audit_moderate",
        status_code=HTTP_200_OK,
        summary="A second assessor's moderation of a decision (never their own)",
    )
    async def moderate(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[ModerationIn]
    ) -> CaseOut:
        moved = await audit_workflow.moderate(
            case_id, by_user_id=request.user.id, agrees=data.agrees, notes=data.notes
        )
        return case_out(moved)

    @post(
        "/cases/{case_id:int}/decision",
        name="api_cpd_audit_decide",
        status_code=HTTP_200_OK,
        summary="A registrar's decision on a case referred: advice, more time, or lapse",
    )
    async def decide(
        self, request: SignedInRequest, case_id: RowId, data: JSONBody[DecisionIn]
    ) -> CaseOut:
        moved = await audit_workflow.perform(
            case_id,
            Move(data.decision),
            by_user_id=request.user.id,
            reason=data.reasons,
            new_due_on=data.new_due_on,
        )
        return case_out(moved)

    @get("/statistics", name="api_cpd_audit_statistics", summary="The audit's figures per year")
    async def statistics(self) -> list[YearStatisticsOut]:
        return [YearStatisticsOut(**vars(year)) for year in await audit_workflow.statistics()]

    @get(
        "/statistics.csv",
        name="api_cpd_audit_statistics_csv",
        summary="The audit's figures per year as CSV",
        media_type="text/csv",
    )
    async def statistics_csv(self) -> Response[bytes]:
        return Response(await statistics_csv(), media_type="text/csv; charset=utf-8")


CSV_COLUMNS = ("registration_year", "eligible", "sampled", "submitted", "on_time", "met", "not_met")


async def statistics_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    states = [state.value for state in AuditCaseState]
    writer.writerow([*CSV_COLUMNS, *(f"now_{state}" for state in states)])
    for year in await audit_workflow.statistics():
        writer.writerow(
            [*(getattr(year, column) for column in CSV_COLUMNS)]
            + [year.outcomes.get(state, 0) for state in states]
        )
    return out.getvalue().encode()
