"""What crosses the edge for CPD: activities, rule packs and progress, for pages and the API.

Hours travel as decimal numbers (``1.25``) and are kept as whole quarter hours; anything that is
not a finite number of quarter hours in range is refused with the rule it breaks.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from registry.cpd.tables import ActivityType, ExemptionKind, ExemptionState
from registry.web.forms import Form
from registry.web.inputs import YEARS, MultilineText, Text, in_years

MAX_REFLECTION = 10_000
MAX_ACTIVITY_HOURS = 24
MAX_PACK_HOURS = 1_000
MAX_CODE = 40  # as long as a reference item's code may be


def _as_list(value: Any) -> Any:
    """Checkboxes: absent when none is ticked, a single value when one is."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def quarters_of(value: Any, label: str, *, low: Decimal, high: int, inclusive_low: bool) -> int:
    """``value`` (a number or its text) as whole quarter hours, or a ValueError in plain words."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"{label} must be a number, like 1.5")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{label} must be a number, like 1.5")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{label} must be a number, like 1.5") from None
    if not number.is_finite():
        raise ValueError(f"{label} must be a number, like 1.5")
    if number < low or (number == low and not inclusive_low):
        raise ValueError(
            f"{label} must be more than {low}"
            if not inclusive_low
            else f"{label} must be {low} or more"
        )
    if number > high:
        raise ValueError(f"{label} must be {high} or fewer")
    quarters = number * 4
    if quarters != quarters.to_integral_value():
        raise ValueError(f"{label} must be in quarter hours, like 1.25, 1.5 or 1.75")
    return int(quarters)


def chosen(message: str) -> Any:
    """A choice a page leaves blank when nothing is picked: say what to choose."""

    def check(value: Any) -> Any:
        if value is None or value == "":
            raise ValueError(message)
        return value

    return check


def _activity_hours(value: Any) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("Enter how many hours the activity took, like 1.5")
    quarters = quarters_of(
        value, "Hours", low=Decimal(0), high=MAX_ACTIVITY_HOURS, inclusive_low=False
    )
    return Decimal(quarters) / 4


def _pack_hours(label: str) -> Any:
    def check(value: Any) -> Decimal:
        quarters = quarters_of(
            value, label, low=Decimal(0), high=MAX_PACK_HOURS, inclusive_low=True
        )
        return Decimal(quarters) / 4

    return check


def _blank_or(check: Any) -> Any:
    def inner(value: Any) -> Any:
        return None if value is None or value == "" else check(value)

    return inner


def _some_area(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("Select at least one practice area")
    return value


ActivityHours = Annotated[Decimal, BeforeValidator(_activity_hours)]


def _in_years(value: date) -> date:
    if not in_years(value):
        raise ValueError(f"The date must be from the year {YEARS[0]} to {YEARS[1]}")
    return value


def _short_code(value: str) -> str:
    if len(value) > MAX_CODE:
        raise ValueError(f"A code must be {MAX_CODE} characters or fewer, like risk_assessment")
    return value


Code = Annotated[Text, AfterValidator(_short_code)]
Codes = Annotated[list[Code], BeforeValidator(_as_list)]
AreaCodes = Annotated[list[Code], BeforeValidator(_as_list), AfterValidator(_some_area)]
# A date within the years the service holds anything about (registry.web.inputs.YEARS).
Dated = Annotated[date, AfterValidator(_in_years)]


def hours_text(quarters: int) -> str:
    """``6`` quarter hours as "1.5": no trailing zeros, no float rounding."""
    return (
        f"{Decimal(quarters) / 4:f}".rstrip("0").rstrip(".") if quarters % 4 else str(quarters // 4)
    )


# --- activities ---------------------------------------------------------------------------


class ActivityIn(Form):
    """One CPD activity, as the API takes it and the activity page posts it."""

    model_config = ConfigDict(validate_default=True, extra="forbid")

    title: Annotated[Text, AfterValidator(chosen("Enter the title of the activity"))] = Field(
        max_length=200, title="Title"
    )
    done_on: Dated = Field(title="Date of the activity", examples=["2026-10-14"])
    hours: ActivityHours = Field(title="Hours", examples=["1.5"])
    activity_type: Annotated[
        ActivityType, BeforeValidator(chosen("Select the type of activity"))
    ] = Field(title="Type of activity")
    participatory: Annotated[
        bool, BeforeValidator(chosen("Select yes if you learned with others"))
    ] = Field(title="Participatory", description="Learning with others (a course, a conference, …)")
    practice_areas: AreaCodes = Field(
        max_length=20, title="Practice areas", examples=[["risk_assessment"]]
    )
    standards: Codes = Field(default_factory=list, max_length=20, title="Standards of CPD")
    what_happened: MultilineText = Field(
        default="", max_length=MAX_REFLECTION, title="What happened"
    )
    what_learned: MultilineText = Field(
        default="", max_length=MAX_REFLECTION, title="What you learned"
    )
    practice_changed: MultilineText = Field(
        default="", max_length=MAX_REFLECTION, title="How your practice changed"
    )
    peer_reflection: Annotated[
        bool, BeforeValidator(chosen("Select yes if you reflected on it with a peer"))
    ] = Field(default=False, title="Reflected with a peer")
    peer_role: Text = Field(default="", max_length=120, title="The peer's role")
    change_reason: MultilineText = Field(
        default="",
        max_length=2_000,
        title="Reason for the change",
        description="Needed once the activity's year was declared at renewal; kept in the audit",
    )

    date_fields: ClassVar[frozenset[str]] = frozenset({"done_on"})

    @field_validator("peer_role")
    @classmethod
    def _peer_named(cls, value: str, info: ValidationInfo) -> str:
        if not info.data.get("peer_reflection"):
            return ""
        if not value:
            raise ValueError("Enter the role of the peer you reflected with")
        return value


class EvidenceOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str = Field(description="Where the owner downloads it with their token")


class ActivityOut(BaseModel):
    id: int
    title: str
    done_on: date
    registration_year: int = Field(description="The year whose renewal deadline it counts to")
    hours: Decimal
    activity_type: ActivityType
    participatory: bool
    practice_areas: list[str]
    standards: list[str]
    what_happened: str
    what_learned: str
    practice_changed: str
    reflective: bool = Field(description="All three parts of the reflection are written")
    peer_reflection: bool
    peer_role: str
    evidence: list[EvidenceOut]
    rule_pack: int = Field(description="The rule pack in force on its date, which judges it")
    editable: bool = Field(description="False once the year has been declared at renewal")
    created_at: datetime
    updated_at: datetime


# --- rule packs ---------------------------------------------------------------------------


class RulePackIn(Form):
    """A new rule pack, in force from ``effective_from`` (after today and after every pack
    already made) until a later one supersedes it."""

    model_config = ConfigDict(validate_default=True, extra="forbid")

    name: Text = Field(min_length=1, max_length=120, title="Name")
    effective_from: Dated = Field(title="In force from")
    min_total_hours: Annotated[Decimal, BeforeValidator(_pack_hours("Minimum total hours"))] = (
        Field(title="Minimum total hours")
    )
    min_participatory_hours: Annotated[
        Decimal, BeforeValidator(_pack_hours("Minimum participatory hours"))
    ] = Field(title="Minimum participatory hours")
    min_reflective_accounts: int = Field(ge=0, le=100, title="Minimum reflective accounts")
    min_peer_reflections: int = Field(ge=0, le=100, title="Minimum activities with peer reflection")
    min_practice_areas: int = Field(ge=0, le=50, title="Minimum practice areas")
    capped_type: ActivityType | None = Field(default=None, title="Activity type with a cap")
    cap_hours: Annotated[Decimal | None, BeforeValidator(_blank_or(_pack_hours("Cap")))] = Field(
        default=None, title="Cap"
    )

    date_fields: ClassVar[frozenset[str]] = frozenset({"effective_from"})

    @field_validator("min_participatory_hours")
    @classmethod
    def _within_total(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        total = info.data.get("min_total_hours")
        if total is not None and value > total:
            raise ValueError("Minimum participatory hours cannot be more than minimum total hours")
        return value

    @field_validator("cap_hours")
    @classmethod
    def _cap_with_type(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if info.data.get("capped_type") is not None and value is None:
            raise ValueError("Enter the most hours the activity type may count for")
        if "capped_type" in info.data and info.data["capped_type"] is None and value is not None:
            raise ValueError("Choose the activity type the cap is for, or leave the cap blank")
        return value


class RulePackOut(BaseModel):
    id: int
    name: str
    effective_from: date
    min_total_hours: Decimal
    min_participatory_hours: Decimal
    min_reflective_accounts: int
    min_peer_reflections: int
    min_practice_areas: int
    capped_type: ActivityType | None
    cap_hours: Decimal | None
    created_at: datetime


# --- progress -----------------------------------------------------------------------------


class RuleProgressOut(BaseModel):
    rule: str = Field(examples=["total_hours"])
    label: str = Field(examples=["Total hours"])
    figure: Decimal = Field(description="What has been done so far")
    target: Decimal
    unit: str = Field(examples=["hours"])
    summary: str = Field(examples=["12.5 / 30 hours"])
    met: bool
    still_needed: Decimal = Field(description="0 once met")


class YearProgressOut(BaseModel):
    registration_year: int
    starts_on: date
    ends_on: date
    rule_pack: int = Field(description="The pack whose targets apply: the one in force at the end")
    rule_pack_name: str
    activities: int
    rules: list[RuleProgressOut]
    met: bool = Field(description="Every rule met")
    declared: bool = Field(description="Declared at renewal: the year's activities are final")
    exempt_days: int = Field(
        default=0, description="Days of the year a registrar has exempted: targets shrink pro rata"
    )
    days: int = Field(default=365, description="Days in the registration year")


# --- exemptions ---------------------------------------------------------------------------

MAX_REASON = 5_000


class ExemptionIn(Form):
    """A practitioner's request to be excused CPD for some days (parental leave, long-term
    sickness, or another reason they give)."""

    model_config = ConfigDict(validate_default=True, extra="forbid")

    kind: Annotated[ExemptionKind, BeforeValidator(chosen("Select why you need an exemption"))] = (
        Field(title="Reason for the exemption")
    )
    starts_on: Dated = Field(title="First day", examples=["2027-01-04"])
    ends_on: Dated = Field(title="Last day", examples=["2027-06-30"])
    reason: MultilineText = Field(default="", max_length=MAX_REASON, title="Details")

    date_fields: ClassVar[frozenset[str]] = frozenset({"starts_on", "ends_on"})

    @field_validator("ends_on")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and value < starts_on:
            raise ValueError("The last day must be the same as or after the first day")
        return value

    @field_validator("reason")
    @classmethod
    def _reason_for_other(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind") is ExemptionKind.other and not value:
            raise ValueError("Say why you need an exemption")
        return value


class ExemptionDecisionIn(Form):
    """A registrar's grant or refusal; a refusal says why."""

    model_config = ConfigDict(extra="forbid")

    reason: MultilineText = Field(default="", max_length=MAX_REASON, title="Reason")


class ExemptionOut(BaseModel):
    id: int
    registration_number: str
    name: str
    kind: ExemptionKind
    reason: str
    starts_on: date
    ends_on: date
    days: int
    state: ExemptionState
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str


class StatementOut(BaseModel):
    serial: str
    registration_year: int
    issued_at: datetime
    valid_until: datetime
    verify_url: str = Field(description="Where anyone can check it")
