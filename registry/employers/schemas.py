"""What crosses the edge for employers: organisations, members, keys, bulk checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.employers.checks import MAX_NUMBERS
from registry.employers.tables import KeyScope, OrganisationStatus
from registry.register.schemas import CodeAndName
from registry.register.tables import RegisterStatus
from registry.web.inputs import MultilineText, Text


class OrganisationIn(BaseModel):
    """An organisation made by staff, approved at once; its contact is invited to administer it."""

    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=160)
    contact_name: Text = Field(min_length=1, max_length=120)
    contact_email: Text = Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: MultilineText = Field(
        min_length=1, max_length=5000, description="Why: recorded and sent to the requester"
    )


class OrganisationOut(BaseModel):
    id: int
    name: str
    status: OrganisationStatus
    contact_name: str
    contact_email: str
    created_at: datetime
    decided_at: datetime | None
    decision_reason: str
    key_calls_per_minute: int


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    is_admin: bool
    active: bool
    added_at: datetime


class YourOrganisationOut(BaseModel):
    organisation: OrganisationOut
    you_administer_it: bool
    members: list[MemberOut]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Text = Field(min_length=3, max_length=254, json_schema_extra={"format": "email"})
    display_name: Text = Field(min_length=1, max_length=120)
    admin: bool = Field(default=False, description="Whether they may manage members and keys")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=80, description="What the key is for")
    scopes: list[KeyScope] = Field(min_length=1, max_length=len(KeyScope))


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The start of the key, to recognise it")
    scopes: list[KeyScope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKeyOut(ApiKeyOut):
    key: str = Field(
        description="The whole key (ppr_live_…). It is shown once: store it now. Send it as "
        "`Authorization: Bearer ppr_live_…`."
    )


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Not capped here: a longer list is refused with 413, naming the limit.
    registration_numbers: list[Annotated[str, Field(max_length=100)]] = Field(
        description=f"Up to {MAX_NUMBERS:,} registration numbers, in any order; duplicates are "
        "answered once per occurrence",
        examples=[["PR1000011", "pr 100002 9"]],
    )


class VerificationRestriction(BaseModel):
    kind: str
    summary: str
    starts_on: date
    ends_on: date | None
    decision_url: str


class VerificationResult(BaseModel):
    input: str = Field(description="The input as sent")
    registration_number: str | None = Field(description="The number as stored; null if malformed")
    status: RegisterStatus | Literal["not_found", "malformed"]
    status_label: str
    name: str | None
    roles: list[CodeAndName]
    restrictions: list[VerificationRestriction] = Field(description="Orders in force today")
    message: str | None = Field(description="Why the input was not found or is malformed")
    checked_at: datetime


class VerificationResults(BaseModel):
    check_id: int = Field(description="The record of this check in your organisation's history")
    checked_at: datetime
    count: int
    results: list[VerificationResult] = Field(description="One per input, in input order")


class BulkCheckOut(BaseModel):
    id: int
    checked_at: datetime
    numbers: int
    list_sha256: str
    by: str = Field(description="The person, or the key, that made the check")
