"""Fitness to practise: concerns, the cases they make, every event of a case, sanctions and
interim orders.

A concern is what someone tells the regulator; a case is how the regulator handles every concern
about one practitioner together (a concern about someone already facing an open case joins it).
The case's stage moves only through :mod:`registry.conduct.workflow`; sanctions and interim orders
are made only by its decisions, and the register reads those in force through the restriction
source in :mod:`registry.conduct.register_effect`.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from registry.accounts.tables import User
from registry.register.tables import EvidenceFile, RegisterEntry


class Stage(StrEnum):
    received = "received"
    triage = "triage"
    investigation = "investigation"
    case_examiners = "case_examiners"
    accepted_outcome = "accepted_outcome"
    hearing = "hearing"
    decided = "decided"  # the appeal period runs
    sanction_in_force = "sanction_in_force"
    review = "review"
    closed = "closed"


OPEN_STAGES = frozenset(Stage) - {Stage.closed}

STAGE_LABELS: dict[Stage, str] = {
    Stage.received: "Received",
    Stage.triage: "Triage",
    Stage.investigation: "Investigation",
    Stage.case_examiners: "With case examiners",
    Stage.accepted_outcome: "Accepted outcome proposed",
    Stage.hearing: "Hearing",
    Stage.decided: "Decided: appeal period",
    Stage.sanction_in_force: "Sanction in force",
    Stage.review: "Sanction under review",
    Stage.closed: "Closed",
}


class Relationship(StrEnum):
    """Who the person raising a concern is to the practitioner."""

    public = "public"
    employer = "employer"
    colleague = "colleague"
    police = "police"
    self_referral = "self_referral"
    regulator = "regulator"


RELATIONSHIP_LABELS: dict[Relationship, str] = {
    Relationship.public: "Member of the public",
    Relationship.employer: "Employer",
    Relationship.colleague: "Colleague",
    Relationship.police: "Police",
    Relationship.self_referral: "Self-referral (about yourself)",
    Relationship.regulator: "The regulator, on its own motion",
}


class SanctionKind(StrEnum):
    advice = "advice"
    warning = "warning"
    conditions = "conditions"
    suspension = "suspension"
    removal = "removal"


SANCTION_LABELS: dict[SanctionKind, str] = {
    SanctionKind.advice: "Advice",
    SanctionKind.warning: "Warning",
    SanctionKind.conditions: "Conditions of practice",
    SanctionKind.suspension: "Suspension",
    SanctionKind.removal: "Removal from the register",
}


class InterimKind(StrEnum):
    interim_conditions = "interim_conditions"
    interim_suspension = "interim_suspension"


INTERIM_LABELS: dict[InterimKind, str] = {
    InterimKind.interim_conditions: "Interim conditions of practice",
    InterimKind.interim_suspension: "Interim suspension",
}


# --- reference data (seeded by a migration, kept by admins at /admin/reference) ---------------


class AllegationCategory(Table, tablename="conduct_allegation_category"):
    id: Serial
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


# --- cases and the concerns in them -------------------------------------------------------


class Case(Table, tablename="conduct_case"):
    id: Serial
    reference = Varchar(length=20, unique=True)  # the first concern's reference
    # Who it is about, once known: a case from a concern that names nobody on the register is
    # flagged for triage until a caseworker identifies the practitioner.
    entry = ForeignKey(
        RegisterEntry, null=True, default=None, on_delete=OnDelete.restrict, index=True
    )
    needs_identifying = Boolean(default=False)
    # Indexed by conduct_case_stage_due (stage, due_on), which serves every read by stage.
    stage = Varchar(length=30, default=Stage.received.value)
    outcome = Varchar(length=40, default="")  # the move that closed it, or the last decision
    assigned_to = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    opened_at = Timestamptz()
    stage_changed_at = Timestamptz()
    # What the current stage waits for, and by when (a response, an acceptance, the appeal
    # period's end, a hearing): overdue once the day has passed.
    due_on = Date(null=True, default=None)
    due_what = Varchar(length=120, default="")
    # Timeliness: when each decision point was reached.
    triage_decided_at = Timestamptz(null=True, default=None)
    examiners_decided_at = Timestamptz(null=True, default=None)
    final_decided_at = Timestamptz(null=True, default=None)
    # Investigation: the notice and the practitioner's response.
    notice_text = Text(default="")
    responded_at = Timestamptz(null=True, default=None)
    response_text = Text(default="")
    # An accepted outcome proposed by the case examiners (JSON of a sanction's terms).
    proposal = Text(default="")
    # The hearing: when, who sits, where, and whether it is held in public.
    hearing_on = Date(null=True, default=None)
    hearing_panel = Text(default="[]")  # JSON: three names
    hearing_venue = Varchar(length=200, default="")
    hearing_remote = Boolean(default=False)
    hearing_private = Boolean(default=False)
    version = Integer(default=1)


class Concern(Table, tablename="conduct_concern"):
    id: Serial
    reference = Varchar(length=20, unique=True)
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True)
    # Who it is about, as the person raising it put it.
    about_number = Varchar(length=20, default="")
    about_name = Varchar(length=200, default="")
    about_workplace = Varchar(length=200, default="")
    what_happened = Text()
    happened_on = Date(null=True, default=None)
    happened_when = Varchar(length=200, default="")  # in their words, when no exact date
    # The person raising it: visible to fitness to practise staff, and to the practitioner only
    # with their consent.
    relationship = Varchar(length=30)
    raiser_name = Varchar(length=200, default="")
    raiser_email = Varchar(length=254, default="")
    raiser_phone = Varchar(length=40, default="")
    consent_to_share = Boolean(default=False)
    raised_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    raised_at = Timestamptz()


class ConcernCategory(Table, tablename="conduct_concern_category"):
    id: Serial
    # Indexed by conduct_concern_category_unique (concern, category), reads by concern too.
    concern = ForeignKey(Concern, on_delete=OnDelete.cascade)
    category = ForeignKey(AllegationCategory, on_delete=OnDelete.restrict, index=True)


class CaseDocument(Table, tablename="conduct_case_document"):
    """A file on a case: a concern's attachment, the practitioner's response, a decision.
    ``disclosed`` files are the ones the practitioner may see."""

    id: Serial
    case = ForeignKey(Case, on_delete=OnDelete.cascade, index=True)
    concern = ForeignKey(Concern, null=True, default=None, on_delete=OnDelete.cascade)
    file = ForeignKey(EvidenceFile, on_delete=OnDelete.restrict)
    kind = Varchar(length=30)  # attachment, response, decision, notice, other
    disclosed = Boolean(default=False)
    added_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    added_at = Timestamptz()


class CaseEvent(Table, tablename="conduct_case_event"):
    """Every event of a case, moves and the rest: who, when, from and to, why, with what."""

    id: Serial
    case = ForeignKey(Case, on_delete=OnDelete.cascade, index=True)
    event = Varchar(length=40)
    from_stage = Varchar(length=30, default="")
    to_stage = Varchar(length=30, default="")
    by_user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    actor_label = Varchar(length=254, default="")
    at = Timestamptz()
    reason = Text(default="")
    details = Text(default="{}")  # JSON: what the move carried (dates, examiners, documents)


# --- orders --------------------------------------------------------------------------------


class Sanction(Table, tablename="conduct_sanction"):
    id: Serial
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True)
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20)
    conditions = Text(default="")
    summary = Text(default="")  # the published decision's summary
    decided_at = Timestamptz()
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decided_by_move = Varchar(length=40)
    immediate = Boolean(default=False)
    starts_on = Date(index=True)
    ends_on = Date(null=True, default=None, index=True)  # the last day in force; none: removal
    revoked_on = Date(null=True, default=None)
    document = ForeignKey(EvidenceFile, null=True, default=None, on_delete=OnDelete.restrict)


class InterimOrder(Table, tablename="conduct_interim_order"):
    id: Serial
    case = ForeignKey(Case, on_delete=OnDelete.restrict, index=True)
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=30)
    conditions = Text(default="")
    made_at = Timestamptz()
    made_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    starts_on = Date(index=True)
    ends_on = Date(index=True)  # the last day in force
    next_review_on = Date()
    court_order_reference = Varchar(length=100, default="")
    revoked_on = Date(null=True, default=None)


class ConcernAttempt(Table, tablename="conduct_concern_attempt"):
    """A concern sent without an account, by client address: the limit on how many one address
    may send in an hour (no third-party service), kept whether or not the concern was taken."""

    id: Serial
    client_address = Varchar(length=64, index=True)
    attempted_at = Timestamptz()


CONDUCT_TABLES: list[type[Table]] = [
    AllegationCategory,
    Case,
    Concern,
    ConcernCategory,
    CaseDocument,
    CaseEvent,
    Sanction,
    InterimOrder,
    ConcernAttempt,
]

# Rows the migrations put in, which the service needs: tests keep them between tests.
CONDUCT_SEEDED_TABLES: list[type[Table]] = [AllegationCategory]
