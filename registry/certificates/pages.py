"""Certificates in the browser: anyone checks one (``/verify``), a practitioner downloads their
own (``/your-certificates``).

``/verify/{serial}`` is what a certificate's QR code opens. ``/verify`` takes a serial typed in
or the credential file uploaded; an uploaded file is read, checked and forgotten: nothing is
stored. The practitioner's pages work on the signed-in practitioner's own entry, found from their
account, so another person's certificate is not found (404), whatever serial is asked for.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_404_NOT_FOUND, HTTP_422_UNPROCESSABLE_ENTITY

from registry import text
from registry.accounts.auth import SignedInRequest
from registry.certificates import documents, serials, service
from registry.certificates.service import CertificateRecord, Verification
from registry.core import clock
from registry.errors import InvalidInput, NotFound
from registry.register import renewals
from registry.web.forms import FormErrors, read_form

AnyRequest = Request[Any, Any, Any]
SEE_OTHER: Literal[303] = 303
VERIFY_PAGE = "certificates/verify.html"
# A credential is at most 64 KB; the form's own parts and a generous margin for its encoding.
UPLOAD_BODY_LIMIT = service.MAX_CREDENTIAL_BYTES * 4
MAX_KB = service.MAX_CREDENTIAL_BYTES // 1024
NOT_A_CREDENTIAL = (
    "The file is not a certificate credential. Choose the .json file downloaded with the "
    "certificate"
)


def _verify_form(
    errors: FormErrors, values: dict[str, str] | None = None, status: int | None = None
) -> Template:
    return Template(
        VERIFY_PAGE,
        context={"values": values or {}, "max_kb": MAX_KB, **errors.context()},
        status_code=status or errors.status_code,
    )


def _result(verification: Verification, *, serial: str = "", uploaded: str = "") -> Template:
    return Template(
        "certificates/verified.html",
        context={
            "verification": verification,
            "serial": serial or serials.display(verification.serial[:40]),
            "uploaded": uploaded,
            "checked_at": clock.now(),
        },
    )


def _not_found(serial: str, message: str) -> Template:
    return Template(
        "certificates/not_found.html",
        context={"serial": serial, "detail": message},
        status_code=HTTP_404_NOT_FOUND,
    )


class VerifyPages(Controller):
    path = "/verify"
    include_in_schema = False

    @get("/", name="verify_start")
    async def start(self) -> Template:
        return _verify_form(FormErrors())

    @post("/", name="verify_submit", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def submit(self, request: AnyRequest) -> Template | Redirect:
        values = await read_form(request)
        upload = values.get("credential")
        if isinstance(upload, UploadFile) and (upload.filename or "").strip():
            return await _check_upload(upload)
        serial = values.get("serial", "")
        typed = serial.strip() if isinstance(serial, str) else ""
        errors = FormErrors()
        if values.get("action") == "file":  # the file's own button, with no file chosen
            errors.add("credential", "Choose the certificate's .json file")
            return _verify_form(errors)
        if not typed:
            errors.add("serial", "Enter the certificate's serial number, or choose its file")
            return _verify_form(errors)
        with errors.catch(InvalidInput, NotFound, field="serial"):
            record = await service.get(typed)
            return Redirect(f"/verify/{record.display_serial}", status_code=SEE_OTHER)
        return _verify_form(errors, {"serial": typed})

    @get("/{serial:str}", name="verify_certificate")
    async def certificate(self, serial: FromPath[str]) -> Template:
        errors = FormErrors()
        with errors.catch(InvalidInput, field="serial"):
            try:
                record = await service.get(serial)
            except NotFound as error:  # well formed, but not issued here: a page of its own
                return _not_found(serial[:60], error.detail)
            return _result(await service.verify_record(record), serial=record.display_serial)
        return _verify_form(errors, {"serial": serial[:60]}, HTTP_422_UNPROCESSABLE_ENTITY)


async def _check_upload(upload: UploadFile) -> Template:
    """Verify an uploaded credential file, or say plainly what is wrong with it."""
    errors = FormErrors()
    data = await upload.read(service.MAX_CREDENTIAL_BYTES + 1)
    name = upload.filename or ""
    # The name is shown back on the page: one that reorders its own text is refused.
    problem = text.text_problem(name, "The file's name")
    if problem:
        errors.add("credential", problem)
    elif not data:
        errors.add("credential", "The chosen file is empty")
    elif len(data) > service.MAX_CREDENTIAL_BYTES:
        errors.add("credential", f"The file must be {MAX_KB} KB or smaller")
    else:
        try:
            credential = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            errors.add("credential", f"{NOT_A_CREDENTIAL}: this file is not JSON")
        else:
            if not isinstance(credential, dict):
                errors.add("credential", NOT_A_CREDENTIAL)
            else:
                with errors.catch(InvalidInput, field="credential"):
                    return _result(await service.verify(credential), uploaded=name)
    return _verify_form(errors)


# --- the practitioner's own certificates -------------------------------------------------------


async def own_certificate(request: SignedInRequest, serial: str) -> CertificateRecord:
    """One of the signed-in practitioner's certificates; anyone else's is not found."""
    entry = await renewals.practitioner_entry(request.user.id)
    record = await service.get(serial)
    if entry is None or record.entry_id != entry.id:
        raise NotFound(f"You have no certificate with the serial {serials.display(record.serial)}")
    return record


def download(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "private, no-store",
        },
    )


class YourCertificatesPages(Controller):
    path = "/your-certificates"
    include_in_schema = False

    @get("/", name="your_certificates")
    async def page(self, request: SignedInRequest) -> Template:
        entry = await renewals.practitioner_entry(request.user.id)
        found = await service.certificates_of(entry.id) if entry else []
        return Template(
            "certificates/your_certificates.html", context={"entry": entry, "certificates": found}
        )

    @get("/{serial:str}/pdf", name="your_certificate_pdf")
    async def pdf(self, request: SignedInRequest, serial: FromPath[str]) -> Response[bytes]:
        record = await own_certificate(request, serial)
        # Rendering takes tens of milliseconds of CPU: off the event loop.
        pdf = await anyio.to_thread.run_sync(documents.pdf_of, record)
        return download(pdf, documents.PDF_MEDIA_TYPE, documents.filename(record, "pdf"))

    @get("/{serial:str}/json", name="your_certificate_json")
    async def credential(self, request: SignedInRequest, serial: FromPath[str]) -> Response[bytes]:
        record = await own_certificate(request, serial)
        return download(
            documents.credential_bytes(record),
            documents.JSON_MEDIA_TYPE,
            documents.filename(record, "json"),
        )
