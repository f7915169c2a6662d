"""A stored certificate as the files a practitioner downloads: its PDF and its credential.

No HTTP and no database here: a :class:`~registry.certificates.service.CertificateRecord` in,
bytes out. The PDF states what the certificate certified when it was issued (its ``certified``
facts), its QR code opens the absolute ``/verify/{serial}`` address, and it carries the signed
credential byte for byte, so the JSON downloaded on its own and the JSON inside the PDF are the
same document.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from registry.certificates.keys import issuer
from registry.certificates.pdf import CREDENTIAL_MEDIA_TYPE, CertificateFacts, render_certificate
from registry.certificates.service import CertificateRecord
from registry.certificates.tables import CertificateKind

TITLES = {
    CertificateKind.registration: "Certificate of registration",
    CertificateKind.cpd_statement: "Statement of continuing professional development",
}
JSON_MEDIA_TYPE = CREDENTIAL_MEDIA_TYPE
PDF_MEDIA_TYPE = "application/pdf"


def verify_url(serial: str) -> str:
    """The public address that checks the certificate: what its QR code opens."""
    return issuer().url(f"/verify/{serial}")


def credential_bytes(record: CertificateRecord) -> bytes:
    """The signed credential as a file: compact JSON, every character as issued."""
    return json.dumps(record.credential, separators=(",", ":"), ensure_ascii=False).encode()


def filename(record: CertificateRecord, extension: str) -> str:
    number = str(record.certified.get("registrationNumber", "")) or "certificate"
    return f"{number}-{record.display_serial}.{extension}"


def _day(value: Any, fallback: date) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return fallback


def facts_of(record: CertificateRecord) -> CertificateFacts:
    """What the PDF of ``record`` states, from the facts it certified when issued."""
    certified = record.certified
    issued_on = record.issued_at.date()
    summary: tuple[tuple[str, str], ...] = ()
    if record.kind is CertificateKind.cpd_statement:
        year = certified.get("registrationYear", "")
        cpd = certified.get("cpd") or {}
        summary = ((("Registration year", str(year)),) if year else ()) + tuple(
            (str(key).replace("_", " ").capitalize(), _said(value)) for key, value in cpd.items()
        )
    return CertificateFacts(
        kind=record.kind.value,
        title=TITLES[record.kind],
        practitioner_name=str(certified.get("name", "")),
        registration_number=str(certified.get("registrationNumber", "")),
        roles=[str(role) for role in certified.get("roles", [])],
        registered_since=_day(certified.get("registeredSince"), issued_on),
        valid_until=record.valid_until.date(),
        conditions=[str(condition) for condition in certified.get("conditions", [])],
        serial=record.display_serial,
        issued_on=issued_on,
        verify_url=verify_url(record.serial),
        credential_json=credential_bytes(record),
        summary=summary,
    )


def _said(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(_said(item) for item in value)
    return str(value)


def pdf_of(record: CertificateRecord) -> bytes:
    return render_certificate(facts_of(record))
