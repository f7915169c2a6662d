"""What crosses the edge for fitness to practise: concerns as raised, moves with what they
carry, and cases as each reader may see them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.conduct import limits
from registry.conduct.concerns import MAX_ATTACHMENTS
from registry.conduct.interim_orders import InterimRecord, ReviewOutcome
from registry.conduct.sanctions import Terms
from registry.conduct.service import CaseDetail, CaseSummary, Document, Event, SanctionRecord
from registry.conduct.tables import (
    INTERIM_LABELS,
    SANCTION_LABELS,
    STAGE_LABELS,
    InterimKind,
    Relationship,
    SanctionKind,
    Stage,
)
from registry.conduct.workflow import CaseRecord, Hearing, Move, MoveIn
from registry.web.inputs import LARGEST_ID, Day, MultilineText, Text

LONG = limits.MAX_TEXT
UserId = Annotated[int, Field(ge=1, le=LARGEST_ID)]
Version = Annotated[int, Field(ge=1, le=LARGEST_ID, title="The case's version you saw")]
Months = Annotated[int, Field(ge=1, le=120)]
CategoryCode = Annotated[Text, Field(max_length=40)]
AttachmentToken = Annotated[Text, Field(max_length=120)]


class ConcernBody(BaseModel):
    """A concern, raised by anyone: who it is about (a registration number, or a name and
    workplace), what happened and when, the kinds of concern, who raises it."""

    model_config = ConfigDict(extra="forbid")

    about_number: Text = Field(default="", max_length=20, title="Registration number")
    about_name: Text = Field(default="", max_length=200, title="Their name")
    about_workplace: Text = Field(default="", max_length=200, title="Where they work")
    what_happened: MultilineText = Field(max_length=LONG, title="What happened")
    happened_on: Day = Field(default=None, title="The day it happened")
    happened_when: Text = Field(default="", max_length=200, title="When it happened")
    categories: list[CategoryCode] = Field(max_length=20, title="Kinds of concern")
    relationship: Relationship = Field(title="Who you are to them")
    raiser_name: Text = Field(default="", max_length=200, title="Your name")
    raiser_email: Text = Field(default="", max_length=254, title="Your email address")
    raiser_phone: Text = Field(default="", max_length=40, title="Your phone number")
    consent_to_share: bool = Field(default=False, title="Share who you are with them")
    attachments: list[AttachmentToken] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        title="Attached files",
        description="The tokens POST /concerns/attachments gave for the files uploaded for it",
    )
    # The honeypot: hidden from people, who leave it empty; anything in it is a robot's.
    website: Text = Field(default="", max_length=200, title="Leave this empty")


class AttachmentOut(BaseModel):
    token: str = Field(description="Name the file by this in the concern's attachments")
    filename: str
    content_type: str
    size: int
    sha256: str


class RaisedOut(BaseModel):
    reference: str = Field(examples=["FTP-7K3M-9Q2X-5"])
    message: str


class TermsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SanctionKind = Field(title="Sanction")
    months: Months | None = Field(default=None, title="How many months")
    conditions: MultilineText = Field(default="", max_length=LONG, title="Conditions")
    summary: MultilineText = Field(default="", max_length=LONG, title="Published summary")
    immediate: bool = Field(default=False, title="Takes effect at once")


class HearingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: Day = Field(title="Hearing date")
    panel: list[Annotated[Text, Field(max_length=120)]] = Field(max_length=5, title="Panel")
    venue: Text = Field(default="", max_length=200, title="Venue")
    remote: bool = Field(default=False, title="Held remotely")
    private: bool = Field(default=False, title="Held in private")


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    move: Move = Field(title="Move")
    version: Version
    reason: MultilineText = Field(default="", max_length=LONG, title="Reason")
    examiners: list[UserId] = Field(default_factory=list, max_length=5, title="Case examiners")
    sanction: TermsBody | None = None
    hearing: HearingBody | None = None


def move_in(data: MoveBody) -> MoveIn:
    """What a move carries, as the workflow takes it, from the API's body or a page's form."""
    terms = None
    if data.sanction is not None:
        given = data.sanction
        terms = Terms(given.kind, given.months, given.conditions, given.summary, given.immediate)
    hearing = None
    given_hearing = data.hearing
    if given_hearing is not None and given_hearing.on is not None:
        hearing = Hearing(
            given_hearing.on,
            tuple(given_hearing.panel),
            given_hearing.venue,
            given_hearing.remote,
            given_hearing.private,
        )
    return MoveIn(reason=data.reason, examiners=tuple(data.examiners), terms=terms, hearing=hearing)


class AssignmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    caseworker_id: UserId | None = Field(title="Caseworker (none to unassign)")
    version: Version


class DisclosureBody(BaseModel):
    """Disclose a document of the case to the practitioner, as of the version you saw."""

    model_config = ConfigDict(extra="forbid")

    version: Version


class IdentificationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registration_number: Text = Field(max_length=20, title="Registration number")
    version: Version


class InterimOrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: InterimKind = Field(title="Interim order")
    months: Months = Field(title="How many months")
    conditions: MultilineText = Field(default="", max_length=LONG, title="Conditions")
    reason: MultilineText = Field(max_length=LONG, title="Reason")
    court_order_reference: Text = Field(default="", max_length=100, title="Court order")
    version: Version


class InterimReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ReviewOutcome = Field(title="Outcome")
    reason: MultilineText = Field(max_length=LONG, title="Reason")
    months: Months | None = Field(default=None, title="New length in months, from the start")
    court_order_reference: Text = Field(default="", max_length=100, title="Court order")
    version: Version


class ResponseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: MultilineText = Field(max_length=LONG, title="Your response")


class OutcomeAnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"] = Field(title="Your answer")
    version: Version


# --- answers --------------------------------------------------------------------------------


class ConcernOut(BaseModel):
    reference: str
    raised_at: datetime
    about_number: str
    about_name: str
    about_workplace: str
    what_happened: str
    happened_on: date | None
    happened_when: str
    categories: list[str]
    relationship: str
    raiser_name: str | None = Field(description="Shown only to those allowed to see it")
    raiser_email: str | None
    raiser_phone: str | None
    consent_to_share: bool


class EventOut(BaseModel):
    event: str
    from_stage: str
    to_stage: str
    actor: str
    at: datetime
    reason: str
    details: dict[str, object]


class DocumentOut(BaseModel):
    id: int
    file_id: int
    filename: str
    kind: str
    disclosed: bool
    added_at: datetime


class SanctionOut(BaseModel):
    id: int
    kind: SanctionKind
    label: str
    conditions: str
    summary: str
    decided_at: datetime
    immediate: bool
    starts_on: date
    ends_on: date | None
    revoked_on: date | None


class InterimOrderOut(BaseModel):
    id: int
    kind: InterimKind
    label: str
    conditions: str
    starts_on: date
    ends_on: date
    next_review_on: date
    court_order_reference: str
    revoked_on: date | None


class CaseSummaryOut(BaseModel):
    id: int
    reference: str
    stage: Stage
    stage_label: str
    registration_number: str
    practitioner_name: str
    needs_identifying: bool
    assigned_to: int | None
    due_on: date | None
    due_what: str
    overdue: bool
    opened_at: datetime
    version: int


class CaseOut(CaseSummaryOut):
    notice: str
    response: str
    proposal: TermsBody | None
    hearing_on: date | None
    hearing_panel: list[str]
    hearing_venue: str
    hearing_remote: bool
    hearing_private: bool
    allowed_moves: list[Move]
    concerns: list[ConcernOut]
    timeline: list[EventOut]
    documents: list[DocumentOut]
    sanctions: list[SanctionOut]
    interim_orders: list[InterimOrderOut]


class CaseListOut(BaseModel):
    cases: list[CaseSummaryOut]
    total: int
    page: int


class PublishedDecisionOut(BaseModel):
    id: int
    kind: str
    label: str
    summary: str
    conditions: str
    decided_on: date
    starts_on: date
    ends_on: date | None
    pdf_url: str = Field(description="The decision as a PDF, while it is published")


class PublicOrdersOut(BaseModel):
    registration_number: str
    decisions: list[PublishedDecisionOut]
    interim_orders: list[InterimOrderOut]


class HearingOut(BaseModel):
    registration_number: str
    practitioner_name: str
    hearing_on: date
    private: bool
    remote: bool
    venue: str


def concern_out(view: object) -> ConcernOut:
    return ConcernOut.model_validate(view, from_attributes=True)


def event_out(event: Event) -> EventOut:
    return EventOut(
        event=event.event,
        from_stage=event.from_stage,
        to_stage=event.to_stage,
        actor=event.actor_label,
        at=event.at,
        reason=event.reason,
        details=event.details,
    )


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


def sanction_out(sanction: SanctionRecord) -> SanctionOut:
    return SanctionOut(
        id=sanction.id,
        kind=sanction.kind,
        label=SANCTION_LABELS[sanction.kind],
        conditions=sanction.conditions,
        summary=sanction.summary,
        decided_at=sanction.decided_at,
        immediate=sanction.immediate,
        starts_on=sanction.starts_on,
        ends_on=sanction.ends_on,
        revoked_on=sanction.revoked_on,
    )


def interim_out(order: InterimRecord) -> InterimOrderOut:
    return InterimOrderOut(
        id=order.id,
        kind=order.kind,
        label=INTERIM_LABELS[order.kind],
        conditions=order.conditions,
        starts_on=order.starts_on,
        ends_on=order.ends_on,
        next_review_on=order.next_review_on,
        court_order_reference=order.court_order_reference,
        revoked_on=order.revoked_on,
    )


def _terms_out(case: CaseRecord) -> TermsBody | None:
    proposal = case.proposal
    if proposal is None:
        return None
    return TermsBody(
        kind=proposal.kind,
        months=proposal.months,
        conditions=proposal.conditions,
        summary=proposal.summary,
        immediate=proposal.immediate,
    )


def case_out(detail: CaseDetail) -> CaseOut:
    case = detail.case
    return CaseOut(
        id=case.id,
        reference=case.reference,
        stage=case.stage,
        stage_label=STAGE_LABELS[case.stage],
        registration_number=detail.registration_number,
        practitioner_name=detail.practitioner_name,
        needs_identifying=case.needs_identifying,
        assigned_to=case.assigned_to,
        opened_at=case.opened_at,
        due_on=case.due_on,
        due_what=case.due_what,
        overdue=detail.overdue,
        notice=case.notice_text,
        response=case.response_text,
        proposal=_terms_out(case),
        hearing_on=case.hearing_on,
        hearing_panel=case.hearing_panel,
        hearing_venue=case.hearing_venue,
        hearing_remote=case.hearing_remote,
        hearing_private=case.hearing_private,
        version=case.version,
        allowed_moves=detail.allowed_moves,
        concerns=[concern_out(concern) for concern in detail.concerns],
        timeline=[event_out(event) for event in detail.events],
        documents=[document_out(document) for document in detail.documents],
        sanctions=[sanction_out(sanction) for sanction in detail.sanctions],
        interim_orders=[interim_out(order) for order in detail.interim_orders],
    )


def summary_out(summary: CaseSummary) -> CaseSummaryOut:
    return CaseSummaryOut(
        **{
            name: getattr(summary, name)
            for name in CaseSummaryOut.model_fields
            if name != "stage_label"
        },
        stage_label=STAGE_LABELS[summary.stage],
    )


class QuarterFigureOut(BaseModel):
    quarter: str = Field(examples=["2027-Q1"])
    measure: Literal["triage", "case_examiners", "final"]
    label: str
    cases: int
    median_weeks: float
    p90_weeks: float


class AgeBandOut(BaseModel):
    label: str
    open_cases: int


class TimelinessOut(BaseModel):
    generated_at: datetime
    quarters: list[QuarterFigureOut]
    caseload: list[AgeBandOut]
