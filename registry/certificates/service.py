"""Certificates: issued, superseded, revoked and suspended in step with the register, and verified.

No HTTP here. The register tells :func:`entry_changed` of every change to an entry inside the
transaction that makes it (the manifest's change subscriber), so a certificate and its status
bits change with the register or not at all:

* on the register with no live registration certificate (approval, restoration), or renewed,
  or with a new name, roles or dates: a new certificate, superseding the old (its revocation bit);
* suspended (a suspension or interim suspension in force): the suspension bit set; the
  suspension ended: cleared;
* lapsed, removed, voluntarily removed: the revocation bit of the live registration certificate.

Every issue, revocation and suspension is written to the entry's history and the audit trail.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol, cast

from registry.audit import service as audit
from registry.audit.context import current_actor
from registry.certificates import credentials, serials, status_lists
from registry.certificates.keys import Issuer, KeyRing, issuer
from registry.certificates.tables import Certificate, CertificateKind, StatusPurpose
from registry.core import clock
from registry.core.bulk import fetch_all, insert_rows, marks
from registry.db import fetch_one, lock_row, transaction
from registry.errors import Conflict, InvalidInput, NotFound
from registry.register import hooks
from registry.register import service as register
from registry.register.schemas import STATUS_LABELS, PublicEntry
from registry.register.tables import RegisterEntry, RegisterStatus
from registry.text import text_problem
from registry.web.validation import lower_first

ON_REGISTER = {
    RegisterStatus.registered,
    RegisterStatus.registered_with_conditions,
    RegisterStatus.suspended,
}
REISSUED_ON = {hooks.CREATED, "renewal", "restoration"}
# What a registration certificate states; a change to any of these replaces it.
STATED = ("registrationNumber", "name", "roles", "registeredSince", "registeredUntil")
REVOKED_BECAUSE = {
    RegisterStatus.lapsed: "the registration lapsed",
    RegisterStatus.removed: "the practitioner was removed from the register",
    RegisterStatus.voluntarily_removed: "the practitioner left the register",
}
CREDENTIAL_TYPES = {
    CertificateKind.registration: "ProbationRegistrationCertificate",
    CertificateKind.cpd_statement: "ProbationCPDStatement",
}
ISSUER_NAME = "Probation practitioner register"


@dataclass(frozen=True)
class CertificateRecord:
    id: int
    serial: str
    entry_id: int
    kind: CertificateKind
    issued_at: datetime
    valid_until: datetime
    certified: dict[str, Any]
    credential: dict[str, Any]
    suspended: bool
    revoked_at: datetime | None
    revocation_reason: str
    superseded_by: int | None

    @property
    def display_serial(self) -> str:
        return serials.display(self.serial)


def _record(row: Mapping[str, Any]) -> CertificateRecord:
    return CertificateRecord(
        id=int(row["id"]),
        serial=row["serial"],
        entry_id=int(row["entry"]),
        kind=CertificateKind(row["kind"]),
        issued_at=row["issued_at"],
        valid_until=row["valid_until"],
        certified=json.loads(row["certified"]),
        credential=json.loads(row["credential"]),
        suspended=bool(row["suspended"]),
        revoked_at=row["revoked_at"],
        revocation_reason=row["revocation_reason"],
        superseded_by=row["superseded_by"],
    )


# --- issuing ----------------------------------------------------------------------------------


def registration_facts(public: PublicEntry) -> dict[str, Any]:
    """What a registration certificate certifies, from the public entry as just rewritten."""
    return {
        "registrationNumber": public.registration_number,
        "name": public.name,
        "givenNames": public.given_names,
        "familyName": public.family_name,
        "roles": [role.name for role in public.roles],
        "region": public.region.name,
        "registeredSince": public.registered_since.isoformat(),
        "registeredUntil": public.registered_until.isoformat(),
        "conditions": [r.summary for r in public.restrictions if "conditions" in r.kind],
    }


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


async def _issue(
    entry_id: int,
    kind: CertificateKind,
    facts: dict[str, Any],
    valid_until: datetime,
    *,
    reason: str,
    suspended: bool = False,
    replacing: CertificateRecord | None = None,
) -> CertificateRecord:
    """Sign and store one certificate with its two status slots, in the caller's transaction."""
    now = clock.now().astimezone(UTC)
    signer = _Signer(now)
    revocation = await status_lists.allocate(StatusPurpose.revocation)
    suspension = await status_lists.allocate(StatusPurpose.suspension)
    row = signer.certificate(
        entry_id, kind, facts, valid_until, revocation, suspension, suspended=suspended
    )
    inserted = await Certificate.insert(
        Certificate(**dict(zip(CERTIFICATE_COLUMNS, row, strict=True)))
    ).returning(Certificate.id)
    if suspended:
        await status_lists.changed([suspension.list_id])
    new_id = int(inserted[0]["id"])
    serial = row[0]
    before = {"serial": replacing.serial} if replacing else {}
    if replacing is not None:
        await _revoke(replacing, f"replaced by certificate {serials.display(serial)}", new_id)
    await register.record_change(
        entry_id, "certificate_issued", before, _issued(serial, kind, valid_until), reason
    )
    await audit.record(**_issued_audit(serial, kind, facts, valid_until, reason, before))
    return await _by_id(new_id)


CERTIFICATE_COLUMNS = (
    "serial",
    "entry",
    "kind",
    "issued_at",
    "valid_until",
    "certified",
    "credential",
    "revocation_list",
    "revocation_index",
    "suspension_list",
    "suspension_index",
    "suspended",
    "suspended_at",
    "issued_by",
)


class _Signer:
    """Signs certificates issued at one moment: the issuer, its key and the actor read once."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.issuer = issuer()
        self.method, self.key = self.issuer.signing_method()
        self.issued_by = current_actor().label

    def certificate(
        self,
        entry_id: int,
        kind: CertificateKind,
        facts: dict[str, Any],
        valid_until: datetime,
        revocation: status_lists.Slot,
        suspension: status_lists.Slot,
        *,
        suspended: bool,
    ) -> tuple[Any, ...]:
        """A new certificate's row (:data:`CERTIFICATE_COLUMNS`), its credential signed."""
        serial = serials.new_serial()
        document = {
            "@context": [credentials.VC_CONTEXT],
            "id": self.issuer.url(f"/verify/{serial}"),
            "type": ["VerifiableCredential", CREDENTIAL_TYPES[kind]],
            "issuer": {"id": self.issuer.did, "name": ISSUER_NAME},
            "validFrom": credentials.timestamp(self.now),
            "validUntil": credentials.timestamp(valid_until),
            "credentialSubject": {"type": CREDENTIAL_TYPES[kind], "serial": serial, **facts},
            "credentialStatus": status_lists.status_entries(revocation, suspension),
        }
        signed = credentials.signed_text(
            document, key=self.key, method_id=self.method, created=self.now
        )
        return (
            serial,
            entry_id,
            kind.value,
            self.now,
            valid_until,
            json.dumps(facts, sort_keys=True),
            signed,
            revocation.list_id,
            revocation.index,
            suspension.list_id,
            suspension.index,
            suspended,
            self.now if suspended else None,
            self.issued_by,
        )


def _issued(serial: str, kind: CertificateKind, valid_until: datetime) -> dict[str, Any]:
    return {"serial": serial, "kind": kind.value, "valid_until": valid_until.isoformat()}


def _issued_audit(
    serial: str,
    kind: CertificateKind,
    facts: Mapping[str, Any],
    valid_until: datetime,
    reason: str,
    before: dict[str, Any],
) -> dict[str, Any]:
    """The ``certificates.issued`` audit entry's arguments (:class:`audit.Record`'s fields)."""
    number = facts.get("registrationNumber", "")
    return {
        "action": "certificates.issued",
        "target_type": "certificate",
        "target_id": serial,
        "before": before,
        "after": {
            **_issued(serial, kind, valid_until),
            "registration_number": number,
            "reason": reason,
        },
    }


async def _revoke(
    certificate: CertificateRecord, reason: str, superseded_by: int | None = None
) -> None:
    now = clock.now().astimezone(UTC)
    values: dict[Any, Any] = {
        Certificate.revoked_at: now,
        Certificate.revocation_reason: reason,
        Certificate.revoked_by: current_actor().label,
    }
    if superseded_by is not None:
        values[Certificate.superseded_by] = superseded_by
    await Certificate.update(values).where(
        (Certificate.id == certificate.id) & Certificate.revoked_at.is_null()
    )
    row = await fetch_one("SELECT revocation_list FROM certificate WHERE id = {}", certificate.id)
    assert row is not None
    await status_lists.changed([int(row["revocation_list"])])
    change = "certificate_superseded" if superseded_by else "certificate_revoked"
    await register.record_change(
        certificate.entry_id, change, {"serial": certificate.serial}, {"revoked": True}, reason
    )
    await audit.record(
        f"certificates.{change.removeprefix('certificate_')}",
        "certificate",
        certificate.serial,
        before={"revoked": False},
        after={"revoked": True, "reason": reason},
    )


async def _set_suspended(certificate: CertificateRecord, suspended: bool, reason: str) -> None:
    now = clock.now().astimezone(UTC)
    await Certificate.update(
        {Certificate.suspended: suspended, Certificate.suspended_at: now if suspended else None}
    ).where(Certificate.id == certificate.id)
    row = await fetch_one("SELECT suspension_list FROM certificate WHERE id = {}", certificate.id)
    assert row is not None
    await status_lists.changed([int(row["suspension_list"])])
    change = "certificate_suspended" if suspended else "certificate_suspension_ended"
    await register.record_change(
        certificate.entry_id, change, {"suspended": not suspended}, {"suspended": suspended}, reason
    )
    await audit.record(
        f"certificates.{change.removeprefix('certificate_')}",
        "certificate",
        certificate.serial,
        before={"suspended": not suspended},
        after={"suspended": suspended},
    )


async def _live_registration(entry_id: int) -> CertificateRecord | None:
    rows = (
        await Certificate.select()
        .where(
            (Certificate.entry == entry_id)
            & (Certificate.kind == CertificateKind.registration.value)
            & Certificate.revoked_at.is_null()
        )
        .order_by(Certificate.id, ascending=False)
    )
    return _record(rows[0]) if rows else None


async def _public_entry(entry_id: int) -> PublicEntry:
    row = await fetch_one("SELECT public_document FROM register_entry WHERE id = {}", entry_id)
    if row is None:
        raise NotFound(f"There is no register entry {entry_id}")
    return PublicEntry.model_validate_json(row["public_document"])


async def entry_changed(change: hooks.EntryChange) -> None:
    """The register's change subscriber: keep the entry's registration certificate in step, in
    the transaction of the change."""
    status = RegisterStatus(change.status)
    live = await _live_registration(change.entry_id)
    if status not in ON_REGISTER:
        if live is not None:
            await _revoke(live, REVOKED_BECAUSE.get(status, "the registration ended"))
        return
    public = await _public_entry(change.entry_id)
    facts = registration_facts(public)
    suspended = status is RegisterStatus.suspended
    stale = live is not None and _stale(live, facts)
    if live is None or stale or change.cause in REISSUED_ON:
        await _issue(
            change.entry_id,
            CertificateKind.registration,
            facts,
            _end_of(public.registered_until),
            reason=_issue_reason(change.cause, live),
            suspended=suspended,
            replacing=live,
        )
    elif live.suspended != suspended:
        reason = "Suspended from the register" if suspended else "The suspension ended"
        await _set_suspended(live, suspended, reason)


async def entries_changed(changes: Sequence[hooks.EntryChange]) -> None:
    """:func:`entry_changed` for a batch of changes (an import's): an entry on the register
    with no live registration certificate gets one as :func:`entry_changed` would issue it,
    every certificate signed here and stored, with its history and audit entry, a statement
    per table for the batch; any other change goes through :func:`entry_changed` itself."""
    live = await live_registrations([change.entry_id for change in changes])
    simple = [
        change
        for change in changes
        if change.entry_id not in live and RegisterStatus(change.status) in ON_REGISTER
    ]
    for change in changes:
        # Off the register with no live certificate, entry_changed would find nothing to do.
        if change.entry_id in live:
            await entry_changed(change)
    if not simple:
        return
    ids = [change.entry_id for change in simple]
    rows = await fetch_all(
        f"SELECT id, public_document FROM register_entry WHERE id IN ({marks(len(ids))})",  # noqa: S608
        *ids,
    )
    documents = {int(row["id"]): row["public_document"] for row in rows}
    now = clock.now().astimezone(UTC)
    signer = _Signer(now)
    revocations = await status_lists.allocate_many(StatusPurpose.revocation, len(simple))
    suspensions = await status_lists.allocate_many(StatusPurpose.suspension, len(simple))
    kind = CertificateKind.registration
    certificates = []
    issued = []
    for change, revocation, suspension in zip(simple, revocations, suspensions, strict=True):
        public = PublicEntry.model_validate_json(documents[change.entry_id])
        facts = registration_facts(public)
        valid_until = _end_of(public.registered_until)
        suspended = RegisterStatus(change.status) is RegisterStatus.suspended
        row = signer.certificate(
            change.entry_id, kind, facts, valid_until, revocation, suspension, suspended=suspended
        )
        certificates.append(row)
        issued.append((change, row[0], facts, valid_until, _issue_reason(change.cause, None)))
    await insert_rows(Certificate, CERTIFICATE_COLUMNS, certificates)
    if changed := [row[9] for row in certificates if row[11]]:
        await status_lists.changed(changed)
    await register.record_changes(
        [
            register.Change(
                change.entry_id, "certificate_issued", {}, _issued(serial, kind, until), reason
            )
            for change, serial, _, until, reason in issued
        ]
    )
    await audit.record_many(
        [
            audit.Record(**_issued_audit(serial, kind, facts, until, reason, {}))
            for _, serial, facts, until, reason in issued
        ]
    )


def _issue_reason(cause: str, live: CertificateRecord | None) -> str:
    reasons = {
        hooks.CREATED: "Entered on the register",
        "renewal": "Registration renewed",
        "restoration": "Restored to the register",
        hooks.NAME_CHANGED: "Name changed",
    }
    if cause in reasons:
        return reasons[cause]
    return "The register entry changed" if live is not None else "Registration certificate issued"


async def issue_cpd_statement(
    entry_id: int, *, year: int, summary: Mapping[str, Any], valid_until: date, reason: str
) -> CertificateRecord:
    """An annual CPD statement for the CPD domain: ``summary`` is what it states (hours, rules
    met, …), alongside the practitioner's name and number. Its own transaction, or the caller's."""
    async with transaction():
        public = await _public_entry(entry_id)
        facts = {
            "registrationNumber": public.registration_number,
            "name": public.name,
            "registrationYear": year,
            "cpd": dict(summary),
        }
        return await _issue(
            entry_id, CertificateKind.cpd_statement, facts, _end_of(valid_until), reason=reason
        )


@dataclass(frozen=True)
class Batch:
    """One batch of issuing for every current entry: how far it got (the last entry id it
    looked at), how many entries it looked at, and the certificates it issued."""

    last_id: int
    checked: int
    issued: list[CertificateRecord]
    entry_ids: tuple[int, ...] = ()


async def current_entries(after_id: int = 0) -> int:
    """How many entries on the register have an id above ``after_id``."""
    row = await fetch_one(
        "SELECT COUNT(*) AS n FROM register_entry WHERE status IN ('registered',"
        " 'registered_with_conditions', 'suspended') AND id > {}",
        after_id,
    )
    return int(row["n"]) if row else 0


async def issue_current(after_id: int = 0, limit: int = 200) -> Batch:
    """The next ``limit`` entries on the register after ``after_id``, in one transaction: each
    with no live registration certificate, or one that no longer states what the register does
    (name, roles, dates, suspension), is brought into step through :func:`entry_changed`, so a
    stale certificate is superseded, never doubled. An entry already in step is left alone:
    running this again, after an interruption or to the end, issues nothing twice."""
    async with transaction():
        rows = await RegisterEntry.raw(
            "SELECT id, registration_number, status, public_document FROM register_entry"
            " WHERE status IN ('registered', 'registered_with_conditions', 'suspended')"
            " AND id > {} ORDER BY id LIMIT {}",
            after_id,
            limit,
        )
        if not rows:
            return Batch(after_id, 0, [])
        live = await live_registrations([int(row["id"]) for row in rows])
        issued = []
        for row in rows:
            public = PublicEntry.model_validate_json(row["public_document"])
            if not _out_of_step(live.get(int(row["id"])), public):
                continue
            await lock_row(RegisterEntry, row["id"])
            locked = await fetch_one("SELECT status FROM register_entry WHERE id = {}", row["id"])
            assert locked is not None
            before = await _live_registration(row["id"])
            await entry_changed(
                hooks.EntryChange(
                    row["id"],
                    row["registration_number"],
                    locked["status"],
                    locked["status"],
                    clock.now(),
                )
            )
            after = await _live_registration(row["id"])
            if after is not None and (before is None or after.id != before.id):
                issued.append(after)
        ids = tuple(int(row["id"]) for row in rows)
        return Batch(ids[-1], len(rows), issued, ids)


async def issue_missing() -> int:
    """Every entry on the register brought into step (the demo's catch-all); how many
    certificates that issued."""
    issued, after = 0, 0
    while True:
        batch = await issue_current(after)
        if not batch.checked:
            return issued
        issued, after = issued + len(batch.issued), batch.last_id


async def live_registrations(entry_ids: Sequence[int]) -> dict[int, CertificateRecord]:
    """The live registration certificate of each of these entries that has one."""
    rows = (
        await Certificate.select()
        .where(
            Certificate.entry.is_in(list(entry_ids))
            & (Certificate.kind == CertificateKind.registration.value)
            & Certificate.revoked_at.is_null()
        )
        .order_by(Certificate.id)
    )
    return {int(row["entry"]): _record(row) for row in rows}  # the newest wins


def _out_of_step(live: CertificateRecord | None, public: PublicEntry) -> bool:
    """Would :func:`entry_changed` (with no cause) change this entry's certificate?"""
    if public.status not in ON_REGISTER:
        return live is not None
    if live is None or _stale(live, registration_facts(public)):
        return True
    return live.suspended != (public.status is RegisterStatus.suspended)


def _stale(live: CertificateRecord, facts: Mapping[str, Any]) -> bool:
    return any(live.certified.get(key) != facts[key] for key in STATED)


# --- staff: revoke and reissue ------------------------------------------------------------


MAX_REASON = 1000


def staff_reason(reason: str, doing: str) -> str:
    """The reason staff give for ``doing`` (revoking, reissuing) a certificate, as it will be
    shown to anyone who checks the certificate, or what is wrong with it."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(f"Give the reason for {doing} the certificate", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason must be {MAX_REASON:,} characters or fewer", field="reason")
    problem = text_problem(reason, "The reason", multiline=True)
    if problem:
        raise InvalidInput(problem, field="reason")
    return reason


async def revoke(serial: str, *, reason: str) -> CertificateRecord:
    """Revoke one certificate with the reason staff give (audited)."""
    reason = staff_reason(reason, "revoking")
    async with transaction():
        certificate = await get(serial)
        await lock_row(Certificate, certificate.id)
        if (await _by_id(certificate.id)).revoked_at is not None:
            raise Conflict(f"Certificate {certificate.display_serial} is revoked already")
        await _revoke(certificate, reason.strip())
        return await _by_id(certificate.id)


async def reissue(serial: str, *, reason: str) -> CertificateRecord:
    """A new registration certificate in place of this one (a lost or damaged copy, a
    correction): the old one is superseded. Refused for an entry off the register."""
    reason = staff_reason(reason, "reissuing")
    async with transaction():
        certificate = await get(serial)
        await lock_row(RegisterEntry, certificate.entry_id)
        if certificate.kind is not CertificateKind.registration:
            raise Conflict("Only a registration certificate can be reissued")
        public = await _public_entry(certificate.entry_id)
        if public.status not in ON_REGISTER:
            raise Conflict(
                f"{public.registration_number} is {STATUS_LABELS[public.status].lower()}, "
                "so no registration certificate can be issued."
            )
        live = await _live_registration(certificate.entry_id)
        return await _issue(
            certificate.entry_id,
            CertificateKind.registration,
            registration_facts(public),
            _end_of(public.registered_until),
            reason=reason.strip(),
            suspended=public.status is RegisterStatus.suspended,
            replacing=live,
        )


# --- reading --------------------------------------------------------------------------------


async def _by_id(certificate_id: int) -> CertificateRecord:
    row = await Certificate.select().where(Certificate.id == certificate_id).first()
    if row is None:
        raise NotFound("There is no such certificate")
    return _record(row)


async def get(serial: str) -> CertificateRecord:
    """The certificate with this serial: malformed (422) or not found (404) said plainly."""
    return (await _find(serials.parse_serial(serial))).record


@dataclass(frozen=True)
class _Found:
    """A certificate with what verifying it needs, read in one query: the rows of its two
    status lists (so each served list is checked against its version without another query)
    and the public entry of its practitioner as it is now. The stored credential is parsed
    only when asked for (verifying one sent in has no need of it)."""

    row: Mapping[str, Any]
    lists: Mapping[str, Mapping[str, Any]]
    public: PublicEntry

    @functools.cached_property
    def record(self) -> CertificateRecord:
        return _record(self.row)

    @property
    def credential_text(self) -> str:
        return str(self.row["credential"])

    @property
    def revoked_at(self) -> datetime | None:
        return cast(datetime | None, self.row["revoked_at"])

    @property
    def revocation_reason(self) -> str:
        return str(self.row["revocation_reason"])


class _Revocation(Protocol):
    """What a revoked certificate's answer says of its revocation: a record or a row found."""

    @property
    def revoked_at(self) -> datetime | None: ...

    @property
    def revocation_reason(self) -> str: ...


_LIST_COLUMNS = ", ".join(
    f"{alias}.{column} AS {alias}_{column}"
    for alias in ("r", "s")
    for column in status_lists.LIST_COLUMNS
)
_FIND = (
    "SELECT c.id, c.serial, c.entry, c.kind, c.issued_at, c.valid_until, c.certified,"  # noqa: S608
    " c.credential, c.suspended, c.revoked_at, c.revocation_reason, c.superseded_by, "
    + _LIST_COLUMNS
    + ", e.public_document AS public_document FROM certificate c"
    " JOIN certificate_status_list r ON r.id = c.revocation_list"
    " JOIN certificate_status_list s ON s.id = c.suspension_list"
    " JOIN register_entry e ON e.id = c.entry WHERE c.serial = {}"
)


async def _find(parsed: str) -> _Found:
    row = await fetch_one(_FIND, parsed)
    if row is None:
        raise NotFound(
            f"No certificate has the serial {serials.display(parsed)}. Check it against the "
            "certificate."
        )
    lists = {
        str(row[f"{alias}_name"]): {
            column: row[f"{alias}_{column}"] for column in status_lists.LIST_COLUMNS
        }
        for alias in ("r", "s")
    }
    public = PublicEntry.model_validate_json(row["public_document"])
    return _Found(row, lists, public)


async def certificates_of(entry_id: int) -> list[CertificateWithValidity]:
    """Every certificate of one entry, newest first, each with whether it is valid now."""
    rows = (
        await Certificate.select()
        .where(Certificate.entry == entry_id)
        .order_by(Certificate.id, ascending=False)
    )
    found = []
    for row in rows:
        record = _record(row)
        found.append(CertificateWithValidity(record, await verify_record(record)))
    return found


@dataclass(frozen=True)
class CertificateWithValidity:
    certificate: CertificateRecord
    verification: Verification


# --- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str  # signature_valid, issued_by_register, not_revoked, not_suspended, not_expired,
    # registered
    passed: bool
    label: str  # what was checked, in words
    detail: str  # what was found, in words


@dataclass(frozen=True)
class Verification:
    valid: bool
    verdict: str
    checks: list[Check]
    serial: str = ""
    registration_number: str = ""
    name: str = ""
    status: str = ""
    restrictions: list[str] | None = None

    def check(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)


MAX_CREDENTIAL_BYTES = 64 * 1024


async def verify(
    serial_or_credential: str | Mapping[str, Any], *, sent: bytes | None = None
) -> Verification:
    """Verify a certificate by its serial or a whole credential: the separate checks and a
    plain-English verdict. A serial that is malformed is :class:`InvalidInput`; one not issued
    here is :class:`NotFound`; a credential that is not one of ours says which checks fail.

    ``sent``, with a credential, is the exact bytes it was read from (a request's JSON body):
    the same bytes always read as the same credential, so they are what its proof check is
    kept by, with no need to write the credential out again to know it."""
    if isinstance(serial_or_credential, str):
        found = await _find(serials.parse_serial(serial_or_credential))
        stored = ("stored", found.credential_text)
        return await _verify_credential(found.record.credential, found, stored)
    return await _verify_credential(serial_or_credential, None, ("sent", sent) if sent else None)


async def verify_record(record: CertificateRecord) -> Verification:
    return await verify(record.serial)


def _subject(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = credential.get("credentialSubject")
    return subject if isinstance(subject, Mapping) else {}


async def _verify_credential(
    credential: Mapping[str, Any],
    found: _Found | None = None,
    known_as: tuple[str, str | bytes] | None = None,
) -> Verification:
    """``known_as`` names the credential for the kept proof checks: ("stored", its stored text)
    or ("sent", the bytes it was read from); else it is known by its JSON written out."""
    if "credentialSubject" not in credential or "proof" not in credential:
        raise InvalidInput(
            "That is not a certificate credential: it has no credentialSubject or no proof.",
            field="credential",
        )
    the_issuer = issuer()
    ring = the_issuer.keys()  # read once for the proof and both status lists
    proof = _proof_of(credential, the_issuer, ring, known_as)
    subject = _subject(credential)
    serial = str(subject.get("serial", ""))
    if found is None and proof.signature_valid:
        try:
            found = await _find(serials.parse_serial(serial))
        except (InvalidInput, NotFound):
            found = None
    record: _Revocation | None = found
    checks = [
        Check(
            "signature_valid",
            proof.signature_valid,
            "Signature valid",
            "The signature matches the certificate"
            if proof.signature_valid
            else _cap(proof.problem),
        ),
        Check(
            "issued_by_register",
            proof.known_key,
            "Issued by this register's key",
            f"Signed with {proof.verification_method}"
            if proof.known_key
            else "Not signed with any key this register has published",
        ),
    ]
    trusted = proof.signature_valid and proof.known_key
    lists = found.lists if found else {}
    revoked, suspended = (
        await _status_bits(credential, lists, the_issuer, ring) if trusted else (None, None)
    )
    checks.append(_revocation_check(revoked, record))
    checks.append(
        Check(
            "not_suspended",
            suspended is False,
            "Not suspended",
            "Cannot be checked: the certificate is not one this register issued"
            if suspended is None
            else ("The practitioner is suspended" if suspended else "Not suspended"),
        )
    )
    expired = _expired(credential)
    checks.append(
        Check(
            "not_expired",
            trusted and not expired,
            "Not expired",
            f"Valid until {_day(str(credential.get('validUntil', '')))}"
            + (": it has expired" if expired else ""),
        )
    )
    number = str(subject.get("registrationNumber", ""))
    if not trusted:
        live = None
    elif found is not None and found.public.registration_number == number:
        live = found.public  # read with the certificate, in the same query
    else:
        live = await _live_entry(number)
    checks.append(_register_check(live))
    valid = all(check.passed for check in checks)
    return Verification(
        valid=valid,
        verdict=_verdict(valid, checks, subject, live, record),
        checks=checks,
        serial=serial,
        registration_number=str(subject.get("registrationNumber", "")),
        name=str(subject.get("name", "")),
        status=live.status.value if live else "",
        restrictions=[r.summary for r in live.restrictions] if live else [],
    )


# A proof check is a pure function of the credential's JSON value and the published keys: kept
# for the most recently verified, so a certificate checked again (a QR code scanned twice, an
# employer's daily check of the same file) costs no second canonicalisation and signature
# check. Only the proof is kept: the status bits and the register entry are read afresh on
# every verification. A stored credential is known by its stored text; one sent in, by the
# exact bytes it was read from, or else by its JSON with sorted keys (which tells apart every
# two values whose canonical forms differ: 1 and true, "1" and 1). Each way has its own tag,
# so no two ways can name different credentials alike.
_PROOFS: OrderedDict[tuple[str, str | bytes, tuple[Any, ...]], credentials.ProofCheck] = (
    OrderedDict()
)
_PROOFS_KEPT = 4096
_PROOF_KEY_LIMIT = 8 * 1024  # longer credentials are checked every time, not kept


def _proof_of(
    credential: Mapping[str, Any],
    the_issuer: Issuer,
    ring: KeyRing,
    known_as: tuple[str, str | bytes] | None = None,
) -> credentials.ProofCheck:
    if known_as is None:
        text = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        known_as = ("value", text)
    if len(known_as[1]) > _PROOF_KEY_LIMIT:
        return credentials.verify(credential, the_issuer.public_keys(ring))
    key = (*known_as, ring.published)
    proof = _PROOFS.get(key)
    if proof is None:
        proof = credentials.verify(credential, the_issuer.public_keys(ring))
        _PROOFS[key] = proof
        if len(_PROOFS) > _PROOFS_KEPT:
            _PROOFS.popitem(last=False)
    return proof


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


async def _status_bits(
    credential: Mapping[str, Any],
    lists: Mapping[str, Mapping[str, Any]],
    the_issuer: Issuer,
    ring: KeyRing,
) -> tuple[bool | None, bool | None]:
    """Each purpose's bit, read from this register's own served list as any verifier would
    (``lists``: rows of lists already read, by name)."""
    found: dict[str, bool | None] = {"revocation": None, "suspension": None}
    entries = credential.get("credentialStatus")
    prefix = the_issuer.url(status_lists.PATH)
    for entry in entries if isinstance(entries, list) else [entries]:
        if not isinstance(entry, Mapping) or entry.get("type") != status_lists.ENTRY_TYPE:
            continue
        purpose = entry.get("statusPurpose")
        url = str(entry.get("statusListCredential", ""))
        if purpose not in found or not url.startswith(prefix):
            continue
        try:
            name = url.removeprefix(prefix)
            served = await status_lists.served(name, lists.get(name), ring)
            found[str(purpose)] = served.bit(int(str(entry.get("statusListIndex", ""))))
        except (NotFound, ValueError, IndexError):
            continue
    return found["revocation"], found["suspension"]


def _revocation_check(revoked: bool | None, record: _Revocation | None) -> Check:
    if revoked is None:
        detail = "Cannot be checked: no status list of this register holds it"
    elif revoked and record is not None and record.revoked_at is not None:
        because = lower_first(record.revocation_reason)
        detail = f"Revoked on {record.revoked_at:%-d %B %Y} because {because}"
    elif revoked:
        detail = "Revoked"
    else:
        detail = "Not revoked"
    return Check("not_revoked", revoked is False, "Not revoked", detail)


def _expired(credential: Mapping[str, Any]) -> bool:
    text = str(credential.get("validUntil", ""))
    try:
        until = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return True
    return until.tzinfo is None or clock.now() > until


def _day(text: str) -> str:
    try:
        return f"{datetime.fromisoformat(text.replace('Z', '+00:00')):%-d %B %Y}"
    except ValueError:
        return "an unreadable date"


async def _live_entry(number: str) -> PublicEntry | None:
    try:
        document = await register.public_document(number)
    except (NotFound, InvalidInput):
        return None
    return PublicEntry.model_validate_json(document.json)


def _register_check(live: PublicEntry | None) -> Check:
    if live is None:
        return Check("registered", False, "On the register now", "Not found on the register")
    on = live.status in ON_REGISTER and live.status is not RegisterStatus.suspended
    detail = f"{live.registration_number} is {STATUS_LABELS[live.status].lower()}"
    if live.restrictions:
        detail += ": " + "; ".join(r.summary for r in live.restrictions)
    return Check("registered", on, "On the register now", detail)


def _verdict(
    valid: bool,
    checks: list[Check],
    subject: Mapping[str, Any],
    live: PublicEntry | None,
    record: _Revocation | None,
) -> str:
    name = str(subject.get("name", "")) or "the practitioner"
    if valid and live is not None:
        if live.restrictions:
            said = "; ".join(r.summary for r in live.restrictions)
            return (
                f"Valid: {name} is {STATUS_LABELS[live.status].lower()}, with restrictions: {said}"
            )
        return f"Valid: {name} is registered with no restrictions"
    failed = {check.name: check for check in checks if not check.passed}
    if "signature_valid" in failed or "issued_by_register" in failed:
        first = failed.get("issued_by_register") or failed["signature_valid"]
        return f"Not valid: {first.detail[:1].lower()}{first.detail[1:]}"
    if "not_revoked" in failed and record is not None and record.revoked_at is not None:
        return (
            f"Not valid: this certificate was revoked on {record.revoked_at:%-d %B %Y} "
            f"because {lower_first(record.revocation_reason)}"
        )
    if "not_revoked" in failed:
        return "Not valid: this certificate was revoked"
    if "not_suspended" in failed:
        return f"Not valid: {name} is suspended from the register"
    if "not_expired" in failed:
        until = failed["not_expired"].detail.removeprefix("Valid until ").split(":")[0]
        return f"Not valid: this certificate expired; it was valid until {until}"
    return f"Not valid: {failed['registered'].detail}" if "registered" in failed else "Not valid"
