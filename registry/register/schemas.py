"""What crosses the edge for the register.

The public entry is its own schema, listing every field the public may see. It is never made by
filtering a private record: a field added to the practitioner table stays private until someone
adds it here on purpose.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from registry.register.tables import RegisterStatus
from registry.web.forms import Form
from registry.web.inputs import Text

STATUS_LABELS: dict[RegisterStatus, str] = {
    RegisterStatus.registered: "Registered",
    RegisterStatus.registered_with_conditions: "Registered with conditions",
    RegisterStatus.suspended: "Suspended",
    RegisterStatus.lapsed: "Lapsed",
    RegisterStatus.removed: "Removed",
    RegisterStatus.voluntarily_removed: "Voluntarily removed",
}

# How someone came off the register, in the words the public entry uses.
REMOVAL_REASONS: dict[RegisterStatus, str] = {
    RegisterStatus.lapsed: "The registration lapsed because it was not renewed",
    RegisterStatus.voluntarily_removed: "The practitioner asked to leave the register",
    RegisterStatus.removed: "Removed from the register by a fitness to practise decision",
}


class CodeAndName(BaseModel):
    code: str
    name: str


class PublicQualification(BaseModel):
    name: str
    awarded_on: date | None = None


class PublicRestriction(BaseModel):
    kind: str
    summary: str
    starts_on: date
    ends_on: date | None = None
    decision_url: str


class PublicEntry(BaseModel):
    """One entry on the public register: everything here is public, and nothing else is."""

    registration_number: str = Field(examples=["PR1000011"])
    name: str = Field(description="Given names then family name")
    given_names: str
    family_name: str
    roles: list[CodeAndName]
    region: CodeAndName
    status: RegisterStatus
    status_label: str
    registered_since: date
    registered_until: date
    qualifications: list[PublicQualification]
    restrictions: list[PublicRestriction] = Field(description="Orders and warnings in force")
    removed_on: date | None = Field(
        default=None,
        description="The day the practitioner left the register (lapsed, voluntarily removed or "
        "removed); null while they are on it",
    )
    removal_reason: str | None = Field(
        default=None, description="How they left the register; null while they are on it"
    )
    updated_at: datetime


class PublicSearchPage(BaseModel):
    items: list[PublicEntry]
    total: int = Field(description="Entries that match, counted up to 1,000")
    more: bool = Field(
        description="True when more than `total` entries match: narrow the search to see them all"
    )
    page: int
    page_size: int
    generated_at: datetime


class RegisterSearchQuery(Form):
    """The search page's query, with the limits of the search API's parameters."""

    q: Text = Field(default="", max_length=100, title="Search terms")
    region: Text = Field(default="", max_length=40, title="Region")
    role: Text = Field(default="", max_length=40, title="Role")
    status: Text = Field(default="", max_length=32, title="Status")
    page: int = Field(default=1, ge=1, le=10_000, title="Page")

    not_on_page: ClassVar[frozenset[str]] = frozenset({"page"})
