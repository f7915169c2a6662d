"""The employers API: your organisation, its members and keys, bulk checks; and, for
registrars, organisations and their requests. Thin: read, call the service, answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import (
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
)

from registry.accounts.auth import SignedInRequest
from registry.employers import checks, keys, organisations
from registry.employers.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    BulkCheckOut,
    DecisionIn,
    IssuedApiKeyOut,
    MemberIn,
    MemberOut,
    OrganisationIn,
    OrganisationOut,
    VerificationIn,
    VerificationResults,
    YourOrganisationOut,
)
from registry.errors import InvalidInput
from registry.web.inputs import RowId

KEYS_HINT = (
    " Send an organisation API key with the `verify` scope (`Authorization: Bearer "
    "ppr_live_…`), or a personal token of a member of the organisation."
)


def organisation_out(record: organisations.OrganisationRecord) -> OrganisationOut:
    return OrganisationOut(
        id=record.id,
        name=record.name,
        status=record.status,
        contact_name=record.contact_name,
        contact_email=record.contact_email,
        created_at=record.created_at,
        decided_at=record.decided_at,
        decision_reason=record.decision_reason,
        key_calls_per_minute=record.key_calls_per_minute,
    )


def member_out(record: organisations.MemberRecord) -> MemberOut:
    return MemberOut(
        user_id=record.user_id,
        email=record.email,
        display_name=record.display_name,
        is_admin=record.is_admin,
        active=record.active,
        added_at=record.added_at,
    )


def key_out(summary: keys.KeySummary) -> ApiKeyOut:
    return ApiKeyOut(
        id=summary.id,
        name=summary.name,
        prefix=summary.prefix,
        scopes=list(summary.scopes),
        created_at=summary.created_at,
        last_used_at=summary.last_used_at,
        revoked_at=summary.revoked_at,
    )


def check_out(row: dict[str, Any]) -> BulkCheckOut:
    by = row["user_name"] or (
        f"API key {row['key_name']} ({row['key_prefix']}…)" if row["key_name"] else ""
    )
    return BulkCheckOut(
        id=row["id"],
        checked_at=row["checked_at"],
        numbers=row["numbers"],
        list_sha256=row["list_sha256"],
        by=by or "Someone no longer on the service",
    )


async def checker_for(user: Any) -> checks.Checker:
    """Who is checking: a key (its calls counted against its limit) or a member."""
    if isinstance(user, keys.KeyHolder):
        await keys.take_call(user)
        return checks.Checker(user.organisation_id, api_key_id=user.key_id)
    membership = await organisations.require_membership(user.id)
    return checks.Checker(membership.organisation.id, user_id=user.id)


def answer(outcome: checks.Outcome) -> Response[bytes] | Stream:
    """The results, streamed when there are many."""
    if len(outcome.answers) <= checks.STREAM_AFTER:
        return Response(b"".join(checks.json_chunks(outcome)), media_type="application/json")
    return Stream(_pieces(outcome), media_type="application/json")


async def _pieces(outcome: checks.Outcome) -> AsyncIterator[bytes]:
    """The answer's pieces, each encoded in the event loop when the server asks for it: given
    a plain iterator, Litestar would hand every piece to a worker thread and back."""
    for piece in checks.json_chunks(outcome):
        yield piece


async def run_check(inputs: list[str], user: Any) -> checks.Outcome:
    checker = await checker_for(user)
    try:
        return await checks.check(inputs, checker)
    except checks.ListTooLong as error:
        raise HTTPException(
            status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail=error.detail
        ) from None


CSV_LIMIT = 2 * 1024 * 1024  # 10,000 numbers with several other columns fit well within it


@dataclass
class CsvUpload:
    """The multipart form of a CSV check: the file in its ``file`` part."""

    file: UploadFile | None = None


RESULTS = {200: ResponseSpec(VerificationResults, description="One result per input, in order")}


class VerificationController(Controller):
    path = "/verifications"
    tags = ["Employers"]

    @post(
        "/",
        name="api_verifications",
        status_code=200,
        summary="Check up to 10,000 registration numbers at once",
        description="One result per input, in input order, each with the status, name, roles and "
        "restrictions in force and the time of the check. More than 10,000 numbers: 413."
        + KEYS_HINT,
        responses=RESULTS,
    )
    async def verify(
        self, request: SignedInRequest, data: JSONBody[VerificationIn]
    ) -> Response[bytes] | Stream:
        return answer(await run_check(list(data.registration_numbers), request.user))

    @post(
        "/csv",
        name="api_verifications_csv",
        status_code=200,
        request_max_body_size=CSV_LIMIT + 64 * 1024,
        summary="Check the numbers in a CSV file's column",
        description="A multipart form whose `file` part is a CSV file (UTF-8) whose header row "
        "names the column of "
        "registration numbers (`registration_number` unless `column` says otherwise); blank "
        "cells are skipped." + KEYS_HINT,
        responses=RESULTS,
    )
    async def verify_csv(
        self,
        request: SignedInRequest,
        data: Annotated[CsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        column: Annotated[
            str, QueryParameter(min_length=1, max_length=60, description="The column to read")
        ] = checks.DEFAULT_COLUMN,
    ) -> Response[bytes] | Stream:
        if data.file is None:
            raise InvalidInput("Send the CSV file as the multipart part `file`", field="file")
        content = await data.file.read(CSV_LIMIT + 1)
        if len(content) > CSV_LIMIT:
            raise HTTPException(
                status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                detail=f"The file must be {CSV_LIMIT // (1024 * 1024)} MB or smaller",
            )
        try:
            inputs = checks.read_csv(content, column)
        except checks.ListTooLong as error:
            raise HTTPException(
                status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail=error.detail
            ) from None
        return answer(await run_check(inputs, request.user))


class YourOrganisationController(Controller):
    path = "/organisation"
    tags = ["Employers"]

    @get("/", name="api_organisation", summary="Your organisation and its members")
    async def mine(self, request: SignedInRequest) -> YourOrganisationOut:
        membership = await organisations.require_membership(request.user.id)
        found = await organisations.members(membership.organisation.id)
        return YourOrganisationOut(
            organisation=organisation_out(membership.organisation),
            you_administer_it=membership.is_admin,
            members=[member_out(m) for m in found],
        )

    @post(
        "/members",
        name="api_organisation_member_invite",
        status_code=HTTP_201_CREATED,
        summary="Invite a colleague (administrators)",
    )
    async def invite(self, request: SignedInRequest, data: JSONBody[MemberIn]) -> MemberOut:
        added = await organisations.invite_colleague(
            request.user.id, data.email, data.display_name, admin=data.admin
        )
        return member_out(added)

    @get("/keys", name="api_organisation_keys", summary="Your organisation's API keys")
    async def list_keys(self, request: SignedInRequest) -> list[ApiKeyOut]:
        membership = await organisations.require_membership(request.user.id)
        return [key_out(k) for k in await keys.list_keys(membership.organisation.id)]

    @post(
        "/keys",
        name="api_organisation_key_create",
        status_code=HTTP_201_CREATED,
        summary="Make an API key (administrators); shown once",
    )
    async def create_key(
        self, request: SignedInRequest, data: JSONBody[ApiKeyIn]
    ) -> IssuedApiKeyOut:
        summary, secret = await keys.issue_key(request.user.id, data.name, list(data.scopes))
        return IssuedApiKeyOut(**key_out(summary).model_dump(), key=secret)

    @delete(
        "/keys/{key_id:int}",
        name="api_organisation_key_revoke",
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke an API key (administrators)",
    )
    async def revoke_key(self, request: SignedInRequest, key_id: RowId) -> None:
        await keys.revoke_key(request.user.id, key_id)

    @get(
        "/checks", name="api_organisation_checks", summary="Your organisation's latest bulk checks"
    )
    async def checks(self, request: SignedInRequest) -> list[BulkCheckOut]:
        membership = await organisations.require_membership(request.user.id)
        return [check_out(row) for row in await checks.history(membership.organisation.id)]


class OrganisationsController(Controller):
    path = "/employers/organisations"
    tags = ["Employers"]

    @get("/", name="api_employer_organisations", summary="Organisations and requests for one")
    async def list_all(self) -> list[OrganisationOut]:
        return [organisation_out(o) for o in await organisations.list_all()]

    @post(
        "/",
        name="api_employer_organisation_create",
        status_code=HTTP_201_CREATED,
        summary="Make an organisation, approved at once; its contact is invited",
    )
    async def create(
        self, request: SignedInRequest, data: JSONBody[OrganisationIn]
    ) -> OrganisationOut:
        answers = organisations.check_contact(data.name, data.contact_name, data.contact_email)
        made = await organisations.create_organisation(answers, by_user_id=request.user.id)
        return organisation_out(made)

    @get("/{organisation_id:int}", name="api_employer_organisation", summary="One organisation")
    async def one(self, organisation_id: RowId) -> OrganisationOut:
        return organisation_out(await organisations.get(organisation_id))

    @post(
        "/{organisation_id:int}/approve",
        name="api_employer_organisation_approve",
        status_code=200,
        summary="Approve a request; the contact is invited to administer it",
    )
    async def approve(
        self, request: SignedInRequest, organisation_id: RowId, data: JSONBody[DecisionIn]
    ) -> OrganisationOut:
        decided = await organisations.decide(
            organisation_id, approve=True, reason=data.reason, by_user_id=request.user.id
        )
        return organisation_out(decided)

    @post(
        "/{organisation_id:int}/refuse",
        name="api_employer_organisation_refuse",
        status_code=200,
        summary="Refuse a request, with the reason sent to the requester",
    )
    async def refuse(
        self, request: SignedInRequest, organisation_id: RowId, data: JSONBody[DecisionIn]
    ) -> OrganisationOut:
        decided = await organisations.decide(
            organisation_id, approve=False, reason=data.reason, by_user_id=request.user.id
        )
        return organisation_out(decided)
