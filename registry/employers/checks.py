"""Bulk checks: up to 10,000 registration numbers in one request, one result per input in the
order given, answered with the same handful of database queries whatever the list's length.

Each input is read with the register's own number parser; the entries of every well-formed
number are fetched in one query (PostgreSQL ``= ANY`` of an array, SQLite ``json_each`` of one
JSON parameter: one bound value either way, so no chunking), their restrictions in force in one
call of the register's hooks (which take a list), and the check is recorded in one insert: who,
for which organisation, when, how many, and the SHA-256 of the list. The numbers and the answers
are not kept.

No HTTP here.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from registry.audit import service as audit
from registry.core import clock
from registry.core.bulk import any_of
from registry.db import bound_engine, transaction
from registry.employers.tables import BulkCheck
from registry.errors import InvalidInput, RegistryError
from registry.register import hooks, numbers
from registry.register.schemas import STATUS_LABELS
from registry.register.tables import RegisterEntry, RegisterStatus

MAX_NUMBERS = 10_000
NOT_FOUND = "not_found"
MALFORMED = "malformed"
OUTCOME_LABELS: dict[str, str] = {
    **{status.value: label for status, label in STATUS_LABELS.items()},
    NOT_FOUND: "Not on the register",
    MALFORMED: "Not a registration number",
}
DEFAULT_COLUMN = "registration_number"
MAX_INPUT_LENGTH = 40  # a number with room for spaces; anything longer is answered as malformed
STREAM_AFTER = 500  # results: more than this and the answer is streamed in chunks of this size
TARGET = "employer_bulk_check"


class ListTooLong(RegistryError):
    """More numbers than one check takes: the API answers 413, naming the limit. ``count``
    is how many there were, for a caller with a limit of its own to say so in its words."""

    title = "Too many numbers"
    count = 0


@dataclass(frozen=True)
class Checker:
    """Who is checking: the organisation, and the person or the key."""

    organisation_id: int
    user_id: int | None = None
    api_key_id: int | None = None


@dataclass(slots=True)
class Result:
    """One input's answer; ``found`` is the entry's public facts (shared by duplicates)."""

    input: str
    registration_number: str | None
    status: str
    message: str | None
    found: dict[str, Any] | None

    @property
    def status_label(self) -> str:
        return OUTCOME_LABELS[self.status]

    @property
    def name(self) -> str:
        return str(self.found["name"]) if self.found else ""

    @property
    def roles(self) -> list[dict[str, str]]:
        return list(self.found["roles"]) if self.found else []

    @property
    def restrictions(self) -> list[dict[str, Any]]:
        return list(self.found["restrictions"]) if self.found else []


@dataclass(frozen=True)
class Outcome:
    check_id: int
    checked_at: datetime
    results: list[Result]


def list_too_long(count: int) -> ListTooLong:
    error = ListTooLong(
        f"A check takes at most {MAX_NUMBERS:,} numbers; this list has {count:,}. "
        "Split it into lists of 10,000 or fewer.",
        field="registration_numbers",
    )
    error.count = count
    return error


def _sha256(inputs: Sequence[str]) -> str:
    """SHA-256 of the list as sent, each item followed by a line break (UTF-8)."""
    text = "\n".join(inputs) + "\n"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_STORED_FORM = re.compile(rf"{numbers.PREFIX}([0-9]{{{numbers.DIGITS}}})([0-9X])")
# ISO 7064 MOD 11-2 is a weighted sum (the digits' weights are 2**6 … 2**1, mod 11), so the
# check character of six digits follows from the shares of its two halves: two tables of 1,000
# each, made once, turn numbers.check_character's loop over the digits into two lookups (that
# loop was about a third of reading 10,000 numbers).
_HALF = numbers.DIGITS // 2


def _share(digits: str, top: int) -> int:
    total = 0
    for i, digit in enumerate(digits):
        total += int(digit) << (top - i)
    return total % 11


_HALVES = [f"{n:0{_HALF}d}" for n in range(10**_HALF)]
_FIRST_HALF = {half: _share(half, numbers.DIGITS) for half in _HALVES}
_SECOND_HALF = {half: _share(half, _HALF) for half in _HALVES}
_CHECK_OF_TOTAL = tuple("X" if (12 - t) % 11 == 10 else str((12 - t) % 11) for t in range(22))


def _check_character(digits: str) -> str:
    """numbers.check_character of six digits, by table (tests/employers compare the two)."""
    return _CHECK_OF_TOTAL[_FIRST_HALF[digits[:_HALF]] + _SECOND_HALF[digits[_HALF:]]]


def _parse_all(inputs: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """Each input read once however often it comes; one already in the stored form is only
    checked for its check character (the parser's answer, faster)."""
    seen: dict[str, tuple[str | None, str | None]] = {}
    parsed = []
    stored_form = _STORED_FORM.fullmatch
    for item in inputs:
        answer = seen.get(item)
        if answer is None:
            stored = stored_form(item)
            if stored and _check_character(stored.group(1)) == stored.group(2):
                answer = (item, None)
            else:
                answer = _parse(item)
            seen[item] = answer
        parsed.append(answer)
    return parsed


def _parse(item: str) -> tuple[str | None, str | None]:
    """(the stored form of the number, None) or (None, what is wrong with it)."""
    if not item.strip():
        return None, "This line is blank"
    if len(item) > MAX_INPUT_LENGTH:
        return None, f"This is not a registration number: it should be {numbers.FORMAT_HINT}"
    try:
        return numbers.parse_registration_number(item), None
    except InvalidInput as error:
        return None, error.detail


# The name and roles come from the public entry the register wrote (so a check says what the
# public register says), picked out by the database: the roles as JSON text, read once for each
# distinct value, since most entries share a handful of role lists.
_ENTRIES_POSTGRES = (
    "SELECT id, registration_number, status, public_document::json->>'name' AS name,"
    " public_document::json->>'roles' AS roles FROM register_entry"
    " WHERE registration_number {numbers}"
)
_ENTRIES_SQLITE = (
    "SELECT id, registration_number, status, json_extract(public_document, '$.name') AS name,"
    " json_extract(public_document, '$.roles') AS roles FROM register_entry"
    " WHERE registration_number {numbers}"
)


async def _entries(wanted: list[str]) -> list[dict[str, Any]]:
    """The entries of ``wanted`` (stored numbers), in one query whatever the count."""
    if not wanted:
        return []
    numbers, bound = any_of(wanted)
    postgres = bound_engine().engine_type == "postgres"
    sql = (_ENTRIES_POSTGRES if postgres else _ENTRIES_SQLITE).format(numbers=numbers)
    return list(await RegisterEntry.raw(sql, bound))


def _restriction(restriction: hooks.Restriction) -> dict[str, Any]:
    return {
        "kind": restriction.kind.value,
        "summary": restriction.summary,
        "starts_on": restriction.starts_on.isoformat(),
        "ends_on": restriction.ends_on.isoformat() if restriction.ends_on else None,
        "decision_url": restriction.decision_url,
    }


# The statuses an entry may have (an unknown one fails as RegisterStatus(...) did), read by a
# dictionary lookup rather than an Enum call per entry.
_STATUSES = {status.value: status.value for status in RegisterStatus}


_checks_collecting_paused = 0


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cycle collector off while a check runs (and back on when the last check in
    progress ends, if it was on when the first began).

    A check of 10,000 numbers keeps some 60,000 objects alive until it answers, and reference
    counting frees them when it ends. With the collector on, they pushed it into dozens of
    young collections and a full one every check or two, each walking the whole process's
    heap: measured in-process on PostgreSQL, a check's CPU was 380-430 ms with the collector
    and 155-170 ms with it paused. Cycles made meanwhile, here or by other requests, wait for
    the next collection after the check, a fraction of a second later."""
    global _checks_collecting_paused
    if _checks_collecting_paused == 0 and not gc.isenabled():
        yield  # someone else turned it off: theirs to turn on
        return
    if _checks_collecting_paused == 0:
        gc.disable()
    _checks_collecting_paused += 1
    try:
        yield
    finally:
        _checks_collecting_paused -= 1
        if _checks_collecting_paused == 0:
            gc.enable()


async def check(inputs: Sequence[str], checker: Checker) -> Outcome:
    """Answer every input, in order, and record the check."""
    if len(inputs) > MAX_NUMBERS:
        raise list_too_long(len(inputs))
    if not inputs:
        raise InvalidInput("Give at least one registration number", field="registration_numbers")
    with _collection_paused():
        return await _check(inputs, checker)


async def _check(inputs: Sequence[str], checker: Checker) -> Outcome:
    moment = clock.now().astimezone(UTC)
    parsed = _parse_all(inputs)
    wanted = sorted({number for number, _ in parsed if number is not None})
    rows = await _entries(wanted)
    in_force = await hooks.restrictions_in_force([row["id"] for row in rows], moment.date())
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    role_lists: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        roles_text = row["roles"] or "[]"
        if roles_text not in role_lists:
            role_lists[roles_text] = json.loads(roles_text)
        facts = {
            "name": row["name"],
            "roles": role_lists[roles_text],
            "restrictions": [_restriction(r) for r in in_force.get(row["id"], [])],
        }
        found[row["registration_number"]] = (_STATUSES[row["status"]], facts)
    results: list[Result] = []
    for item, (number, problem) in zip(inputs, parsed, strict=True):
        if number is None:
            results.append(Result(item, None, MALFORMED, problem, None))
        elif number not in found:
            results.append(
                Result(item, number, NOT_FOUND, f"{number} is not on the register", None)
            )
        else:
            status, facts = found[number]
            results.append(Result(item, number, status, None, facts))
    record = BulkCheck(
        organisation=checker.organisation_id,
        user=checker.user_id,
        api_key=checker.api_key_id,
        checked_at=moment,
        numbers=len(inputs),
        list_sha256=_sha256(inputs),
    )
    async with transaction():
        await record.save()
        await audit.record(
            "employers.bulk_check",
            TARGET,
            record.id,
            after={"organisation": checker.organisation_id, "numbers": len(inputs)},
        )
    return Outcome(record.id, moment, results)


async def history(organisation_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The organisation's latest checks, newest first, with who made each."""
    rows = await BulkCheck.raw(
        "SELECT c.id, c.checked_at, c.numbers, c.list_sha256, u.display_name AS user_name,"
        " k.name AS key_name, k.key_prefix FROM employer_bulk_check c"
        " LEFT JOIN account_user u ON u.id = c.user"
        " LEFT JOIN employer_api_key k ON k.id = c.api_key"
        " WHERE c.organisation = {} ORDER BY c.checked_at DESC, c.id DESC LIMIT {}",
        organisation_id,
        limit,
    )
    return [dict(row) for row in rows]


# --- reading a list ---------------------------------------------------------------------------


def read_pasted(text: str) -> list[str]:
    """Numbers pasted one a line (or separated by commas or semicolons); blank ones dropped."""
    items: list[str] = []
    for line in text.splitlines():
        for part in line.replace(";", ",").split(","):
            if part.strip():
                items.append(part.strip())
    return items


def _column_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def read_csv(data: bytes, column: str = DEFAULT_COLUMN) -> list[str]:
    """The named column of a CSV file (UTF-8, a byte order mark allowed), blank cells dropped.

    The header row must name the column (case, spaces and underscores ignored:
    ``Registration number`` matches ``registration_number``)."""
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload it again.",
            field="file",
        ) from None
    if "\x00" in text:
        raise InvalidInput("The file is not a CSV file: it holds binary data", field="file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput("The file is empty", field="file")
        keys = [_column_key(name) for name in header]
        wanted = _column_key(column)
        if not wanted or wanted not in keys:
            shown = ", ".join(f"'{name[:40]}'" for name in header[:10]) or "none"
            raise InvalidInput(
                f"The file has no column named '{column[:40]}'. Its columns are: {shown}",
                field="file",
            )
        index = keys.index(wanted)
        items: list[str] = []
        for row in reader:
            value = row[index].strip() if index < len(row) else ""
            if value:
                items.append(value)
                if len(items) > MAX_NUMBERS:
                    raise list_too_long(sum(1 for _ in reader) + len(items))
    except csv.Error as error:
        raise InvalidInput(f"The file is not a valid CSV file: {error}", field="file") from None
    return items


# --- writing the answer -----------------------------------------------------------------------


def _result_json(result: Result, checked_at: str) -> dict[str, Any]:
    facts = result.found or {"name": None, "roles": [], "restrictions": []}
    return {
        "input": result.input,
        "registration_number": result.registration_number,
        "status": result.status,
        "status_label": result.status_label,
        "name": facts["name"],
        "roles": facts["roles"],
        "restrictions": facts["restrictions"],
        "message": result.message,
        "checked_at": checked_at,
    }


def json_chunks(outcome: Outcome) -> Iterator[bytes]:
    """The answer as JSON, in pieces of :data:`STREAM_AFTER` results."""
    checked_at = outcome.checked_at.isoformat().replace("+00:00", "Z")
    head = {"check_id": outcome.check_id, "checked_at": checked_at, "count": len(outcome.results)}
    yield msgspec.json.encode(head)[:-1] + b',"results":['
    for start in range(0, len(outcome.results), STREAM_AFTER):
        piece = outcome.results[start : start + STREAM_AFTER]
        body = msgspec.json.encode([_result_json(r, checked_at) for r in piece])[1:-1]
        yield (b"," if start else b"") + body
    yield b"]}"


CSV_COLUMNS = (
    "input",
    "registration_number",
    "status",
    "status_label",
    "name",
    "roles",
    "restrictions",
    "message",
    "checked_at",
)


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(outcome: Outcome) -> str:
    checked_at = outcome.checked_at.isoformat().replace("+00:00", "Z")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in outcome.results:
        writer.writerow(
            [
                _safe_cell(r.input),
                r.registration_number or "",
                r.status,
                r.status_label,
                _safe_cell(r.name),
                "; ".join(role["name"] for role in r.roles),
                "; ".join(f"{x['summary']} (from {x['starts_on']})" for x in r.restrictions),
                r.message or "",
                checked_at,
            ]
        )
    return out.getvalue()
