"""The register: reference data, practitioners, their entries and history, applications.

Public and private fields live side by side here; what the public sees is decided by the public
schema (``schemas.PublicEntry``), built field by field, never by filtering a private record.
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


class RegisterStatus(StrEnum):
    registered = "registered"
    registered_with_conditions = "registered_with_conditions"
    suspended = "suspended"
    lapsed = "lapsed"
    removed = "removed"
    voluntarily_removed = "voluntarily_removed"


class EntryState(StrEnum):
    """What the entry itself says; the status adds the orders in force on top of it."""

    registered = "registered"
    lapsed = "lapsed"
    removed = "removed"
    voluntarily_removed = "voluntarily_removed"


class ApplicationStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    further_information_requested = "further_information_requested"
    approved = "approved"
    rejected = "rejected"


class ApplicationKind(StrEnum):
    initial = "initial"
    restoration = "restoration"


# --- reference data (seeded by a migration, edited by admins) ------------------------------


class DesignatedRole(Table, tablename="register_role"):
    id: Serial  # made by Piccolo; declared so the type checker knows it
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


class Region(Table, tablename="register_region"):
    id: Serial
    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


class QualificationType(Table, tablename="register_qualification_type"):
    id: Serial
    code = Varchar(length=40, unique=True)
    name = Varchar(length=160)
    active = Boolean(default=True)
    sort_order = Integer(default=0)


# --- people and their entries -------------------------------------------------------------


class Practitioner(Table, tablename="register_practitioner"):
    id: Serial
    account = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    given_names = Varchar(length=100)
    family_name = Varchar(length=100)
    # Public name folded for search: lower case, accents removed ("Zoë O'Brien" -> "zoe obrien").
    search_name = Varchar(length=220, index=True)
    # Private from here on.
    date_of_birth = Date()
    email = Varchar(length=254, default="")
    phone = Varchar(length=40, default="")
    address = Text(default="")
    postcode = Varchar(length=10, default="")
    employer = Varchar(length=200, default="")
    created_at = Timestamptz()


class RegisterEntry(Table, tablename="register_entry"):
    id: Serial
    practitioner = ForeignKey(Practitioner, on_delete=OnDelete.restrict, unique=True)
    registration_number = Varchar(length=9, unique=True)
    region = ForeignKey(Region, on_delete=OnDelete.restrict, index=True)
    state = Varchar(length=24, default=EntryState.registered.value)
    # Derived from the state and the orders in force (never typed by hand), kept here so the
    # public search can filter on it; recomputed whenever either changes.
    status = Varchar(length=32, default=RegisterStatus.registered.value, index=True)
    registered_since = Date()
    registered_until = Date(index=True)
    status_changed_at = Timestamptz()
    updated_at = Timestamptz()
    version = Integer(default=1)  # goes up with every change: the public ETag
    # The public entry as served (JSON of schemas.PublicEntry), rewritten in the transaction of
    # every change, so the hottest read of the service is one indexed lookup.
    public_document = Text(default="")


class NameKey(Table, tablename="register_name_key"):
    """The start of a word of an entry's name, or of two of its words (see
    ``names.search_keys``), kept in name order.

    Search reads one key's rows through the index on (key, name, entry): a page of "smi" or of
    "smi jo" in name order is a short range scan however large the register grows, where a
    full-text index would hand back every match to be sorted. The entry's region and status
    are copied here (with indexes on (key, region, name, entry) and (key, status, name, entry))
    so a filtered search is a short range too: written with the entry, the status rewritten by
    ``service.refresh_entry`` whenever it changes, the keys whenever the name does.
    """

    id: Serial
    key = Varchar(length=7)  # names.KEY_MAX_LENGTH
    name = Varchar(length=220)  # the practitioner's search_name, the order of results
    entry = ForeignKey(RegisterEntry, null=False, on_delete=OnDelete.cascade)
    region = Integer(default=0)  # the entry's region (register_region.id), never changed
    status = Varchar(length=32, default="")  # the entry's status, as RegisterEntry.status


class EntryRole(Table, tablename="register_entry_role"):
    id: Serial
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.cascade, index=True)
    role = ForeignKey(DesignatedRole, on_delete=OnDelete.restrict)


class EntryQualification(Table, tablename="register_entry_qualification"):
    """A qualification annotation, shown on the public entry."""

    id: Serial
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.cascade, index=True)
    qualification_type = ForeignKey(QualificationType, on_delete=OnDelete.restrict)
    awarded_on = Date(null=True, default=None)
    institution = Varchar(length=200, default="")


class EntryHistory(Table, tablename="register_entry_history"):
    """Every change to an entry: what, from what to what, who, when and why."""

    id: Serial
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.cascade, index=True)
    changed_at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor_label = Varchar(length=254)
    change = Varchar(length=60)  # created, status_changed, region_changed, renewed, ...
    before = Text(default="{}")
    after = Text(default="{}")
    reason = Text(default="")


class NumberSequence(Table, tablename="register_number_sequence"):
    """The next registration number's serial, handed out under a row lock."""

    id: Serial
    name = Varchar(length=40, unique=True)
    next_value = Integer()


class Renewal(Table, tablename="register_renewal"):
    id: Serial
    entry = ForeignKey(RegisterEntry, on_delete=OnDelete.cascade, index=True)
    registration_year = Integer()  # the year whose 30 November the renewal was due by
    submitted_at = Timestamptz()
    submitted_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    character_declaration = Boolean()  # True: something to declare, given in the details
    character_details = Text(default="")
    health_declaration = Boolean()
    health_details = Text(default="")
    registered_until_before = Date()
    registered_until_after = Date()


# --- applications -------------------------------------------------------------------------


class EvidenceFile(Table, tablename="register_evidence_file"):
    """An uploaded file, stored in the data directory under its SHA-256."""

    id: Serial
    sha256 = Varchar(length=64, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=60)
    size = Integer()
    uploaded_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz()


class Application(Table, tablename="register_application"):
    id: Serial
    applicant = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, default=ApplicationKind.initial.value)
    status = Varchar(length=32, default=ApplicationStatus.draft.value, index=True)
    entry = ForeignKey(RegisterEntry, null=True, default=None, on_delete=OnDelete.set_null)
    given_names = Varchar(length=100, default="")
    family_name = Varchar(length=100, default="")
    date_of_birth = Date(null=True, default=None)
    email = Varchar(length=254, default="")
    phone = Varchar(length=40, default="")
    address = Text(default="")
    postcode = Varchar(length=10, default="")
    employer = Varchar(length=200, default="")
    role = ForeignKey(DesignatedRole, null=True, default=None, on_delete=OnDelete.restrict)
    region = ForeignKey(Region, null=True, default=None, on_delete=OnDelete.restrict)
    qualification_type = ForeignKey(
        QualificationType, null=True, default=None, on_delete=OnDelete.restrict
    )
    qualification_awarded_on = Date(null=True, default=None)
    qualification_institution = Varchar(length=200, default="")
    evidence = ForeignKey(EvidenceFile, null=True, default=None, on_delete=OnDelete.restrict)
    character_declaration = Boolean(null=True, default=None)
    character_details = Text(default="")
    health_declaration = Boolean(null=True, default=None)
    health_details = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # Goes up with every change, so a registrar's decision is taken against what they saw.
    version = Integer(default=1)
    submitted_at = Timestamptz(null=True, default=None, index=True)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    decision_reason = Text(default="")
    information_request = Text(default="")
    information_response = Text(default="")


REGISTER_TABLES: list[type[Table]] = [
    DesignatedRole,
    Region,
    QualificationType,
    Practitioner,
    RegisterEntry,
    NameKey,
    EntryRole,
    EntryQualification,
    EntryHistory,
    NumberSequence,
    Renewal,
    EvidenceFile,
    Application,
]

# Rows the migrations put in, which the service needs to run: tests keep them between tests.
SEEDED_TABLES: list[type[Table]] = [DesignatedRole, Region, QualificationType, NumberSequence]
