"""Importing an earlier register from a CSV file: every row checked first, then applied.

Nothing is written until every row has been checked; each problem is reported with its line and
column. A row whose registration number is already on the register, or (for a row without a
number) whose person is already on it by name and date of birth, is counted and left alone, so
importing the same file again changes nothing.

The file is read twice and never held: the first pass checks every row and keeps only what
finding repeats needs (each number and person seen, and their line); the second reads the rows
again and creates the new ones in batches of :data:`BATCH_SIZE` through
:func:`registry.register.service.create_entries`, the same rules, history, audit and change
subscribers as any other entry, a statement per table per batch. A batch in which some row still
fails is done again row by row through :func:`~registry.register.service.create_entry`, each in
its own savepoint, so the rest of that batch still goes in and the failing row is reported.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from registry.db import transaction
from registry.errors import RegistryError
from registry.register import fields, numbers, service
from registry.register.tables import EntryState, RegisterEntry

REQUIRED_COLUMNS = (
    "given_names",
    "family_name",
    "date_of_birth",
    "region",
    "roles",
    "registered_since",
    "registered_until",
)
OPTIONAL_COLUMNS = (
    "registration_number",
    "email",
    "status",
    "qualification",
    "qualification_awarded_on",
)
# Every column the import reads, in the order the README lists them.
COLUMNS = (
    "registration_number",
    "given_names",
    "family_name",
    "date_of_birth",
    "email",
    "region",
    "roles",
    "registered_since",
    "registered_until",
    "status",
    "qualification",
    "qualification_awarded_on",
)
HEADER_LINE = 1
BATCH_SIZE = 500  # rows per transaction (and per statement of each table)
LOOKUP_CHUNK = 500  # values per IN (...) when looking rows up on the register
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
LINE_PATTERN = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_LIMIT = 254

PersonKey = tuple[str, str, date]
# A file's dates repeat (a renewal deadline, a birthday): one object for each, not one per cell.
_parse_date = functools.lru_cache(maxsize=1 << 16)(date.fromisoformat)
R = TypeVar("R")


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    entry: service.EntryIn

    @property
    def person_key(self) -> PersonKey:
        return person_key(self.entry.person)


Lines = Callable[[], Iterable[str]]  # the file's lines with their endings, read afresh


@dataclass
class Plan:
    """What importing a file would do, worked out before anything is written.

    It holds no row of the file: :meth:`new_rows` reads the new ones again when asked."""

    lines: Lines
    today: date
    reference: service.ReferenceData
    rows: int = 0  # data rows in the file
    new_count: int = 0  # rows to create
    already: int = 0  # rows already on the register
    problems: list[Problem] = field(default_factory=list)
    left_alone: set[int] = field(default_factory=set)  # lines already on the register

    @property
    def invalid(self) -> int:
        """Rows with at least one problem (a header problem counts as every row)."""
        return len({problem.line for problem in self.problems if problem.line > HEADER_LINE})

    @property
    def header_ok(self) -> bool:
        return not any(problem.line == HEADER_LINE for problem in self.problems)

    def new_rows(self) -> Iterator[ImportRow | Problem]:
        """Each new row, read and checked again, in the file's order; a row that no longer
        checks as it did (the file changed since) as its first problem instead."""
        if not self.header_ok:
            return
        skipped = self.left_alone | {problem.line for problem in self.problems}
        _, raw_rows, problems = read_csv(self.lines())
        for line, values in raw_rows:
            if line in skipped:
                continue
            row, row_problems = check_row(line, values, self.today, self.reference)
            if row is None or (problems and problems[-1].line == line):
                yield (row_problems or problems)[0]
            else:
                yield row

    @property
    def new(self) -> list[ImportRow]:
        """The new rows as a list: for a small file (tests), never for an import."""
        return [row for row in self.new_rows() if isinstance(row, ImportRow)]


@dataclass
class Outcome:
    imported: int = 0
    failed: list[Problem] = field(default_factory=list)


def person_key(person: service.PersonIn) -> PersonKey:
    """Who a row is, for matching: names with case and spacing ignored, and date of birth."""
    return (_fold(person.given_names), _fold(person.family_name), person.date_of_birth)


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- reading and checking ---------------------------------------------------------------------


def read_csv(
    lines: Iterable[str],
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]], list[Problem]]:
    """The header, each data row with the line it starts on, and any problem with the header,
    from the file's lines (with their endings, as a file opened with ``newline=""`` gives them).

    The rows are read as they are asked for, so that a big file is never held; a row with more
    values than the header has names adds its problem to the list as it is read.
    """
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    problems = [
        Problem(HEADER_LINE, name or f"column {n}", _unknown_column(name))
        for n, name in enumerate(header, start=1)
        if name not in COLUMNS
    ]
    problems += [
        Problem(HEADER_LINE, name, "This column is missing; every row needs it")
        for name in REQUIRED_COLUMNS
        if name not in header
    ]
    problems += [
        Problem(HEADER_LINE, name, "This column appears more than once")
        for name in sorted({name for name in header if header.count(name) > 1})
    ]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    problems.append(
                        Problem(
                            line,
                            "row",
                            f"Has {len(cells)} values but the header names {len(header)} columns",
                        )
                    )
                # A short row leaves its last columns empty; a long one is reported above.
                yield line, dict(zip(header, (cell.strip() for cell in cells), strict=False))
            line = reader.line_num + 1

    return header, rows(), problems


def text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, as ``io.StringIO(text, newline="")`` gives
    them, without its copy of the whole text at four bytes a character."""
    return (match.group() for match in LINE_PATTERN.finditer(text))


def _unknown_column(name: str) -> str:
    if not name:
        return "This column has no name"
    return f"'{name}' is not a column this import reads. The columns are: {', '.join(COLUMNS)}"


class _RowChecker:
    def __init__(self, line: int, values: dict[str, str], today: date) -> None:
        self.line = line
        self.values = values
        self.today = today
        self.problems: list[Problem] = []

    def problem(self, column: str, reason: str) -> None:
        self.problems.append(Problem(self.line, column, reason))

    def text(self, column: str) -> str:
        return self.values.get(column) or ""

    def date(self, column: str, *, required: bool) -> date | None:
        value = self.text(column)
        if not value:
            if required:
                self.problem(column, "Enter a date as YYYY-MM-DD")
            return None
        try:
            if not DATE_PATTERN.fullmatch(value):
                raise ValueError(value)
            found = _parse_date(value)
        except ValueError:
            self.problem(column, f"'{value[:20]}' is not a date: use YYYY-MM-DD, like 1985-03-14")
            return None
        if found > self.today and column in ("registered_since", "qualification_awarded_on"):
            self.problem(column, f"{value} is in the future")
        return found

    def rule(self, column: str, check: Callable[..., R], *args: Any) -> R | None:
        """``check(*args)``, one of the register's own rules, with its refusal as a problem."""
        try:
            return check(*args)
        except RegistryError as error:
            self.problem(error.field if error.field in COLUMNS else column, error.detail)
            return None


def check_row(
    line: int, values: dict[str, str], today: date, reference: service.ReferenceData
) -> tuple[ImportRow | None, list[Problem]]:
    """One row as an entry to create, or every problem with it."""
    row = _RowChecker(line, values, today)
    given_number = row.text("registration_number")
    number = (
        row.rule("registration_number", numbers.parse_registration_number, given_number)
        if given_number
        else None
    )
    given, family = row.text("given_names"), row.text("family_name")
    born = row.date("date_of_birth", required=True)
    for column, reason in {
        **fields.name_problems(given, family, fields.STAFF),
        **(fields.date_of_birth_problems(born, today, fields.STAFF) if born else {}),
    }.items():
        row.problem(column, reason)
    email = row.text("email")
    if email and (len(email) > EMAIL_LIMIT or not EMAIL_PATTERN.fullmatch(email)):
        row.problem("email", f"'{email[:40]}' is not an email address")
    region = row.rule("region", reference.region, row.text("region"))
    role_codes = [code.strip() for code in row.text("roles").split(";") if code.strip()]
    if not role_codes:
        row.problem("roles", "Enter at least one designated role code, separated by ';'")
    # The reference data's own strings, one for each code, rather than one per row.
    role_codes = [
        role.code for code in role_codes if (role := row.rule("roles", reference.role, code))
    ]
    since = row.date("registered_since", required=True)
    until = row.date("registered_until", required=True)
    if since and until and until < since:
        row.problem("registered_until", "Must not be before registered_since")
    if since and born and since <= born <= today:
        row.problem("registered_since", "Must be after the date of birth")
    state_text = row.text("status") or EntryState.registered.value
    if state_text not in EntryState.__members__:
        row.problem(
            "status", f"'{state_text[:30]}' is not a status. Use one of: {', '.join(EntryState)}"
        )
    qualification = row.text("qualification")
    awarded_on = row.date("qualification_awarded_on", required=False)
    if qualification:
        row.rule("qualification", reference.qualification, qualification)
    elif awarded_on:
        row.problem("qualification_awarded_on", "Give the qualification this date is for")
    if awarded_on and (wrong := fields.awarded_on_problem(awarded_on, born, today, fields.STAFF)):
        row.problem("qualification_awarded_on", wrong)
    if row.problems:
        return None, row.problems
    assert born is not None
    assert since is not None
    assert until is not None
    assert region is not None
    entry = service.EntryIn(
        person=service.PersonIn(given, family, born, email=email),
        role_codes=role_codes,
        region_code=region.code,
        registered_since=since,
        registered_until=until,
        qualifications=[service.QualificationIn(qualification, awarded_on)]
        if qualification
        else [],
        state=EntryState(state_text),
        registration_number=number,
    )
    return ImportRow(line, entry), []


async def plan_import(source: str | Lines, today: date, reference: service.ReferenceData) -> Plan:
    """Check every row of the file (its text, or a function giving its lines afresh), against
    each other and the register; write nothing, and hold no row once it is checked."""
    lines = (lambda: text_lines(source)) if isinstance(source, str) else source
    _, raw_rows, problems = read_csv(lines())
    plan = Plan(lines, today, reference, problems=problems)
    if not plan.header_ok:
        plan.rows = sum(1 for _ in raw_rows)
        return plan
    seen = _Seen()
    waiting: list[ImportRow] = []  # checked, to be looked for on the register
    for line, values in raw_rows:  # one row at a time: the file's rows are never all held
        plan.rows += 1
        too_long = bool(problems) and problems[-1].line == line
        row, row_problems = check_row(line, values, today, reference)
        plan.problems += row_problems
        if row is not None and not too_long and seen.first(row, plan.problems):
            waiting.append(row)
            if len(waiting) == LOOKUP_CHUNK:
                await _against_register(waiting, plan)
                waiting = []
    await _against_register(waiting, plan)
    plan.problems.sort(key=_report_order)
    return plan


async def _against_register(rows: Sequence[ImportRow], plan: Plan) -> None:
    """Each of ``rows`` is new, already on the register, or a clash with someone who is."""
    if not rows:
        return
    on_register = await _numbers_on_register(
        [r.entry.registration_number for r in rows if r.entry.registration_number]
    )
    people = await _people_on_register({r.entry.person.date_of_birth for r in rows})
    for row in rows:
        number = row.entry.registration_number
        holder = people.get(row.person_key)
        if number and number in on_register:
            if on_register[number] != row.person_key:
                plan.problems.append(
                    Problem(
                        row.line,
                        "registration_number",
                        f"{number} is on the register already, for someone with a different "
                        "name or date of birth",
                    )
                )
            else:
                plan.already += 1
                plan.left_alone.add(row.line)
        elif holder is not None and number:
            plan.problems.append(
                Problem(
                    row.line,
                    "registration_number",
                    f"This person is on the register already, as {holder}",
                )
            )
        elif holder is not None:
            plan.already += 1
            plan.left_alone.add(row.line)
        else:
            plan.new_count += 1


def _report_order(problem: Problem) -> tuple[int, int, str]:
    """By line, then in the order of the columns."""
    column = COLUMNS.index(problem.field) if problem.field in COLUMNS else -1
    return (problem.line, column, problem.reason)


class _Seen:
    """The numbers and people of the rows checked so far, with their lines: all that is kept
    of a row once it is checked, to find a later row repeating it."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        # Each person as one bytes object, not a tuple of three: a third of the memory, for
        # the hundred thousand rows of a whole register.
        self.people: dict[bytes, int] = {}

    def first(self, row: ImportRow, problems: list[Problem]) -> bool:
        """Whether ``row`` repeats no earlier row's number or person (else its problem)."""
        number = row.entry.registration_number
        if number and number in self.numbers:
            problems.append(
                Problem(
                    row.line,
                    "registration_number",
                    f"{number} is also on line {self.numbers[number]}",
                )
            )
            return False
        given, family, born = row.person_key
        key = f"{given}\x1f{family}\x1f{born.isoformat()}".encode()
        if key in self.people:
            problems.append(
                Problem(
                    row.line,
                    "given_names",
                    f"The same person (names and date of birth) is also on line {self.people[key]}",
                )
            )
            return False
        if number:
            self.numbers[number] = row.line
        self.people[key] = row.line
        return True


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


_PEOPLE = (
    "SELECT e.registration_number, p.given_names, p.family_name, p.date_of_birth"
    " FROM register_entry e JOIN register_practitioner p ON p.id = e.practitioner"
)


async def _numbers_on_register(wanted: Sequence[str]) -> dict[str, PersonKey]:
    """Which of ``wanted`` are on the register, with the person each belongs to."""
    found: dict[str, PersonKey] = {}
    for chunk in _chunks(sorted(set(wanted))):
        marks = ", ".join("{}" for _ in chunk)
        rows = await RegisterEntry.raw(
            f"{_PEOPLE} WHERE e.registration_number IN ({marks})", *chunk
        )
        found.update({r["registration_number"]: _key_of(r) for r in rows})
    return found


async def _people_on_register(born_on: set[date]) -> dict[PersonKey, str]:
    """Everyone on the register born on one of ``born_on``, with their number."""
    found: dict[PersonKey, str] = {}
    for chunk in _chunks(sorted(born_on)):
        marks = ", ".join("{}" for _ in chunk)
        rows = await RegisterEntry.raw(f"{_PEOPLE} WHERE p.date_of_birth IN ({marks})", *chunk)
        found.update({_key_of(r): r["registration_number"] for r in rows})
    return found


def _key_of(row: dict[str, Any]) -> PersonKey:
    born = row["date_of_birth"]
    if isinstance(born, str):  # not converted by every SQLite driver path
        born = date.fromisoformat(born)
    return (_fold(row["given_names"]), _fold(row["family_name"]), born)


# --- applying -----------------------------------------------------------------------------


async def apply_plan(
    plan: Plan,
    *,
    source: str,
    reference: service.ReferenceData,
    advance: Callable[[int], None] = lambda n: None,
) -> Outcome:
    """Create an entry for each new row of ``plan``; a row that fails is reported, not fatal.

    Each batch is created at once (:func:`service.create_entries`, one transaction); only a
    batch where some row fails is rolled back and done again row by row, each in its own
    savepoint, so that the rest of that batch still goes in. Only one batch is held at a time.
    """
    outcome = Outcome()
    batch: list[ImportRow] = []
    for row in plan.new_rows():
        if isinstance(row, Problem):
            outcome.failed.append(row)
            advance(1)
            continue
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            await _apply_batch(batch, source, reference, outcome)
            advance(len(batch))
            batch = []
    if batch:
        await _apply_batch(batch, source, reference, outcome)
        advance(len(batch))
    return outcome


async def _apply_batch(
    batch: Sequence[ImportRow], source: str, reference: service.ReferenceData, outcome: Outcome
) -> None:
    try:
        await service.create_entries(
            [service.NewEntry(row.entry, _reason(row, source)) for row in batch],
            reference=reference,
        )
    except Exception:  # the batch is done again row by row, below
        await _apply_row_by_row(batch, source, reference, outcome)
    else:
        outcome.imported += len(batch)


def _reason(row: ImportRow, source: str) -> str:
    return f"Imported from {source}, line {row.line}"


async def _create(row: ImportRow, source: str, reference: service.ReferenceData) -> None:
    await service.create_entry(row.entry, reason=_reason(row, source), reference=reference)


async def _apply_row_by_row(
    batch: Sequence[ImportRow], source: str, reference: service.ReferenceData, outcome: Outcome
) -> None:
    async with transaction() as batch_transaction:
        for row in batch:
            savepoint = await batch_transaction.savepoint()
            try:
                await _create(row, source, reference)
            except Exception as error:  # one row's failure must not stop the others
                await savepoint.rollback_to()
                outcome.failed.append(_failure(row.line, error))
            else:
                await savepoint.release()
                outcome.imported += 1


def _failure(line: int, error: Exception) -> Problem:
    if isinstance(error, RegistryError):
        return Problem(line, error.field or "row", error.detail)
    return Problem(line, "row", f"Could not be added: {type(error).__name__}: {error}")
