"""The CPD API: a practitioner's own activity log and progress (``/me/cpd``, with their token),
and rule packs for admins. Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pydantic_core
from litestar import Controller, Request, delete, get, post, put
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import File, Response
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from litestar.types import Scope
from pydantic import BaseModel

from registry.accounts.auth import SignedInRequest
from registry.config import Settings
from registry.cpd import activities, export, packs, progress, statement
from registry.cpd.schemas import (
    ActivityIn,
    ActivityOut,
    EvidenceOut,
    RulePackIn,
    RulePackOut,
    RuleProgressOut,
    StatementOut,
    YearProgressOut,
)
from registry.register import evidence
from registry.register.evidence import EvidenceUpload, download
from registry.register.renewals import RenewalCalendar
from registry.web.fastpath import Answer, created
from registry.web.inputs import YEARS, RowId

AnyRequest = Request[Any, Any, Any]
ChangeReason = Annotated[
    str,
    QueryParameter(
        max_length=2_000,
        title="Reason for the change",
        description="Needed once the activity's year was declared at renewal",
    ),
]
RequiredYear = Annotated[int, QueryParameter(ge=YEARS[0], le=YEARS[1], title="Registration year")]
Year = Annotated[
    int | None,
    QueryParameter(ge=YEARS[0], le=YEARS[1], title="Registration year"),
]


def encoded_once(model: BaseModel) -> msgspec.Raw:
    """A pydantic answer as JSON in one pass of pydantic's own (Rust) serialiser, which msgspec
    copies into the body as it stands. Litestar's default dumps the model to a dict of Python
    objects and has msgspec walk it again, a third of a write's response cost; the bytes are the
    same (tests/cpd/test_api.py compares them)."""
    return msgspec.Raw(pydantic_core.to_json(model))


# Every answer of the practitioner's CPD API is one of these models (or a list of them).
ENCODE_ONCE = {BaseModel: encoded_once}


def calendar_of(request: AnyRequest) -> RenewalCalendar:
    settings: Settings = request.app.state.settings
    return RenewalCalendar.from_settings(settings)


def data_dir_of(request: AnyRequest) -> Any:
    settings: Settings = request.app.state.settings
    return settings.data_dir


async def activity_create_answer(body: bytes, scope: Scope) -> Answer | None:
    """``POST /api/v1/me/cpd/activities`` for :class:`~registry.web.fastpath.FastPaths`, as
    :meth:`MyCpdController.create` answers it: the body read as the framework reads it (msgspec's
    JSON, then the schema), the same service call, the same answer. None, having stored
    nothing, for whatever the schema or the service refuses: the framework answers that."""
    try:
        data = ActivityIn.model_validate(msgspec.json.decode(body))
        settings: Settings = scope["app"].state.settings
        record = await activities.record(
            scope["user"].id, data, RenewalCalendar.from_settings(settings)
        )
    except Exception:  # refused or failed, so not stored: the framework answers it in its words
        return None
    return created(activity_out(record))


def activity_out(record: activities.ActivityRecord) -> ActivityOut:
    return ActivityOut(
        id=record.id,
        title=record.title,
        done_on=record.done_on,
        registration_year=record.registration_year,
        hours=record.hours,
        activity_type=record.activity_type,
        participatory=record.participatory,
        practice_areas=[area.code for area in record.practice_areas],
        standards=[standard.code for standard in record.standards],
        what_happened=record.what_happened,
        what_learned=record.what_learned,
        practice_changed=record.practice_changed,
        reflective=record.reflective,
        peer_reflection=record.peer_reflection,
        peer_role=record.peer_role,
        evidence=[
            EvidenceOut(
                id=attached.id,
                filename=attached.stored.filename,
                content_type=attached.stored.content_type,
                size=attached.stored.size,
                sha256=attached.stored.sha256,
                url=f"/api/v1/me/cpd/activities/{record.id}/evidence/{attached.id}",
            )
            for attached in record.evidence
        ],
        rule_pack=record.rule_pack,
        editable=record.editable,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def year_out(year: progress.YearProgress) -> YearProgressOut:
    return YearProgressOut(
        registration_year=year.registration_year,
        starts_on=year.starts_on,
        ends_on=year.ends_on,
        rule_pack=year.pack.id,
        rule_pack_name=year.pack.name,
        activities=year.activities,
        exempt_days=year.exempt_days,
        days=year.days,
        rules=[
            RuleProgressOut(
                rule=rule.rule,
                label=rule.label,
                figure=rule.figure,
                target=rule.target,
                unit=rule.unit,
                summary=rule.summary,
                met=rule.met,
                still_needed=rule.still_needed,
            )
            for rule in year.rules
        ],
        met=year.met,
        declared=year.declared,
    )


def pack_out(pack: packs.Pack) -> RulePackOut:
    return RulePackOut(
        id=pack.id,
        name=pack.name,
        effective_from=pack.effective_from,
        min_total_hours=progress.hours(pack.min_total_quarters),
        min_participatory_hours=progress.hours(pack.min_participatory_quarters),
        min_reflective_accounts=pack.min_reflective_accounts,
        min_peer_reflections=pack.min_peer_reflections,
        min_practice_areas=pack.min_practice_areas,
        capped_type=pack.capped_type,
        cap_hours=progress.hours(pack.cap_quarters) if pack.cap_quarters is not None else None,
        created_at=pack.created_at,
    )


class MyCpdController(Controller):
    path = "/me/cpd"
    tags = ["Your CPD"]
    type_encoders = ENCODE_ONCE

    @get("/activities", name="api_cpd_activities", summary="Your CPD activities, newest first")
    async def list_activities(
        self, request: SignedInRequest, year: Year = None
    ) -> list[ActivityOut]:
        found = await activities.list_for(request.user.id, calendar_of(request), year=year)
        return [activity_out(record) for record in found]

    @post(
        "/activities",
        name="api_cpd_activity_create",
        status_code=HTTP_201_CREATED,
        summary="Record a CPD activity",
    )
    async def create(self, request: SignedInRequest, data: JSONBody[ActivityIn]) -> ActivityOut:
        return activity_out(await activities.record(request.user.id, data, calendar_of(request)))

    @get("/activities/{activity_id:int}", name="api_cpd_activity", summary="One of your activities")
    async def one(self, request: SignedInRequest, activity_id: RowId) -> ActivityOut:
        found = await activities.get(request.user.id, activity_id, calendar_of(request))
        return activity_out(found)

    @put(
        "/activities/{activity_id:int}",
        name="api_cpd_activity_update",
        summary="Change an activity (with a reason once its year is declared at renewal)",
    )
    async def change(
        self, request: SignedInRequest, activity_id: RowId, data: JSONBody[ActivityIn]
    ) -> ActivityOut:
        changed = await activities.update(request.user.id, activity_id, data, calendar_of(request))
        return activity_out(changed)

    @delete(
        "/activities/{activity_id:int}",
        name="api_cpd_activity_delete",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove an activity (with a reason once its year is declared at renewal)",
    )
    async def remove(
        self, request: SignedInRequest, activity_id: RowId, change_reason: ChangeReason = ""
    ) -> None:
        await activities.delete(
            request.user.id, activity_id, calendar_of(request), reason=change_reason
        )

    @post(
        "/activities/{activity_id:int}/evidence",
        name="api_cpd_evidence_add",
        status_code=HTTP_201_CREATED,
        summary="Attach an evidence file (PDF, PNG or JPEG, at most 10 MB) as multipart `data`",
        request_max_body_size=evidence.UPLOAD_BODY_LIMIT,
    )
    async def add_evidence(
        self,
        request: SignedInRequest,
        activity_id: RowId,
        data: Annotated[EvidenceUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        change_reason: ChangeReason = "",
    ) -> ActivityOut:
        filename, content = await evidence.read_upload(data.data)
        changed = await activities.attach_evidence(
            request.user.id,
            activity_id,
            filename,
            content,
            data_dir_of(request),
            calendar_of(request),
            reason=change_reason,
        )
        return activity_out(changed)

    @get(
        "/activities/{activity_id:int}/evidence/{evidence_id:int}",
        name="api_cpd_evidence",
        summary="Download one of your evidence files",
        responses=evidence.DOWNLOAD_RESPONSES,
    )
    async def evidence_file(
        self, request: SignedInRequest, activity_id: RowId, evidence_id: RowId
    ) -> File:
        stored = await activities.evidence_file(
            request.user.id, evidence_id, cpd_staff=False, activity_id=activity_id
        )
        return download(request, stored)

    @delete(
        "/activities/{activity_id:int}/evidence/{evidence_id:int}",
        name="api_cpd_evidence_remove",
        status_code=HTTP_204_NO_CONTENT,
        summary="Take an evidence file off an activity",
    )
    async def remove_evidence(
        self,
        request: SignedInRequest,
        activity_id: RowId,
        evidence_id: RowId,
        change_reason: ChangeReason = "",
    ) -> None:
        await activities.remove_evidence(
            request.user.id, activity_id, evidence_id, calendar_of(request), reason=change_reason
        )

    @post(
        "/statements",
        name="api_cpd_statement_issue",
        status_code=HTTP_201_CREATED,
        summary="Issue a CPD statement of a year: a certificate anyone can verify",
    )
    async def issue_statement(self, request: SignedInRequest, year: RequiredYear) -> StatementOut:
        issued = await statement.issue(request.user.id, year, calendar_of(request))
        return StatementOut(
            serial=issued.display_serial,
            registration_year=year,
            issued_at=issued.issued_at,
            valid_until=issued.valid_until,
            verify_url=str(issued.credential.get("id", "")),
        )

    @get(
        "/export.json",
        name="api_cpd_export_json",
        summary="Your whole CPD record as one JSON document, evidence by name and SHA-256",
        media_type="application/json",
        responses={200: ResponseSpec(dict[str, Any], description="The CPD record")},
    )
    async def export_json(self, request: SignedInRequest) -> Response[bytes]:
        content = await export.json_document(request.user.id, calendar_of(request))
        return Response(content, headers=export.download_headers("json"))

    @get(
        "/export.csv",
        name="api_cpd_export_csv",
        summary="Your whole CPD record as CSV, one activity a row",
        media_type="text/csv; charset=utf-8",
    )
    async def export_csv(self, request: SignedInRequest) -> Response[bytes]:
        content = await export.csv_document(request.user.id, calendar_of(request))
        return Response(content, headers=export.download_headers("csv"))

    @get(
        "/progress",
        name="api_cpd_progress",
        summary="Each rule of each registration year: the figure against its target",
    )
    async def your_progress(
        self, request: SignedInRequest, year: Year = None
    ) -> list[YearProgressOut]:
        calendar = calendar_of(request)
        if year is not None:
            return [year_out(await progress.progress_for_year(request.user.id, year, calendar))]
        return [year_out(each) for each in await progress.progress(request.user.id, calendar)]


class RulePackController(Controller):
    path = "/admin/cpd/rule-packs"
    tags = ["CPD administration"]

    @get("/", name="api_cpd_rule_packs", summary="Every CPD rule pack, the newest first")
    async def list_packs(self) -> list[RulePackOut]:
        return [pack_out(pack) for pack in await packs.list_packs()]

    @post(
        "/",
        name="api_cpd_rule_pack_create",
        status_code=HTTP_201_CREATED,
        summary="Make a rule pack, in force from a future date (packs are never edited)",
    )
    async def create(self, request: SignedInRequest, data: JSONBody[RulePackIn]) -> RulePackOut:
        return pack_out(await packs.create_pack(data, by_user_id=request.user.id))
