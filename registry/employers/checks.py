"""Bulk checks: up to 10,000 registration numbers in one request, one result per input in the
order given, answered with the same handful of database queries whatever the list's length.

An input already written as a number is stored (``PR1000011``) is looked up as it is: the
entries match only stored numbers, all of them valid, so an input that finds one needs no more
reading; every other input is read with the register's own number parser before the query, and
one in the stored form that finds nothing after it (its check character says "not on the
register" from "malformed"). The entries of every number are fetched in one query (PostgreSQL
``= ANY`` of an array, SQLite ``json_each`` of one JSON parameter: one bound value either way, so
no chunking) that answers one row whatever the count: the ids, numbers and statuses, and the
public entries as one JSON array, which msgspec reads in one call, keeping each entry's roles as
the bytes the register wrote. Their restrictions in force come in one call of the register's
hooks (which take a list), and the check is recorded in one insert: who, for which organisation,
when, how many, and the SHA-256 of the list. The numbers and the answers are not kept.

Each distinct input's answer is one small msgspec struct in the field order of the API's
``VerificationResult`` (duplicates share it), and the answer is encoded from them in a few large
pieces: no dictionary per result, no re-encoding of the roles.

No HTTP here.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from registry.audit import service as audit
from registry.core import clock
from registry.db import bound_engine, fetch_one, transaction
from registry.employers.tables import BulkCheck
from registry.errors import InvalidInput, RegistryError
from registry.register import hooks, numbers
from registry.register.schemas import STATUS_LABELS, PublicEntry
from registry.register.tables import RegisterStatus

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
STREAM_AFTER = 500  # results: more than this and the answer is streamed
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


EMPTY_LIST = msgspec.Raw(b"[]")


class Answer(msgspec.Struct, gc=False):
    """One input's answer as the API writes it (``schemas.VerificationResult``: the fields in its
    order). ``roles`` is the JSON the public entry holds, copied as it is; ``restrictions`` the
    orders in force, as the API shows them."""

    input: str
    registration_number: str | None
    status: str
    status_label: str
    name: str | None
    roles_json: msgspec.Raw = msgspec.field(name="roles")
    restrictions: list[dict[str, Any]] | tuple[()] = ()
    message: str | None = None
    checked_at: str = ""

    @property
    def found(self) -> bool:
        return self.status not in (NOT_FOUND, MALFORMED)

    @property
    def roles(self) -> list[dict[str, str]]:
        return list(msgspec.json.decode(self.roles_json))


@dataclass(slots=True)
class Result:
    """One input's answer for the service's own pages; ``found`` is the entry's public facts."""

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


def _result(answer: Answer) -> Result:
    found = None
    if answer.found:
        found = {
            "name": answer.name,
            "roles": answer.roles,
            "restrictions": list(answer.restrictions),
        }
    return Result(answer.input, answer.registration_number, answer.status, answer.message, found)


@dataclass(frozen=True)
class Outcome:
    """A check's answers, one for each input in order (the same object for the same input)."""

    check_id: int
    checked_at: datetime
    answers: list[Answer]

    @property
    def results(self) -> list[Result]:
        """The answers for the pages (name, roles and restrictions as Python values)."""
        return [_result(answer) for answer in self.answers]


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


def _read(item: str) -> tuple[str | None, str | None]:
    """(the stored form of the number, None) or (None, what is wrong with it); one already in
    the stored form is only checked for its check character (the parser's answer, faster)."""
    stored = _STORED_FORM.fullmatch(item)
    if stored and _check_character(stored.group(1)) == stored.group(2):
        return item, None
    return _parse(item)


def _parse_all(inputs: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """:func:`_read` of each input, each distinct one read once (for watchlists' lists)."""
    seen: dict[str, tuple[str | None, str | None]] = {}
    for item in inputs:
        if item not in seen:
            seen[item] = _read(item)
    return [seen[item] for item in inputs]


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


_STORED_LENGTH = len(numbers.PREFIX) + numbers.DIGITS + 1


def _as_stored(item: str) -> bool:
    """Whether ``item`` reads as itself if it reads at all: nine ASCII characters with no lower
    case letter (a number in its stored form, or something malformed). The parser changes only
    the case of ``p``, ``r`` and ``x`` and drops separators, and nine characters leave no room
    for a separator. Such an input is looked up as it is; any other is read first."""
    return len(item) == _STORED_LENGTH and item.isupper() and item.isascii()


# What a check shows of an entry's public document (the register's own JSON, so a check says
# what the public register says) is its name and roles: a slice of the document's text from its
# "name" key to the key after "roles", which holds both. The register writes the document as
# compact JSON in PublicEntry's field order (the migration that rewrote the documents kept
# both), so each starts with its number, a string of fixed length
# (``{"registration_number":"PR1000011",``), and the name's key is at the same place in every
# document: the slice starts there rather than searching each document for it (~2 ms of 20
# for 10,000 on SQLite). It ends at the first ',"region":' (a quotation mark inside a value is
# always escaped, so no value holds it). Reading a document whose fields are not where this
# expects fails loudly: a cut that starts anywhere else is not JSON, _Public needs both
# fields, and msgspec refuses anything else.
_FIELDS = list(PublicEntry.model_fields)
_END_KEY = _FIELDS[_FIELDS.index("roles") + 1]
if _FIELDS[:2] != ["registration_number", "name"] or "roles" not in _FIELDS[2:]:
    raise RuntimeError("bulk checks read a public entry's name and roles by their place")
_NAME_AT = len('{"registration_number":"",') + _STORED_LENGTH + 1  # the databases count from 1


def _slice(find: str) -> str:
    document = "e.public_document"
    return f"substr({document}, {_NAME_AT}, {find}({document}, ',\"{_END_KEY}\":') - {_NAME_AT})"


# The entries of many numbers in one row: their ids, numbers and statuses, and those slices as
# one JSON array. The database only finds the rows and cuts and joins text: taking the name and
# roles out with the databases' JSON functions cost more than the rest of the check (PostgreSQL
# parses the whole text again for each field, some 8 µs a field), a whole document each was
# 5 MB to send and read for 10,000 entries (1.5 MB sliced), and a row for each entry cost a
# Python object (a dictionary on SQLite) for each. On SQLite the numbers are walked as the JSON
# array holds them (distinct, by the caller), each found through the numbers' index: ``IN``
# sorted them into a temporary index first (~2 ms of 20 for 10,000).
_ENTRIES_POSTGRES = (  # the code's own names and keys, never input
    "SELECT array_agg(e.id) AS ids, array_agg(e.registration_number) AS numbers,"  # noqa: S608
    " array_agg(e.status) AS statuses,"
    f" string_agg({_slice('strpos')}, {{}}) AS documents"
    " FROM register_entry e WHERE e.registration_number = ANY({})"
)
_ENTRIES_SQLITE = (
    "SELECT group_concat(e.id) AS ids, group_concat(e.registration_number) AS numbers,"  # noqa: S608
    " group_concat(e.status) AS statuses,"
    f" CAST({{}} || group_concat({_slice('instr')}, {{}}) || {{}} AS BLOB) AS documents"
    " FROM json_each({}) AS wanted CROSS JOIN register_entry e"
    " WHERE e.registration_number = wanted.value"
)


class _Public(msgspec.Struct, gc=False):
    """What a check shows of a public entry: its name, and its roles as the bytes it holds."""

    name: str | None
    roles: msgspec.Raw


_DOCUMENTS = msgspec.json.Decoder(list[_Public])
_IDS = msgspec.json.Decoder(list[int])
_JSON = msgspec.json.Encoder()  # as json.dumps, ten times faster: the numbers are ASCII


@dataclass(frozen=True)
class _Entries:
    ids: list[int]
    numbers: list[str]
    statuses: list[str]
    documents: list[_Public]


async def _entries(wanted: list[str]) -> _Entries:
    """The entries of ``wanted`` (distinct, and ASCII: see :func:`_as_stored`), in one query
    whatever the count."""
    if not wanted:
        return _Entries([], [], [], [])
    if bound_engine().engine_type == "postgres":
        row = await fetch_one(_ENTRIES_POSTGRES, "},{", wanted)  # the slices as an array's objects
        if row is None or row["ids"] is None:
            return _Entries([], [], [], [])
        ids, numbers_found, statuses = list(row["ids"]), list(row["numbers"]), list(row["statuses"])
        documents = _DOCUMENTS.decode("[{" + row["documents"] + "}]")
    else:
        row = await fetch_one(_ENTRIES_SQLITE, "[{", "},{", "}]", _JSON.encode(wanted).decode())
        if row is None or row["ids"] is None:
            return _Entries([], [], [], [])
        # Numbers and statuses hold no commas (the register writes both from its own rules).
        ids = _IDS.decode("[" + row["ids"] + "]")
        numbers_found = row["numbers"].split(",")
        statuses = row["statuses"].split(",")
        # The array whole, as UTF-8 bytes: read as text, its 1.5 MB were decoded by the driver,
        # copied to add the brackets and encoded again by msgspec (~4 ms for 10,000).
        documents = _DOCUMENTS.decode(row["documents"])
    if not len(ids) == len(numbers_found) == len(statuses) == len(documents):
        raise RuntimeError("the entries' columns do not line up")  # never: one row each
    return _Entries(ids, numbers_found, statuses, documents)


def _restriction(restriction: hooks.Restriction) -> dict[str, Any]:
    return {
        "kind": restriction.kind.value,
        "summary": restriction.summary,
        "starts_on": restriction.starts_on.isoformat(),
        "ends_on": restriction.ends_on.isoformat() if restriction.ends_on else None,
        "decision_url": restriction.decision_url,
    }


# The label of each status an entry may have (an unknown one fails, as RegisterStatus(...) did).
_LABELS = {status.value: STATUS_LABELS[status] for status in RegisterStatus}


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
    checked_at = _stamp(moment)
    distinct = list(dict.fromkeys(inputs))
    wanted: dict[str, None] = {}
    read_first: dict[str, tuple[str | None, str | None]] = {}
    for item in distinct:
        if _as_stored(item):
            wanted[item] = None
        else:
            number, problem = read_first[item] = _parse(item)
            if number is not None:
                wanted[number] = None
    found = await _entries(list(wanted))
    in_force = await hooks.restrictions_of(found.ids, moment.date())
    # One answer for each number found; ``answers`` is then keyed by every distinct input.
    answers: dict[str, Answer] = {
        number: Answer(
            number, number, status, _LABELS[status], public.name, public.roles, (), None, checked_at
        )
        for number, status, public in zip(
            found.numbers, found.statuses, found.documents, strict=True
        )
    }
    if in_force:
        number_of = dict(zip(found.ids, found.numbers, strict=True))
        for entry_id, orders in in_force.items():
            answers[number_of[entry_id]].restrictions = [_restriction(r) for r in orders]
    for item in distinct:
        if item in answers:
            continue
        number, problem = read_first[item] if item in read_first else _read(item)
        if number is None:
            answers[item] = Answer(
                item,
                None,
                MALFORMED,
                OUTCOME_LABELS[MALFORMED],
                None,
                EMPTY_LIST,
                (),
                problem,
                checked_at,
            )
        elif number in answers:
            answers[item] = msgspec.structs.replace(answers[number], input=item)
        else:
            answers[item] = Answer(
                item,
                number,
                NOT_FOUND,
                OUTCOME_LABELS[NOT_FOUND],
                None,
                EMPTY_LIST,
                (),
                f"{number} is not on the register",
                checked_at,
            )
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
    return Outcome(record.id, moment, [answers[item] for item in inputs])


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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


STREAM_PIECE = 2_500  # results in each piece of a streamed answer (some 700 kB)
_ENCODER = msgspec.json.Encoder()


def json_chunks(outcome: Outcome) -> Iterator[bytes]:
    """The answer as JSON, in pieces of :data:`STREAM_PIECE` results (the first with the head,
    the last with the end): a few large writes rather than many small ones."""
    answers = outcome.answers
    head = {
        "check_id": outcome.check_id,
        "checked_at": _stamp(outcome.checked_at),
        "count": len(answers),
    }
    opening = _ENCODER.encode(head)[:-1] + b',"results":['
    if not answers:
        yield opening + b"]}"
        return
    for start in range(0, len(answers), STREAM_PIECE):
        body = _ENCODER.encode(answers[start : start + STREAM_PIECE])[1:-1]
        last = start + STREAM_PIECE >= len(answers)
        yield (opening if start == 0 else b",") + body + (b"]}" if last else b"")


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
    checked_at = _stamp(outcome.checked_at)
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
