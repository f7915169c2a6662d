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
