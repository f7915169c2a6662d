"""Verification in the API, the published status lists and the issuer's key document.

``POST /api/v1/verify`` takes a serial or a whole credential. ``/status-lists/{name}`` and
``/.well-known/did.json`` are public documents any verifier fetches; the status lists carry an
``ETag`` and revalidate on every use (``max-age=0``), so a change of status is never served stale.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter

from registry.accounts.auth import SignedInRequest
from registry.certificates import documents, service, status_lists
from registry.certificates.keys import issuer
from registry.certificates.pages import own_certificate
from registry.certificates.schemas import (
    CertificateOut,
    CertificateWithCredentialOut,
    CheckOut,
    VerificationOut,
    VerifyIn,
)
from registry.core import clock
from registry.errors import InvalidInput
from registry.register import renewals
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
    async def verify(
        self, request: Request[Any, Any, Any], data: JSONBody[VerifyIn]
    ) -> VerificationOut:
        if bool(data.serial) == (data.credential is not None):
            raise InvalidInput(
                "Send either the certificate's serial or its credential, not both",
                field="serial",
            )
        if data.credential is None:
            return verification_out(await service.verify(data.serial))
        # The body as sent (read once already, for ``data``) is what the credential is known by.
        sent = await request.body()
        return verification_out(await service.verify(data.credential, sent=sent))


# A serial as printed (27 letters and digits in groups of four); a longer one names nothing.
Serial = Annotated[
    str, PathParameter(max_length=60, description="As printed on the certificate, e.g. 0ABC-…")
]


def certificate_out(
    record: service.CertificateRecord, found: service.Verification
) -> CertificateOut:
    shown = record.display_serial
    return CertificateOut(
        serial=shown,
        kind=record.kind.value,
        issued_at=record.issued_at,
        valid_until=record.valid_until,
        revoked_at=record.revoked_at,
        verification=verification_out(found),
        pdf_url=f"/your-certificates/{shown}/pdf",
        credential_url=f"/your-certificates/{shown}/json",
        verify_url=documents.verify_url(record.serial),
    )


class MyCertificatesController(Controller):
    path = "/me/certificates"
    tags = ["Certificates"]

    @get("/", name="api_my_certificates", summary="Your certificates, each valid now or not")
    async def list_certificates(self, request: SignedInRequest) -> list[CertificateOut]:
        entry = await renewals.practitioner_entry(request.user.id)
        found = await service.certificates_of(entry.id) if entry else []
        return [certificate_out(item.certificate, item.verification) for item in found]

    @get(
        "/{serial:str}",
        name="api_my_certificate",
        summary="One of your certificates, with its signed credential",
    )
    async def one(self, request: SignedInRequest, serial: Serial) -> CertificateWithCredentialOut:
        record = await own_certificate(request, serial)
        out = certificate_out(record, await service.verify_record(record))
        return CertificateWithCredentialOut(**out.model_dump(), credential=record.credential)


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
