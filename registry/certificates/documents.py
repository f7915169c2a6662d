"""A stored certificate as the files a practitioner downloads: its PDF and its credential.

No HTTP and no database here: a :class:`~registry.certificates.service.CertificateRecord` in,
bytes out. The PDF states what the certificate certified when it was issued (its ``certified``
facts), its QR code opens the absolute ``/verify/{serial}`` address, and it carries the signed
credential byte for byte, so the JSON downloaded on its own and the JSON inside the PDF are the
same document.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from registry.certificates.keys import issuer
from registry.certificates.pdf import (
    CREDENTIAL_MEDIA_TYPE,
    ActivityTable,
    CertificateFacts,
    long_date,
    render_certificate,
)
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
    """The download's name. A serial's check character may be one of ``*~$=``, which browsers
    replace on saving (``*`` is not allowed in a Windows file name): say "_" for it here so the
    name the person sees is the name we sent."""
    number = str(record.certified.get("registrationNumber", "")) or "certificate"
    serial = re.sub(r"[^0-9A-Z-]", "_", record.display_serial)
    return f"{number}-{serial}.{extension}"


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
    activities: ActivityTable | None = None
    if record.kind is CertificateKind.cpd_statement:
        cpd = certified.get("cpd") or {}
        summary = _cpd_summary(certified.get("registrationYear", ""), cpd, issued_on)
        activities = _cpd_activities(cpd)
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
        activities=activities,
    )


def _cpd_summary(year: Any, cpd: dict[str, Any], issued_on: date) -> tuple[tuple[str, str], ...]:
    """The CPD statement's rows in words: the year, the totals, then each rule against its target
    and whether it was met (the CPD domain's summary, see ``registry.cpd.statement``)."""
    rows: list[tuple[str, str]] = []
    if year:
        rows.append(("Registration year", str(year)))
    if "startsOn" in cpd and "endsOn" in cpd:
        first, last = _day(cpd["startsOn"], issued_on), _day(cpd["endsOn"], issued_on)
        rows.append(("Year ran", f"{long_date(first)} to {long_date(last)}"))
    if "hours" in cpd:
        rows.append(("Hours logged", str(cpd["hours"])))
    if "activities" in cpd:
        rows.append(("Activities logged", str(cpd["activities"])))
    if cpd.get("exemptDays"):
        rows.append(("Days exempt", str(cpd["exemptDays"])))
    for rule in cpd.get("rules", []):
        verdict = "Met" if rule.get("met") else "Not met"
        rows.append((str(rule.get("rule", "")), f"{rule.get('progress', '')}: {verdict}"))
    if "requirementMet" in cpd:
        rows.append(("Requirement for the year", "Met" if cpd["requirementMet"] else "Not met"))
    return tuple(rows)


def _cpd_activities(cpd: dict[str, Any]) -> ActivityTable | None:
    columns, rows = cpd.get("activityColumns"), cpd.get("activityRows")
    if not columns or not rows:
        return None
    return ActivityTable(
        columns=[str(column) for column in columns],
        rows=[[str(cell) for cell in row] for row in rows],
    )


def pdf_of(record: CertificateRecord) -> bytes:
    return render_certificate(facts_of(record))
