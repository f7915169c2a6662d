"""CPD: standards and practice areas (reference data), rule packs, and each practitioner's
activity log with its reflections and evidence.

Hours are kept as whole quarter hours (``quarters``: 1.5 hours is 6), so sums are exact in SQL
on both engines and no float ever reaches a comparison with a target.
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
from registry.register.tables import EvidenceFile, Practitioner, RegisterEntry


class ActivityType(StrEnum):
    formal_course = "formal_course"
    e_learning = "e_learning"
    supervision = "supervision"
    peer_learning = "peer_learning"
    conference = "conference"
    reading_research = "reading_research"
    work_based_learning = "work_based_learning"
    other = "other"


ACTIVITY_TYPE_LABELS: dict[ActivityType, str] = {
    ActivityType.formal_course: "Formal course",
    ActivityType.e_learning: "E-learning",
    ActivityType.supervision: "Supervision",
    ActivityType.peer_learning: "Peer learning",
    ActivityType.conference: "Conference",
    ActivityType.reading_research: "Reading or research",
    ActivityType.work_based_learning: "Work-based learning",
    ActivityType.other: "Other",
}


# --- reference data (seeded by a migration, kept by admins at /admin/reference) ---------------


class Standard(Table, tablename="cpd_standard"):
    id: Serial
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


class PracticeArea(Table, tablename="cpd_practice_area"):
    id: Serial
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


# --- rule packs ---------------------------------------------------------------------------


class RulePack(Table, tablename="cpd_rule_pack"):
    """The rules of a registration year, in force from ``effective_from`` until the next pack's
    date. Never edited once made: a change is a new pack from a later date."""

    id: Serial
    name = Varchar(length=120)
    effective_from = Date(unique=True)
    min_total_quarters = Integer()
    min_participatory_quarters = Integer()
    min_reflective_accounts = Integer()
    min_peer_reflections = Integer()
    min_practice_areas = Integer()
    # An optional cap on the hours one activity type may count for ("" for none).
    capped_type = Varchar(length=30, default="")
    cap_quarters = Integer(null=True, default=None)
    created_at = Timestamptz()
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)


# --- the activity log ---------------------------------------------------------------------


class Activity(Table, tablename="cpd_activity"):
    id: Serial
    practitioner = ForeignKey(Practitioner, on_delete=OnDelete.restrict)
    # The pack in force on ``done_on``, fixed when the date is written (packs only ever start
    # after today, so it never changes under an activity already logged).
    rule_pack = ForeignKey(RulePack, on_delete=OnDelete.restrict)
    title = Varchar(length=200)
    done_on = Date()
    quarters = Integer()  # hours times 4
    activity_type = Varchar(length=30)
    participatory = Boolean()
    what_happened = Text(default="")
    what_learned = Text(default="")
    practice_changed = Text(default="")
    # All three parts of the reflection written: it counts as a reflective account.
    reflective = Boolean(default=False)
    peer_reflection = Boolean(default=False)
    peer_role = Varchar(length=120, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ActivityPracticeArea(Table, tablename="cpd_activity_practice_area"):
    id: Serial
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    practice_area = ForeignKey(PracticeArea, on_delete=OnDelete.restrict, index=True)


class ActivityStandard(Table, tablename="cpd_activity_standard"):
    id: Serial
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    standard = ForeignKey(Standard, on_delete=OnDelete.restrict, index=True)


class ActivityEvidence(Table, tablename="cpd_activity_evidence"):
    """A file attached to an activity; the file itself is the register's shared evidence
    storage (content-checked, kept once by its SHA-256)."""

    id: Serial
    activity = ForeignKey(Activity, on_delete=OnDelete.cascade, index=True)
    file = ForeignKey(EvidenceFile, on_delete=OnDelete.restrict)
    added_at = Timestamptz()


# --- exemptions from the requirement -------------------------------------------------------


class ExemptionKind(StrEnum):
    parental_leave = "parental_leave"
    long_term_sickness = "long_term_sickness"
    other = "other"


EXEMPTION_KIND_LABELS: dict[ExemptionKind, str] = {
    ExemptionKind.parental_leave: "Parental leave",
    ExemptionKind.long_term_sickness: "Long-term sickness",
    ExemptionKind.other: "Other",
}


class ExemptionState(StrEnum):
    requested = "requested"
    granted = "granted"
    refused = "refused"


class Exemption(Table, tablename="cpd_exemption"):
    """Days a practitioner asks to be excused CPD for; once a registrar grants it, every target
    of the years it falls in shrinks pro rata by the days it covers."""

    id: Serial
    practitioner = ForeignKey(Practitioner, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=30)
    reason = Text(default="")
    starts_on = Date()
    ends_on = Date()
    state = Varchar(length=20, default=ExemptionState.requested.value)
    requested_at = Timestamptz()
    requested_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decision_reason = Text(default="")


# --- the audit: a random sample each year, their profiles and the assessors' decisions ------


class AuditSample(Table, tablename="cpd_audit_sample"):
    """One draw per registration year, kept as made: the seed, rate and eligible population are
    enough to draw it again and get the same practitioners."""

    id: Serial
    registration_year = Integer(unique=True)
    seed = Varchar(length=40)
    rate = Varchar(length=20)  # a decimal, as text: "0.025"
    eligible_count = Integer()
    eligible = Text()  # JSON: the eligible entry ids, in the order drawn from
    chosen_count = Integer()
    drawn_at = Timestamptz()
    drawn_by = Varchar(length=120)


class AuditCaseState(StrEnum):
    awaiting_profile = "awaiting_profile"
    submitted = "submitted"
    more_information = "more_information"
    met = "met"
    not_met = "not_met"
    overdue = "overdue"
    advised = "advised"
    lapsed = "lapsed"


class AuditCase(Table, tablename="cpd_audit_case"):
    id: Serial
    sample = ForeignKey(AuditSample, on_delete=OnDelete.restrict, index=True)
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.restrict, index=True)
    practitioner = ForeignKey(Practitioner, on_delete=OnDelete.restrict, index=True)
    registration_year = Integer()
    state = Varchar(length=30, default=AuditCaseState.awaiting_profile.value)
    due_on = Date()
    # The profile: a summary of practice, the activities chosen, a statement per standard.
    summary_of_practice = Text(default="")
    chosen_activities = Text(default="[]")  # JSON list of activity ids
    statements = Text(default="{}")  # JSON: standard code -> statement
    information = Text(default="")  # what the practitioner added when asked for more
    submitted_at = Timestamptz(null=True, default=None)
    # The assessor's decision and, for some, a second assessor's moderation.
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decision_reasons = Text(default="")
    for_moderation = Boolean(default=False)
    moderated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    moderation_agrees = Boolean(null=True, default=None)
    moderation_notes = Text(default="")
    version = Integer(default=1)


class AuditMove(Table, tablename="cpd_audit_move"):
    """Every move of a case: who, when, from and to, and why."""

    id: Serial
    case = ForeignKey(AuditCase, on_delete=OnDelete.cascade, index=True)
    move = Varchar(length=30)
    from_state = Varchar(length=30)
    to_state = Varchar(length=30)
    by_user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    reason = Text(default="")
    moved_at = Timestamptz()


CPD_TABLES: list[type[Table]] = [
    Standard,
    PracticeArea,
    RulePack,
    Activity,
    ActivityPracticeArea,
    ActivityStandard,
    ActivityEvidence,
    Exemption,
    AuditSample,
    AuditCase,
    AuditMove,
]

# Rows the migrations put in, which the service needs: tests keep them between tests.
CPD_SEEDED_TABLES: list[type[Table]] = [Standard, PracticeArea, RulePack]
