"""What crosses the edge for certificates: a verification asked for, and its answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from registry.web.inputs import Text


class VerifyIn(BaseModel):
    """A serial as printed on a certificate, or the whole credential (its JSON document)."""

    serial: Text = Field(default="", max_length=60, description="e.g. 0ABC-DEF1-…")
    credential: dict[str, Any] | None = Field(
        default=None, description="The certificate's Verifiable Credential, as downloaded"
    )


class CheckOut(BaseModel):
    name: str = Field(
        description="signature_valid, issued_by_register, not_revoked, not_suspended, "
        "not_expired or registered"
    )
    passed: bool
    label: str
    detail: str


class VerificationOut(BaseModel):
    valid: bool
    verdict: str = Field(description="The answer in one plain-English sentence")
    checks: list[CheckOut]
    serial: str
    registration_number: str
    name: str
    status: str = Field(description="The live register status, empty when not on the register")
    restrictions: list[str]
    checked_at: datetime


class CertificateOut(BaseModel):
    """One of your certificates, with whether it is valid now."""

    serial: str = Field(description="As printed on the certificate, in groups of four")
    kind: str = Field(description="registration or cpd_statement")
    issued_at: datetime
    valid_until: datetime
    revoked_at: datetime | None
    verification: VerificationOut
    pdf_url: str = Field(description="Download the certificate as a PDF")
    credential_url: str = Field(description="Download the signed credential as a file")
    verify_url: str = Field(description="The public page that checks it: what its QR code opens")


class CertificateWithCredentialOut(CertificateOut):
    credential: dict[str, Any] = Field(description="The signed Verifiable Credential")
