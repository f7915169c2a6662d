"""Raising a concern, and the cases concerns make.

Anyone may raise a concern, with or without an account; staff may open one on the regulator's
own motion. It gets its reference at once (told on the page and by email). A concern about
someone on the register who already faces an open case joins that case, so every concern about
one practitioner is handled as one case; one that names nobody on the register is never dropped:
it opens a case flagged for triage, until a caseworker identifies the practitioner (which links
it to their open case, if they have one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from registry import text
from registry.audit import service as audit
from registry.conduct import limits, references
from registry.conduct.tables import (
    RELATIONSHIP_LABELS,
    Case,
    CaseDocument,
    Concern,
    ConcernAttempt,
    ConcernCategory,
    Relationship,
    Stage,
)
from registry.conduct.workflow import INSERT_EVENT, Mover, add_event, bump, event_values, get_case
from registry.core import clock
from registry.core.scheduler import JobContext, ScheduledJob
from registry.db import (
    bound_engine,
    fetch_all_now,
    fetch_one,
    fetch_one_batched,
    fetch_one_now,
    lock_key,
    lock_row,
    on_postgres,
    serialise_on,
    short_transaction,
    transaction,
)
from registry.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from registry.notifications import service as notifications
from registry.register import evidence, numbers
from registry.register.tables import RegisterEntry
from registry.web import inputs

MAX_ATTACHMENTS = 5
EMAIL_LIMIT = 254
ATTEMPT_WINDOW = timedelta(hours=1)
CONCERNS_PER_ADDRESS = 10  # an hour, without an account: a busy office may send a few
TOO_MANY_CONCERNS = (
    "Too many concerns have been sent from your connection in the last hour. Wait an hour and "
    "try again, or phone us."
)


async def count_attempt(
    client_address: str,
    *,
    kind: str = "",
    most: int = CONCERNS_PER_ADDRESS,
    refusal: str = TOO_MANY_CONCERNS,
) -> None:
    """Record a concern (or, with ``kind``, an upload of its attachment) sent from
    ``client_address`` without an account, and refuse it when that address has sent more than
    ``most`` this hour. The attempt is kept either way (its own transaction), so a refused
    sender cannot reset the count by being refused."""
    async with short_transaction():
        limited = await _over_limit(client_address, kind, most, clock.now().astimezone(UTC))
    if limited:
        raise TooManyRequests(refusal, retry_after=int(ATTEMPT_WINDOW.total_seconds()))


# The attempt and the count of the hour's attempts from that address, under a lock on the
# address, so two at once cannot both be counted tenth. PostgreSQL inserts and counts in one
# statement: its count cannot see the row it inserts (one snapshot), so it adds it.
INSERT_ATTEMPT = (
    "INSERT INTO conduct_concern_attempt (client_address, attempted_at) VALUES ({}, {})"
)
COUNT_ATTEMPTS = (
    "SELECT COUNT(*) AS sent FROM conduct_concern_attempt"
    " WHERE client_address = {} AND attempted_at > {}"
)
INSERT_AND_COUNT_ATTEMPTS = (
    f"WITH kept AS ({INSERT_ATTEMPT} RETURNING id)"  # noqa: S608 - constants, not input
    " SELECT COUNT(*) + 1 AS sent FROM conduct_concern_attempt"
    " WHERE client_address = {} AND attempted_at > {}"
)


async def _over_limit(client_address: str, kind: str, most: int, moment: datetime) -> bool:
    """Keep one attempt from ``client_address`` in the open transaction; True (with its audit
    entry) when that makes more than ``most`` this hour."""
    key = f"{kind} {client_address}"[:64] if kind else client_address[:64]
    await serialise_on(ConcernAttempt, lock_key("concern", key))
    since = moment - ATTEMPT_WINDOW
    if bound_engine().engine_type == "postgres":
        counted = await fetch_one(INSERT_AND_COUNT_ATTEMPTS, key, moment, key, since)
    else:
        await fetch_one(INSERT_ATTEMPT, key, moment)
        counted = await fetch_one(COUNT_ATTEMPTS, key, since)
    assert counted is not None  # COUNT always answers a row
    if int(counted["sent"]) <= most:
        return False
    await audit.record(f"conduct.{kind or 'concerns'}_limited", "client", client_address)
    return True


# --- attachments ----------------------------------------------------------------------------
#
# A file attached to a concern is kept as soon as it is uploaded (the person has no account and
# the form's answers travel in hidden fields until it is sent), and the form carries a token for
# it: the file's id and when it was uploaded, signed with the service's secret key over the id,
# the file's SHA-256 and that time. Only a token this service issued for that very file names it,
# so nobody can attach someone else's stored file (a CPD certificate, say) by guessing its id; a
# token lasts a day, long enough to finish the form.

ATTACHMENT_FIELD = "attachments"
ATTACHMENT_PURPOSE = "conduct-concern-attachment"
ATTACHMENT_LIFETIME = timedelta(days=1)
ISSUED_AT_MOST = 2**40  # a token's issue time, in seconds: far beyond any clock's
UPLOADS_PER_ADDRESS = 30  # an hour, without an account: five files for each of several concerns
ATTACHMENT_MISSING = "Select a file to attach"
STALE_ATTACHMENT = (
    "A file you attached could not be found or has expired. Attach it again, or send your "
    "concern without it."
)


async def sweep_unsent_attachments(context: JobContext) -> str:
    """Files uploaded for concerns that were never sent, once no token for them can be used."""
    removed = await evidence.sweep_unclaimed(
        context.settings.data_dir, context.now - 2 * ATTACHMENT_LIFETIME
    )
    return f"removed {removed} files uploaded for concerns that were never sent"


JOBS = (
    ScheduledJob(
        "conduct_unsent_attachments",
        "Remove files uploaded for concerns that were never sent, two days after their upload",
        sweep_unsent_attachments,
    ),
)


@dataclass(frozen=True)
class Attachment:
    token: str
    stored: evidence.StoredFile


def _attachment_mac(secret_key: str, file_id: int, sha256: str, issued: int) -> str:
    message = f"{ATTACHMENT_PURPOSE}:{file_id}:{sha256}:{issued}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def attachment_token(secret_key: str, stored: evidence.StoredFile) -> str:
    issued = int(clock.now().timestamp())
    return f"{stored.id}.{issued}.{_attachment_mac(secret_key, stored.id, stored.sha256, issued)}"


async def read_attachment(secret_key: str, token: str) -> Attachment:
    """The file a token names, if this service issued the token for it within the last day;
    otherwise InvalidInput (one message, whatever was wrong: a guess learns nothing)."""
    refused = InvalidInput(STALE_ATTACHMENT, field=ATTACHMENT_FIELD)
    parts = token.split(".") if len(token) <= 120 else []
    if len(parts) != 3:
        raise refused
    file_id, issued = inputs.row_id(parts[0]), inputs.whole_number(parts[1], ISSUED_AT_MOST)
    if file_id is None or issued is None:
        raise refused
    now = clock.now().timestamp()
    if not now - ATTACHMENT_LIFETIME.total_seconds() <= issued <= now + 60:
        raise refused
    try:
        stored = await evidence.get(file_id)
    except NotFound:
        raise refused from None
    if not hmac.compare_digest(
        _attachment_mac(secret_key, file_id, stored.sha256, issued), parts[2]
    ):
        raise refused
    return Attachment(token, stored)


async def read_attachments(secret_key: str, tokens: Sequence[str]) -> list[Attachment]:
    chosen = list(dict.fromkeys(tokens))
    if len(chosen) > MAX_ATTACHMENTS:
        raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer", field=ATTACHMENT_FIELD)
    return [await read_attachment(secret_key, token) for token in chosen]


async def upload_attachment(
    filename: str,
    data: bytes | None,
    data_dir: Path,
    secret_key: str,
    *,
    uploaded_by: int | None,
    client_address: str | None,
) -> Attachment:
    """Check a file by its content and keep it (once, by its hash) for a concern still to be
    sent; its token is what the concern names it by. A refused file leaves no trace."""
    checked = evidence.check_upload(filename, data, missing=ATTACHMENT_MISSING)
    if client_address is not None:
        await count_attempt(
            client_address,
            kind="upload",
            most=UPLOADS_PER_ADDRESS,
            refusal=(
                "Too many files have been uploaded from your connection in the last hour. "
                "Wait an hour and try again, or send your concern without them."
            ),
        )

    async def kept(stored: evidence.StoredFile) -> None:
        await audit.record(
            "conduct.attachment_uploaded",
            "evidence_file",
            stored.id,
            after={"sha256": stored.sha256, "size": stored.size},
        )

    stored = await evidence.store(data_dir, checked, uploaded_by=uploaded_by, then=kept)
    return Attachment(attachment_token(secret_key, stored), stored)


@dataclass(frozen=True)
class ConcernIn:
    """A concern as raised: who about, what happened and when, who raises it."""

    what_happened: str
    relationship: str
    categories: Sequence[str]
    about_number: str = ""
    about_name: str = ""
    about_workplace: str = ""
    happened_on: date | None = None
    happened_when: str = ""
    raiser_name: str = ""
    raiser_email: str = ""
    raiser_phone: str = ""
    consent_to_share: bool = False
    attachments: Sequence[int] = field(default_factory=tuple)  # stored evidence file ids


@dataclass(frozen=True)
class Raised:
    reference: str
    case_id: int
    case_reference: str
    needs_identifying: bool


def _line(value: str, label: str, field_name: str, most: int, *, needed: bool = False) -> str:
    value = value.strip()
    if needed and not value:
        raise InvalidInput(f"Enter {label}", field=field_name)
    if problem := text.text_problem(value, label.capitalize()):
        raise InvalidInput(problem, field=field_name)
    if len(value) > most:
        raise InvalidInput(
            f"{label.capitalize()} must be {most:,} characters or fewer", field=field_name
        )
    return value


def _relationship(value: str) -> Relationship:
    try:
        return Relationship(value)
    except ValueError:
        raise InvalidInput(
            "Choose who you are to the practitioner: " + ", ".join(r.value for r in Relationship),
            field="relationship",
        ) from None


ACTIVE_CATEGORIES = "SELECT id, code FROM conduct_allegation_category WHERE active = {}"
CHOSEN_CATEGORIES = ACTIVE_CATEGORIES + " AND code IN "
ENTRY_BY_NUMBER = "SELECT id FROM register_entry WHERE registration_number = {}"


def _chosen(codes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(code.strip() for code in codes))


async def _categories(codes: Sequence[str]) -> list[int]:
    chosen = _chosen(codes)
    if not chosen:
        raise InvalidInput("Choose at least one kind of concern", field="categories")
    # Only the chosen ones; every kind is read only to name them when one is unknown.
    sql = CHOSEN_CATEGORIES + f"({', '.join('{}' for _ in chosen)})"
    known = {row["code"]: row["id"] for row in await fetch_all_now(sql, True, *chosen)}
    unknown = [code for code in chosen if code not in known]
    if unknown:
        every = [row["code"] for row in await fetch_all_now(ACTIVE_CATEGORIES, True)]
        raise InvalidInput(
            f"'{unknown[0][:40]}' is not a kind of concern. Choose from: {', '.join(every)}",
            field="categories",
        )
    return [known[code] for code in chosen]


async def _entry_for(number: str) -> int | None:
    if not number.strip():
        return None
    parsed = numbers.parse_registration_number(number)  # InvalidInput when malformed
    row = await fetch_one_now(ENTRY_BY_NUMBER, parsed)
    return None if row is None else int(row["id"])


async def raise_concern(
    concern: ConcernIn,
    *,
    raised_by: int | None = None,
    own_motion: bool = False,
    client_address: str | None = None,
) -> Raised:
    """Record a concern and put it in a case; tell the person raising it its reference.
    ``client_address``: sent without an account from there, so counted against its limit
    (once the concern is found well formed). Every refusal but one stores nothing; that one,
    TooManyRequests, keeps the attempt (and its audit entry) it refuses, so whoever answers it
    must not call this again for the same request (conduct/api.py's fast path answers it).
    On PostgreSQL the database work is one call (:data:`RAISE_IF_SIMPLE`) when it can decide
    everything; otherwise, and on SQLite, it is the short transaction below."""
    relationship = _relationship(concern.relationship)
    if relationship is Relationship.regulator and not own_motion:
        raise InvalidInput(
            "Only the regulator's staff open a concern on its own motion", field="relationship"
        )
    what = concern.what_happened.strip()
    if not what:
        raise InvalidInput("Describe what happened", field="what_happened")
    if problem := text.text_problem(what, "What happened", multiline=True):
        raise InvalidInput(problem, field="what_happened")
    if len(what) > limits.MAX_TEXT:
        raise InvalidInput(
            "What happened must be 10,000 characters or fewer", field="what_happened"
        )
    about_number = _line(concern.about_number, "the registration number", "about_number", 20)
    about_name = _line(concern.about_name, "their name", "about_name", 200)
    about_workplace = _line(concern.about_workplace, "where they work", "about_workplace", 200)
    if not about_number and not about_name:
        raise InvalidInput(
            "Give the practitioner's registration number, or their name and where they work",
            field="about_name",
        )
    when = _line(concern.happened_when, "when it happened", "happened_when", 200)
    today = clock.now().date()
    if concern.happened_on is not None and concern.happened_on > today:
        raise InvalidInput("The date it happened must be today or in the past", field="happened_on")
    raiser_name = _line(concern.raiser_name, "your name", "raiser_name", 200)
    raiser_email = _line(concern.raiser_email, "your email address", "raiser_email", EMAIL_LIMIT)
    if raiser_email and ("@" not in raiser_email or raiser_email.startswith("@")):
        raise InvalidInput(
            "Enter an email address in the correct format, like name@example.com",
            field="raiser_email",
        )
    raiser_phone = _line(concern.raiser_phone, "your phone number", "raiser_phone", 40)
    attachments = list(dict.fromkeys(concern.attachments))
    # The concern's own columns as given, the same for either path.
    given: dict[str, Any] = {
        "about_number": about_number,
        "about_name": about_name,
        "about_workplace": about_workplace,
        "what_happened": what,
        "happened_on": concern.happened_on,
        "happened_when": when,
        "relationship": relationship.value,
        "raiser_name": raiser_name,
        "raiser_email": raiser_email.casefold(),
        "raiser_phone": raiser_phone,
        "consent_to_share": concern.consent_to_share,
        "raised_by": raised_by,
    }
    if on_postgres():
        raised = await _raise_if_simple(
            given,
            raiser_email,
            _chosen(concern.categories),
            attachments,
            own_motion=own_motion,
            client_address=client_address,
        )
        if raised is not None:
            return raised
    # One transaction, from the reads the checks need (on SQLite they run on the write's
    # connection, whose pages are warm: the read connection's cache is dropped whenever
    # another connection commits). The attempt is counted first, and kept (with the
    # refusal's audit entry) when it is one too many, without the concern.
    async with short_transaction():
        category_ids = await _categories(concern.categories)
        if len(attachments) > MAX_ATTACHMENTS:
            raise InvalidInput(f"Attach {MAX_ATTACHMENTS} files or fewer", field="attachments")
        entry_id = await _entry_for(about_number)
        moment = clock.now().astimezone(UTC)
        reference = references.new_reference()
        values: dict[str, Any] = {"reference": reference, **given, "raised_at": moment}
        email = _email(raiser_email, raiser_name, reference) if raiser_email else None
        if client_address is not None and await _over_limit(
            client_address, "", CONCERNS_PER_ADDRESS, moment
        ):
            limited = True
        else:
            limited = False
            case_id, case_reference, new_case = await _case_for(entry_id, reference, moment)
            event = event_values(
                case_id,
                "concern_received" if new_case else "concern_linked",
                None,
                Stage.received if new_case else None,
                by=Mover(raised_by),
                details={"concern": reference, "relationship": relationship.value},
            )
            await _record(values, case_id, category_ids, attachments, event, email)
            await audit.record(
                "conduct.concern_raised",
                "conduct_case",
                case_reference,
                after=_audited(reference, relationship.value, entry_id is not None, own_motion),
            )
    if limited:
        raise TooManyRequests(TOO_MANY_CONCERNS, retry_after=int(ATTEMPT_WINDOW.total_seconds()))
    return Raised(reference, case_id, case_reference, entry_id is None)


def _audited(reference: str, relationship: str, identified: bool, own_motion: bool) -> Any:
    """What the audit trail keeps of a concern raised (``conduct.concern_raised``)."""
    return {
        "concern": reference,
        "relationship": relationship,
        "identified": identified,
        "own_motion": own_motion,
    }


# The arguments of the database's conduct_raise_if_simple (migration 2026-11-28T14:00:00), in
# order.
RAISE_ARGUMENTS = (
    "codes",
    "number",
    "limit_key",
    "lock_key",
    "since",
    "most",
    "reference",
    "received",
    "closed",
    "moment",
    "about_number",
    "about_name",
    "about_workplace",
    "what_happened",
    "happened_on",
    "happened_when",
    "relationship",
    "raiser_name",
    "raiser_email",
    "raiser_phone",
    "consent_to_share",
    "raised_by",
    "attachments",
    "event_by",
    "event_label",
    "event_at",
    "event_details",
    "email_recipient",
    "email_body",
    "email_key",
    "email_at",
    "email_template",
    "email_subject",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "client_address",
    "request_id",
    "mid",
    "tail",
    "changes_identified",
    "head_identified",
    "changes_unidentified",
    "head_unidentified",
)
# PostgreSQL: the whole of raise_concern's database work in one call, one round trip: the kinds
# chosen and the practitioner read, the attempt counted, the case found (the entry held) or
# opened, the concern, its kinds and attachments, the case's event, the email and the audit
# entry written. It writes nothing when it cannot decide as the step-by-step path would (an
# unknown kind, one attempt too many, a lock held elsewhere: ``outcome`` says which), and that
# path then runs as it always has.
RAISE_IF_SIMPLE = (
    "SELECT outcome, case_id, case_reference, new_case, identified"  # noqa: S608 - names
    f" FROM conduct_raise_if_simple({', '.join('{}' for _ in RAISE_ARGUMENTS)})"
)


async def _raise_if_simple(
    values: dict[str, Any],
    raiser_email: str,
    chosen: list[str],
    attachments: list[int],
    *,
    own_motion: bool,
    client_address: str | None,
) -> Raised | None:
    """:func:`raise_concern` in one call (:data:`RAISE_IF_SIMPLE`) for a concern checked as far
    as it can be without the database, or None when nothing was written: anything this cannot
    check as the step-by-step path does (no kind chosen, too many files, a malformed number or
    email address) is left to that path before the call, and what the call could not decide,
    after it, so every refusal is the one that path gives, in its order."""
    if not chosen or len(attachments) > MAX_ATTACHMENTS:
        return None
    number = None
    if values["about_number"]:
        try:
            number = numbers.parse_registration_number(values["about_number"])
        except InvalidInput:
            return None
    moment = clock.now().astimezone(UTC)
    reference = references.new_reference()
    email: dict[str, Any] = dict.fromkeys(notifications.EMAIL_COLUMNS)
    if raiser_email:
        try:
            sql, queued = _email(raiser_email, values["raiser_name"], reference)
        except InvalidInput:
            return None
        if sql != notifications.EMAIL_INSERT:
            return None
        email = dict(zip(notifications.EMAIL_COLUMNS, queued, strict=True))
    event = event_values(
        0,
        "concern_received",
        None,
        Stage.received,
        by=Mover(values["raised_by"]),
        details={"concern": reference, "relationship": values["relationship"]},
    )
    # The entry is hashed here both ways (the practitioner found on the register or not): the
    # database takes the one that holds, with the case's reference as its target.
    pieces = {}
    for found in (True, False):
        after = _audited(reference, values["relationship"], found, own_motion)
        entry, _ = audit.entry_values("conduct.concern_raised", "conduct_case", "", None, after)
        pieces[found] = audit.database_append(entry, None)
    appended = pieces[True]
    if not audit.is_plain(reference) or any(
        pieces[False][name] != appended[name] for name in ("mid", "tail")
    ):
        return None
    key = None if client_address is None else client_address[:64]
    given = {
        **values,
        **{name: appended[name] for name in audit.APPEND_ARGUMENTS},
        "codes": chosen,
        "number": number,
        "limit_key": key,
        "lock_key": 0 if key is None else lock_key("concern", key),
        "since": moment - ATTEMPT_WINDOW,
        "most": CONCERNS_PER_ADDRESS,
        "reference": reference,
        "received": Stage.received.value,
        "closed": Stage.closed.value,
        "moment": moment,
        "attachments": attachments,
        "event_by": event[4],
        "event_label": event[5],
        "event_at": event[6],
        "event_details": event[8],
        "email_recipient": email["recipient"],
        "email_body": email["body"],
        "email_key": email["idempotency_key"],
        "email_at": email["created_at"],
        "email_template": email["template"],
        "email_subject": email["subject"],
        "changes_identified": appended["changes"],
        "head_identified": appended["head"],
        "changes_unidentified": pieces[False]["changes"],
        "head_unidentified": pieces[False]["head"],
    }
    # Sent with the other concerns raised at the same moment: one commit for them all.
    row = await fetch_one_batched(RAISE_IF_SIMPLE, *(given[name] for name in RAISE_ARGUMENTS))
    assert row is not None  # one row always
    if row["outcome"] != "written":
        return None
    return Raised(reference, int(row["case_id"]), row["case_reference"], not row["identified"])


def _email(to: str, name: str, reference: str) -> tuple[str, tuple[Any, ...]]:
    """The acknowledgement to whoever raised concern ``reference``
    (:func:`notifications.email_insert`)."""
    return notifications.email_insert(
        to,
        "conduct_concern_received",
        {"name": name, "reference": reference, "path": "/raise-a-concern"},
        subject=f"We have received your concern {reference}",
        key=f"conduct-concern:{reference}",
    )


CONCERN_COLUMNS = (
    "reference",
    "case",
    "about_number",
    "about_name",
    "about_workplace",
    "what_happened",
    "happened_on",
    "happened_when",
    "relationship",
    "raiser_name",
    "raiser_email",
    "raiser_phone",
    "consent_to_share",
    "raised_by",
    "raised_at",
)
QUOTED_CONCERN_COLUMNS = ", ".join(f'"{column}"' for column in CONCERN_COLUMNS)  # "case"
INSERT_CONCERN = (
    f"INSERT INTO conduct_concern ({QUOTED_CONCERN_COLUMNS})"  # noqa: S608 - names, not input
    f" VALUES ({', '.join('{}' for _ in CONCERN_COLUMNS)}) RETURNING id"
)
INSERT_CASE = (
    "INSERT INTO conduct_case (reference, entry, needs_identifying, stage, opened_at,"
    " stage_changed_at) VALUES ({}, {}, {}, {}, {}, {}) RETURNING id"
)
OPEN_CASE_OF = (
    "SELECT id, reference FROM conduct_case WHERE entry = {} AND stage != {} ORDER BY id LIMIT 1"
)

DOCUMENT_COLUMNS = '"case", concern, file, kind, disclosed, added_by, added_at'
# PostgreSQL: the concern, its categories, its attachments, the case's event and the email
# in one statement (one round trip instead of four or five); the lists go as arrays, so the
# statement's text is the same for every concern and asyncpg prepares it once.
RECORD_CONCERN = (
    f"WITH concern AS ({INSERT_CONCERN}),"  # noqa: S608 - constants, not input
    " categories AS (INSERT INTO conduct_concern_category (concern, category)"
    " SELECT concern.id, chosen FROM concern, unnest({}::integer[]) AS chosen),"
    f" documents AS (INSERT INTO conduct_case_document ({DOCUMENT_COLUMNS})"
    " SELECT {}::integer, concern.id, chosen, 'attachment', FALSE, {}::integer, {}::timestamptz"
    " FROM concern, unnest({}::integer[]) AS chosen),"
    f" event AS ({INSERT_EVENT})"
)


def _rows(table: str, columns: str, width: int, count: int) -> str:
    """One multi-row insert of ``count`` rows (``{}`` placeholders, ``width`` a row)."""
    row = f"({', '.join('{}' for _ in range(width))})"
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608


async def _record(
    values: dict[str, Any],
    case_id: int,
    category_ids: list[int],
    attachments: list[int],
    event: tuple[Any, ...],
    email: tuple[str, tuple[Any, ...]] | None,
) -> None:
    """The concern in its case, its categories, its attachments (undisclosed), the case's
    event (``event``: :func:`event_values`) and the email to whoever raised it (``email``:
    :func:`notifications.email_insert`)."""
    values["case"] = case_id
    concern = [values[column] for column in CONCERN_COLUMNS]
    if bound_engine().engine_type == "postgres":
        added = (values["raised_by"], values["raised_at"])
        queued = f", email AS ({email[0]})" if email else ""
        await fetch_one(
            f"{RECORD_CONCERN}{queued} SELECT id FROM concern",  # noqa: S608 - constants
            *concern,
            category_ids,
            case_id,
            *added,
            attachments,
            *event,
            *(email[1] if email else ()),
        )
        return
    # SQLite has no INSERT in WITH; its statements run in this thread, microseconds each.
    inserted = await fetch_one(INSERT_CONCERN, *concern)
    assert inserted is not None  # RETURNING always answers a row
    concern_id = int(inserted["id"])
    pairs = [value for category in category_ids for value in (concern_id, category)]
    await fetch_one(
        _rows("conduct_concern_category", "concern, category", 2, len(category_ids)), *pairs
    )
    if attachments:
        documents = [
            value
            for file_id in attachments
            for value in (
                case_id,
                concern_id,
                file_id,
                "attachment",
                False,
                values["raised_by"],
                values["raised_at"],
            )
        ]
        await fetch_one(
            _rows("conduct_case_document", DOCUMENT_COLUMNS, 7, len(attachments)), *documents
        )
    await fetch_one(INSERT_EVENT, *event)
    if email is not None:
        await fetch_one(email[0], *email[1])


async def _case_for(
    entry_id: int | None, reference: str, moment: datetime
) -> tuple[int, str, bool]:
    """The open case this concern joins, or a new one (flagged when nobody is identified). The
    entry is held first, so voluntary removal at the same moment sees the case or is refused."""
    if entry_id is not None:
        await lock_row(RegisterEntry, entry_id)
        open_case = await fetch_one(OPEN_CASE_OF, entry_id, Stage.closed.value)
        if open_case is not None:
            return int(open_case["id"]), open_case["reference"], False
    inserted = await fetch_one(
        INSERT_CASE,
        reference,
        entry_id,
        entry_id is None,
        Stage.received.value,
        moment,
        moment,
    )
    assert inserted is not None  # RETURNING always answers a row
    return int(inserted["id"]), reference, True


async def identify(case_id: int, number: str, *, by: Mover, version: int) -> int:
    """Say who a flagged case is about. If they already have an open case, this case's concerns
    join it and this one closes as linked; returns the id of the case that holds them now."""
    entry_id = await _entry_for(number)
    if entry_id is None:
        raise InvalidInput(
            f"{number.strip()[:20]} is not on the register", field="registration_number"
        )
    async with transaction():
        case = await get_case(case_id)
        if version != case.version:
            raise Conflict(f"Case {case.reference} has changed since you opened it")
        if case.stage not in (Stage.received, Stage.triage):
            raise Conflict("A case is identified at triage, before anything else is decided")
        if case.entry_id is not None and not case.needs_identifying:
            raise Conflict("This case already names the practitioner")
        await lock_row(RegisterEntry, entry_id)
        other = (
            await Case.select(Case.id, Case.version, Case.reference)
            .where(
                (Case.entry == entry_id) & (Case.stage != Stage.closed.value) & (Case.id != case_id)
            )
            .first()
        )
        if other is None:
            await bump(case, {Case.entry: entry_id, Case.needs_identifying: False})
            await add_event(case_id, "identified", None, None, by=by, details={"number": number})
            await audit.record(
                "conduct.case_identified", "conduct_case", case.reference, after={"entry": entry_id}
            )
            return case_id
        await Concern.update({Concern.case: other["id"]}).where(Concern.case == case_id)
        await CaseDocument.update({CaseDocument.case: other["id"]}).where(
            CaseDocument.case == case_id
        )
        moment = clock.now().astimezone(UTC)
        await bump(
            case,
            {
                Case.entry: entry_id,
                Case.needs_identifying: False,
                Case.stage: Stage.closed.value,
                Case.outcome: "linked",
                Case.stage_changed_at: moment,
                Case.final_decided_at: moment,
            },
        )
        await add_event(
            case_id,
            "linked",
            case.stage,
            Stage.closed,
            by=by,
            details={"into": other["reference"]},
        )
        await add_event(
            other["id"], "concern_linked", None, None, by=by, details={"from": case.reference}
        )
        await audit.record(
            "conduct.case_linked",
            "conduct_case",
            case.reference,
            after={"into": other["reference"]},
        )
        return int(other["id"])


@dataclass(frozen=True)
class ConcernView:
    reference: str
    raised_at: object
    about_number: str
    about_name: str
    about_workplace: str
    what_happened: str
    happened_on: date | None
    happened_when: str
    categories: list[str]
    relationship: str
    relationship_label: str
    # Only for those allowed to see who raised it: None otherwise.
    raiser_name: str | None
    raiser_email: str | None
    raiser_phone: str | None
    consent_to_share: bool


async def concerns_of(case_id: int, *, show_raiser: bool | None) -> list[ConcernView]:
    """The case's concerns. ``show_raiser``: True for fitness to practise staff; None for the
    practitioner (who sees a raiser only where they consented); False never."""
    rows = await Concern.select().where(Concern.case == case_id).order_by(Concern.id)
    names = await ConcernCategory.select(
        ConcernCategory.concern, ConcernCategory.category.name.as_alias("name")
    ).where(ConcernCategory.concern.is_in([row["id"] for row in rows] or [0]))
    by_concern: dict[int, list[str]] = {}
    for row in names:
        by_concern.setdefault(row["concern"], []).append(row["name"])
    found = []
    for row in rows:
        shown = show_raiser is True or (show_raiser is None and row["consent_to_share"])
        relationship = Relationship(row["relationship"])
        found.append(
            ConcernView(
                reference=row["reference"],
                raised_at=row["raised_at"],
                about_number=row["about_number"],
                about_name=row["about_name"],
                about_workplace=row["about_workplace"],
                what_happened=row["what_happened"],
                happened_on=row["happened_on"],
                happened_when=row["happened_when"],
                categories=by_concern.get(row["id"], []),
                relationship=relationship.value,
                relationship_label=RELATIONSHIP_LABELS[relationship],
                raiser_name=row["raiser_name"] if shown else None,
                raiser_email=row["raiser_email"] if shown else None,
                raiser_phone=row["raiser_phone"] if shown else None,
                consent_to_share=bool(row["consent_to_share"]),
            )
        )
    return found


async def case_of_concern(reference: str) -> int:
    parsed = references.parse_reference(reference)
    row = await Concern.select(Concern.case).where(Concern.reference == parsed).first()
    if row is None:
        raise NotFound(f"There is no concern {parsed}")
    return int(row["case"])


def details_json(details: str) -> dict[str, object]:
    return dict(json.loads(details or "{}"))
