"""Verification in the API, the published status lists and the issuer's key document.

``POST /api/v1/verify`` takes a serial or a whole credential. ``/status-lists/{name}`` and
``/.well-known/did.json`` are public documents any verifier fetches; the status lists carry an
``ETag`` and revalidate on every use (``max-age=0``), so a change of status is never served stale.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter

from registry.certificates import service, status_lists
from registry.certificates.keys import issuer
from registry.certificates.schemas import CheckOut, VerificationOut, VerifyIn
from registry.core import clock
from registry.errors import InvalidInput
from registry.register.api import NOT_MODIFIED, IfNoneMatch, cached_json
from registry.web.api_errors import problem_responses

# A list's name, like ``revocation`` or ``suspension-2``; a longer one names nothing (404).
ListName = Annotated[str, PathParameter(max_length=40, description="revocation or suspension")]


def verification_out(found: service.Verification) -> VerificationOut:
    return VerificationOut(
        valid=found.valid,
        verdict=found.verdict,
        checks=[
            CheckOut(name=c.name, passed=c.passed, label=c.label, detail=c.detail)
            for c in found.checks
        ],
        serial=found.serial,
        registration_number=found.registration_number,
        name=found.name,
        status=found.status,
        restrictions=list(found.restrictions or []),
        checked_at=clock.now().astimezone(UTC),
    )


class VerifyController(Controller):
    path = "/verify"
    tags = ["Certificates"]

    @post(
        "/",
        name="api_verify",
        status_code=200,
        summary="Verify a certificate by its serial or its credential",
        request_max_body_size=service.MAX_CREDENTIAL_BYTES,
    )
    async def verify(self, data: JSONBody[VerifyIn]) -> VerificationOut:
        if bool(data.serial) == (data.credential is not None):
            raise InvalidInput(
                "Send either the certificate's serial or its credential, not both",
                field="serial",
            )
        target: str | dict[str, Any] = data.serial if data.credential is None else data.credential
        return verification_out(await service.verify(target))


class PublishedDocuments(Controller):
    tags = ["Certificates"]

    @get(
        "/status-lists/{name:str}",
        name="status_list",
        summary="A status list of certificates (W3C Bitstring Status List)",
        responses={
            200: ResponseSpec(dict[str, Any], description="BitstringStatusListCredential"),
            **NOT_MODIFIED,
            **problem_responses(404, 422),
        },
    )
    async def status_list(self, name: ListName, if_none_match: IfNoneMatch = "") -> Response[bytes]:
        found = await status_lists.served(name)
        return cached_json(found.body, found.etag, if_none_match)

    @get(
        "/.well-known/did.json",
        name="did_document",
        summary="The issuer's keys (did:web)",
        responses={200: ResponseSpec(dict[str, Any], description="The DID document")},
    )
    async def did_document(self) -> Response[bytes]:
        body = json.dumps(issuer().did_document()).encode()
        return Response(
            body, media_type="application/json", headers={"cache-control": "public, max-age=300"}
        )
