"""A fast bulk seeder for the register, for benchmarks: a million entries in minutes.

It writes the same rows the service would (``register_practitioner``, ``register_entry``,
``register_entry_role``, ``register_entry_qualification``) straight into the database, with the
service's own search key (:func:`registry.register.names.search_name`), checked numbers
(:func:`registry.register.numbers.registration_number`) and public document
(:class:`registry.register.schemas.PublicEntry`), so the API serves real documents and search
finds real names. It skips what the public never sees: history rows and audit entries.

Names are realistic: mostly British surnames weighted by frequency (so "Smith" is as common as
it is in England), with a long tail from other places, accents and apostrophes included.
"""

from __future__ import annotations

import contextlib
import importlib
import random
import sqlite3
import time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any

from registry.core import clock
from registry.register.names import search_keys, search_name
from registry.register.numbers import DIGITS, registration_number
from registry.register.schemas import (
    REMOVAL_REASONS,
    STATUS_LABELS,
    CodeAndName,
    PublicEntry,
    PublicQualification,
)
from registry.register.tables import RegisterStatus

NUMBER_SPACE = 10**DIGITS
BATCH = 20_000
# SQLite's page cache for the seeding connection (KiB): the name keys' index builds sort and
# write gigabytes at 1,000,000 entries.
SQLITE_CACHE_KIB = 1024 * 1024

PRACTITIONER_COLUMNS = (
    "id",
    "account",
    "given_names",
    "family_name",
    "search_name",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "postcode",
    "employer",
    "created_at",
)
ENTRY_COLUMNS = (
    "id",
    "practitioner",
    "registration_number",
    "region",
    "state",
    "status",
    "registered_since",
    "registered_until",
    "status_changed_at",
    "updated_at",
    "version",
    "public_document",
)
ROLE_COLUMNS = ("id", "entry", "role")
QUALIFICATION_COLUMNS = ("id", "entry", "qualification_type", "awarded_on", "institution")
NAME_KEY_COLUMNS = ("id", "key", "name", "entry", "region", "status")

# Entries the public sees in each state (no fitness-to-practise orders exist yet, so the status
# is the state, exactly as refresh_entry() would derive it).
STATES: list[tuple[RegisterStatus, float]] = [
    (RegisterStatus.registered, 0.88),
    (RegisterStatus.lapsed, 0.07),
    (RegisterStatus.voluntarily_removed, 0.03),
    (RegisterStatus.removed, 0.02),
]
ROLE_WEIGHTS = {
    "probation_officer": 0.45,
    "probation_services_officer": 0.40,
    "senior_probation_officer": 0.10,
    "trainee_probation_officer": 0.05,
}
QUALIFIED_ROLES = {"probation_officer", "senior_probation_officer"}
INSTITUTIONS = (
    "University of Portsmouth",
    "De Montfort University",
    "University of Cumbria",
    "Sheffield Hallam University",
    "Cardiff Metropolitan University",
    "Birmingham City University",
    "Leeds Beckett University",
)
TOWNS = (
    "Leeds",
    "Manchester",
    "Birmingham",
    "Cardiff",
    "Swansea",
    "Newcastle",
    "Norwich",
    "Bristol",
    "Plymouth",
    "Maidstone",
    "Nottingham",
    "Reading",
    "London",
)
STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "The Green")
EMPLOYERS = (
    "The Probation Service",
    "HM Prison and Probation Service Wales",
    "Community Rehabilitation Partnership",
    "Youth Justice Service",
)
# Surname and given-name pools from Faker's locale data (Latin script only), for a long tail.
TAIL_LOCALES = (
    "en_IE",
    "en_US",
    "en_IN",
    "it_IT",
    "es_ES",
    "pt_PT",
    "de_DE",
    "nl_NL",
    "sk_SK",
    "cs_CZ",
    "hu_HU",
    "lt_LT",
    "ro_RO",
    "tr_TR",
    "yo_NG",
    "vi_VN",
    "fr_FR",
)


@dataclass(frozen=True)
class Ref:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Reference:
    roles: dict[str, Ref]
    regions: list[Ref]
    qualifications: dict[str, Ref]
    role_order: dict[str, int]


@dataclass
class SeedReport:
    """What was seeded and how long each step took (seconds)."""

    engine: str
    count: int
    first_serial: int
    first_entry_id: int
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def number(self, index: int) -> str:
        return registration_number(self.first_serial + index)


def _latin(text: str) -> bool:
    return all(
        unicodedata.name(ch, "").startswith(("LATIN", "SPACE", "APOSTROPHE", "HYPHEN"))
        for ch in text
    ) and not text.startswith("'")


class Names:
    """Draws realistic names: weighted British surnames, then a long international tail."""

    def __init__(self) -> None:
        gb = importlib.import_module("faker.providers.person.en_GB").Provider
        self.gb_surnames: list[str] = list(gb.last_names)
        self.gb_cum = list(accumulate(gb.last_names.values()))
        self.gb_given: list[str] = sorted(set(gb.first_names_male) | set(gb.first_names_female))
        tail_surnames: set[str] = set()
        tail_given: set[str] = set()
        for locale in TAIL_LOCALES:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            tail_surnames.update(n for n in getattr(provider, "last_names", ()) if _latin(n))
            tail_given.update(n for n in (getattr(provider, "first_names", ()) or ()) if _latin(n))
        self.tail_surnames = sorted(tail_surnames - set(self.gb_surnames))
        self.tail_given = sorted(tail_given - set(self.gb_given))

    def surname(self, rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.75:
            return self.gb_surnames[bisect(self.gb_cum, rng.random() * self.gb_cum[-1])]
        if roll < 0.96:
            return rng.choice(self.tail_surnames)
        # Double-barrelled: "Ashworth-Okafor".
        return f"{self.surname_simple(rng)}-{self.surname_simple(rng)}"

    def surname_simple(self, rng: random.Random) -> str:
        if rng.random() < 0.75:
            return self.gb_surnames[bisect(self.gb_cum, rng.random() * self.gb_cum[-1])]
        return rng.choice(self.tail_surnames)

    def given(self, rng: random.Random) -> str:
        pool = self.gb_given if rng.random() < 0.8 else self.tail_given
        first = rng.choice(pool)
        if rng.random() < 0.25:
            return f"{first} {rng.choice(self.gb_given)}"
        return first


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch in ".-"))


class Weighted:
    """A weighted choice, drawn by bisecting the cumulative weights."""

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _ in weighted]
        self.cumulative = list(accumulate(weight for _, weight in weighted))

    def __call__(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def current_until(today: date) -> date:
    """The deadline a registered entry runs to: 30 November this year, or next once passed."""
    deadline = date(today.year, 11, 30)
    return deadline if today <= deadline else date(today.year + 1, 11, 30)


@dataclass
class Batch:
    practitioners: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    roles: list[tuple[Any, ...]]
    qualifications: list[tuple[Any, ...]]
    name_keys: list[tuple[Any, ...]]


def generate(
    count: int,
    reference: Reference,
    *,
    first_serial: int,
    first_practitioner_id: int,
    first_entry_id: int,
    first_role_id: int,
    first_qualification_id: int,
    first_name_key_id: int,
    for_sqlite: bool,
    seed: int = 2026,
    batch_size: int = BATCH,
) -> Iterator[Batch]:
    """Rows for ``count`` entries, in batches; dates as ISO text for SQLite (as Piccolo does)."""
    rng = random.Random(seed)
    names = Names()
    moment = clock.now().astimezone(UTC).replace(microsecond=0)
    today = moment.date()
    until_now = current_until(today)
    pick_role = Weighted([(reference.roles[code], w) for code, w in ROLE_WEIGHTS.items()])
    pick_region = Weighted(
        [(region, 2.0 if region.code == "london" else 1.0) for region in reference.regions]
    )
    pick_status = Weighted(STATES)
    stamp: Any = str(moment) if for_sqlite else moment

    def day(value: date) -> Any:
        return value.isoformat() if for_sqlite else value

    role_id = first_role_id
    qualification_id = first_qualification_id
    name_key_id = first_name_key_id
    batch = Batch([], [], [], [], [])
    for index in range(count):
        practitioner_id = first_practitioner_id + index
        entry_id = first_entry_id + index
        number = registration_number(first_serial + index)
        family = names.surname(rng)
        given = names.given(rng)
        status: RegisterStatus = pick_status(rng)
        since = date(2008, 1, 1) + timedelta(days=rng.randrange(365 * 17))
        if status is RegisterStatus.registered:
            until = until_now
        else:
            last_year = max(since.year, today.year - 1)
            until = date(rng.randint(since.year, last_year), 11, 30)
            if until < since:
                until = date(since.year + 1, 11, 30)
        born = date(1958, 1, 1) + timedelta(days=rng.randrange(365 * 44))
        first_role: Ref = pick_role(rng)
        held = [first_role]
        if first_role.code == "probation_officer" and rng.random() < 0.08:
            held.append(reference.roles["senior_probation_officer"])
        held.sort(key=lambda r: reference.role_order[r.code])
        region: Ref = pick_region(rng)
        quals: list[tuple[Ref, date | None, str]] = []
        if any(r.code in QUALIFIED_ROLES for r in held) or rng.random() < 0.3:
            code = rng.choice(("pqip", "pqip", "pqf", "dips", "cqsw", "other"))
            awarded = since - timedelta(days=rng.randrange(30, 400))
            quals.append((reference.qualifications[code], awarded, rng.choice(INSTITUTIONS)))
        document = PublicEntry(
            registration_number=number,
            name=f"{given} {family}",
            given_names=given,
            family_name=family,
            roles=[CodeAndName(code=r.code, name=r.name) for r in held],
            region=CodeAndName(code=region.code, name=region.name),
            status=status,
            status_label=STATUS_LABELS[status],
            registered_since=since,
            registered_until=until,
            qualifications=[PublicQualification(name=q.name, awarded_on=a) for q, a, _ in quals],
            restrictions=[],
            # status_changed_at is the seeding moment, as the service would have written it.
            removed_on=moment.astimezone(UTC).date() if status in REMOVAL_REASONS else None,
            removal_reason=REMOVAL_REASONS.get(status),
            updated_at=moment,
        ).model_dump_json()
        email = f"{_ascii(given.split()[0])}.{_ascii(family)}{index}@example.org".lower()
        folded = search_name(given, family)
        # Some 33 keys an entry: their rows made by zip in C, not a Python loop a key.
        keys = sorted(search_keys(folded))
        batch.name_keys.extend(
            zip(
                range(name_key_id, name_key_id + len(keys)),
                keys,
                repeat(folded),
                repeat(entry_id),
                repeat(region.id),
                repeat(status.value),
                strict=False,
            )
        )
        name_key_id += len(keys)
        batch.practitioners.append(
            (
                practitioner_id,
                None,
                given,
                family,
                folded,
                day(born),
                email,
                f"07700 9{index % 100000:05d}",
                f"{rng.randrange(1, 200)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}",
                f"LS{rng.randrange(1, 30)} {rng.randrange(1, 10)}AB",
                rng.choice(EMPLOYERS),
                stamp,
            )
        )
        batch.entries.append(
            (
                entry_id,
                practitioner_id,
                number,
                region.id,
                status.value,
                status.value,
                day(since),
                day(until),
                stamp,
                stamp,
                1,
                document,
            )
        )
        for role in held:
            batch.roles.append((role_id, entry_id, role.id))
            role_id += 1
        for kind, awarded_on, institution in quals:
            awarded_value = day(awarded_on) if awarded_on is not None else None
            batch.qualifications.append(
                (qualification_id, entry_id, kind.id, awarded_value, institution)
            )
            qualification_id += 1
        if len(batch.entries) >= batch_size:
            yield batch
            batch = Batch([], [], [], [], [])
    if batch.entries:
        yield batch


def _first_serial(next_value: int, count: int, existing: int) -> tuple[int, list[str]]:
    """Serials from the sequence's next value; a register too big for that starts lower.

    Numbers are PR + 6 digits, so the sequence (which starts at 100001) runs out after 899,999
    entries. A bigger benchmark register takes imported-style numbers from further down.
    """
    if next_value + count <= NUMBER_SPACE:
        return next_value, []
    if existing or count > NUMBER_SPACE:
        raise ValueError(f"{count} entries do not fit in the {NUMBER_SPACE:,} registration numbers")
    start = NUMBER_SPACE - count
    return start, [
        f"{count:,} entries do not fit between the number sequence's next value ({next_value}) "
        f"and PR999999x: seeded as imported numbers from serial {start}; the sequence is left "
        "at its end, so the service could not create another entry"
    ]


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_reference(db: sqlite3.Connection) -> Reference:
    def load(table: str) -> list[Ref]:
        rows = db.execute(f"SELECT id, code, name FROM {table} ORDER BY sort_order").fetchall()
        return [Ref(int(i), str(c), str(n)) for i, c, n in rows]

    roles = load("register_role")
    return Reference(
        roles={r.code: r for r in roles},
        regions=load("register_region"),
        qualifications={q.code: q for q in load("register_qualification_type")},
        role_order={r.code: order for order, r in enumerate(roles)},
    )


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def seed_sqlite(
    path: Path | str,
    count: int,
    *,
    rebuild_indexes: bool = True,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Seed ``count`` entries into the migrated SQLite file at ``path``, in one transaction.

    ``rebuild_indexes`` drops the name keys' indexes for the load and builds them once at the
    end, from sorted rows rather than row by row.

    When no other connection has the file open, the load runs with a rollback journal kept in
    memory rather than in WAL mode, and the file is put back in WAL mode at the end. One
    transaction of gigabytes in WAL mode writes every page to the -wal file first (and again
    when checkpointed), and each page it reads back is looked up in the WAL's index, one hash
    table per 4,096 frames: at 1,000,000 entries (some 33 million name keys) the name keys'
    index build had not finished after 7.5 minutes, its WAL at 7.5 GB and growing ever more
    slowly; with the journal in memory it took 4 (2026-11-28, load average 2-5).
    """
    started = time.perf_counter()
    db = sqlite3.connect(str(path), isolation_level=None)
    journal = ""
    try:
        # For this connection only; what the file keeps (its WAL mode) is put back below.
        db.execute("PRAGMA synchronous = OFF")
        db.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        db.execute("PRAGMA temp_store = MEMORY")
        journal = loading = str(db.execute("PRAGMA journal_mode").fetchone()[0])
        # Leaving WAL mode needs the file to itself: "database is locked" while another
        # connection has it open (a test's server), which loads in WAL mode as before.
        with contextlib.suppress(sqlite3.OperationalError):
            loading = str(db.execute("PRAGMA journal_mode = MEMORY").fetchone()[0])
        reference = _sqlite_reference(db)

        def one(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        db.execute("BEGIN IMMEDIATE")
        next_value = one(
            "SELECT next_value FROM register_number_sequence WHERE name = 'registration'"
        )
        existing = one("SELECT COUNT(*) FROM register_entry")
        first_serial, notes = _first_serial(next_value, count, existing)
        ids = {
            table: one(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
            for table in (
                "register_practitioner",
                "register_entry",
                "register_entry_role",
                "register_entry_qualification",
                "register_name_key",
            )
        }
        report = SeedReport("sqlite", count, first_serial, ids["register_entry"], notes=notes)
        key_indexes: list[tuple[str, str]] = []
        if rebuild_indexes:
            key_indexes = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'register_name_key' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in key_indexes:
                db.execute(f'DROP INDEX "{name}"')
        done = 0
        generating = 0.0
        mark = time.perf_counter()
        batches = generate(
            count,
            reference,
            first_serial=first_serial,
            first_practitioner_id=ids["register_practitioner"],
            first_entry_id=ids["register_entry"],
            first_role_id=ids["register_entry_role"],
            first_qualification_id=ids["register_entry_qualification"],
            first_name_key_id=ids["register_name_key"],
            for_sqlite=True,
            seed=seed,
        )
        while True:
            tick = time.perf_counter()
            batch = next(batches, None)
            generating += time.perf_counter() - tick
            if batch is None:
                break
            db.executemany(
                _insert_sql("register_practitioner", PRACTITIONER_COLUMNS), batch.practitioners
            )
            db.executemany(_insert_sql("register_entry", ENTRY_COLUMNS), batch.entries)
            db.executemany(_insert_sql("register_entry_role", ROLE_COLUMNS), batch.roles)
            db.executemany(
                _insert_sql("register_entry_qualification", QUALIFICATION_COLUMNS),
                batch.qualifications,
            )
            db.executemany(_insert_sql("register_name_key", NAME_KEY_COLUMNS), batch.name_keys)
            done += len(batch.entries)
            if progress is not None:
                progress(done)
        report.steps["generate rows (Python, PublicEntry JSON)"] = generating
        report.steps["insert rows"] = time.perf_counter() - mark - generating
        if key_indexes:
            mark = time.perf_counter()
            for _, sql in key_indexes:
                db.execute(sql)
            report.steps["rebuild name key indexes"] = time.perf_counter() - mark
        db.execute(
            "UPDATE register_number_sequence SET next_value = ? WHERE name = 'registration'",
            (max(next_value, first_serial + count),),
        )
        mark = time.perf_counter()
        db.execute("COMMIT")
        if loading == "wal":
            report.notes.append("loaded in WAL mode: another connection had the file open")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report.steps["commit and checkpoint"] = time.perf_counter() - mark
    finally:
        if db.in_transaction:  # a failed load: undone (the journal in memory has it)
            db.execute("ROLLBACK")
        if journal:
            db.execute(f"PRAGMA journal_mode = {journal}")
        db.close()
    report.seconds = time.perf_counter() - started
    return report


# --- PostgreSQL -------------------------------------------------------------------------------


async def seed_postgres(
    dsn: str,
    count: int,
    *,
    seed: int = 2026,
    analyze: bool = True,
    drop_indexes: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Seed ``count`` entries into the migrated PostgreSQL database at ``dsn`` with COPY."""
    import asyncpg

    started = time.perf_counter()
    connection = await asyncpg.connect(dsn.replace("postgres://", "postgresql://", 1))
    try:

        async def load(table: str) -> list[Ref]:
            rows = await connection.fetch(f"SELECT id, code, name FROM {table} ORDER BY sort_order")
            return [Ref(int(r["id"]), str(r["code"]), str(r["name"])) for r in rows]

        roles = await load("register_role")
        reference = Reference(
            roles={r.code: r for r in roles},
            regions=await load("register_region"),
            qualifications={q.code: q for q in await load("register_qualification_type")},
            role_order={r.code: order for order, r in enumerate(roles)},
        )
        tables = (
            "register_practitioner",
            "register_entry",
            "register_entry_role",
            "register_entry_qualification",
            "register_name_key",
        )
        async with connection.transaction():
            next_value = int(
                await connection.fetchval(
                    "SELECT next_value FROM register_number_sequence"
                    " WHERE name = 'registration' FOR UPDATE"
                )
            )
            existing = int(await connection.fetchval("SELECT COUNT(*) FROM register_entry"))
            first_serial, notes = _first_serial(next_value, count, existing)
            ids = {}
            for table in tables:
                await connection.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
                ids[table] = int(
                    await connection.fetchval(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
                )
            report = SeedReport("postgres", count, first_serial, ids["register_entry"], notes=notes)
            # Indexes that back no constraint (the GIN name index among them) are dropped for the
            # load and built again afterwards, from their own definitions: much faster than
            # updating them row by row.
            await connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
            # The rows are consistent by construction (tests/bench/test_seed.py checks them), so
            # the foreign key triggers are skipped for the load where the role may do that.
            try:
                async with connection.transaction():
                    await connection.execute("SET LOCAL session_replication_role = replica")
            except asyncpg.InsufficientPrivilegeError:
                report.notes.append("foreign keys checked row by row: not a superuser")
            rebuilt = await connection.fetch(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conindid = to_regclass(quote_ident(i.indexname)))",
                list(tables) if drop_indexes else [],
            )
            for index in rebuilt:
                await connection.execute(f'DROP INDEX "{index["indexname"]}"')
            done = 0
            generating = 0.0
            mark = time.perf_counter()
            batches = generate(
                count,
                reference,
                first_serial=first_serial,
                first_practitioner_id=ids["register_practitioner"],
                first_entry_id=ids["register_entry"],
                first_role_id=ids["register_entry_role"],
                first_qualification_id=ids["register_entry_qualification"],
                first_name_key_id=ids["register_name_key"],
                for_sqlite=False,
                seed=seed,
            )
            while True:
                tick = time.perf_counter()
                batch = next(batches, None)
                generating += time.perf_counter() - tick
                if batch is None:
                    break
                for table, columns, records in (
                    ("register_practitioner", PRACTITIONER_COLUMNS, batch.practitioners),
                    ("register_entry", ENTRY_COLUMNS, batch.entries),
                    ("register_entry_role", ROLE_COLUMNS, batch.roles),
                    ("register_entry_qualification", QUALIFICATION_COLUMNS, batch.qualifications),
                    ("register_name_key", NAME_KEY_COLUMNS, batch.name_keys),
                ):
                    if records:
                        await connection.copy_records_to_table(
                            table, records=records, columns=list(columns)
                        )
                done += len(batch.entries)
                if progress is not None:
                    progress(done)
            report.steps["generate rows (Python, PublicEntry JSON)"] = generating
            report.steps["COPY rows"] = time.perf_counter() - mark - generating
            mark = time.perf_counter()
            for index in rebuilt:
                await connection.execute(index["indexdef"])
            if rebuilt:
                report.steps[f"rebuild {len(rebuilt)} indexes"] = time.perf_counter() - mark
            # Explicit ids leave the tables' sequences behind: move them past what was written.
            for table in tables:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            await connection.execute(
                "UPDATE register_number_sequence SET next_value = $1 WHERE name = 'registration'",
                max(next_value, first_serial + count),
            )
            mark = time.perf_counter()
        report.steps["commit"] = time.perf_counter() - mark
        if analyze:
            # What autovacuum does by itself soon after a bulk load (statistics, and the
            # visibility map that index-only scans need), done now rather than mid-measurement.
            mark = time.perf_counter()
            for table in tables:
                await connection.execute(f"VACUUM (ANALYZE) {table}")
            report.steps["VACUUM (ANALYZE)"] = time.perf_counter() - mark
    finally:
        await connection.close()
    report.seconds = time.perf_counter() - started
    return report
