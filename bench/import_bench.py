"""P6 and P7 (import part) of issue 17: ``registry import-register`` on 100,000 rows.

Each round makes a fresh migrated database (a new SQLite file, or a new PostgreSQL database
dropped afterwards) and either

- runs the real command, ``registry import-register FILE.csv``, as a subprocess with production
  settings and JSON logs (bench/register_bench.py's ``registry_env``), timing it from start to
  exit and reading its peak RSS from ``os.wait4`` (``ru_maxrss``, that child alone); or
- inserts the same rows into the same tables with plain batched INSERTs (``executemany`` in one
  transaction per :data:`BARE_BATCH` entries, no COPY), through the driver the service uses
  (sqlite3 under aiosqlite, asyncpg), with the service's SQLite pragmas.

The rows come from bench/seed.py's generator (realistic names, weighted roles and regions,
states, qualifications); the CSV holds exactly what the bare insert writes into
``register_practitioner``, ``register_entry``, ``register_entry_role``,
``register_entry_qualification`` and ``register_name_key``. The import writes more than that
(a history row and an audit entry per entry, hash-chained; whatever the change subscribers
write): that is its cost, and it is counted. Rounds alternate which goes first.

P6 = import rows/s ÷ bare rows/s, medians over the rounds, target ≥ 0.3.
P7 = the import's peak RSS, the highest over the rounds, target ≤ 200 MB.

Usage::

    .venv/bin/python -m bench --only P6        # or P7; the suite runs both from one set of rounds
    .venv/bin/python bench/import_bench.py --engine sqlite --rows 20000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.register_bench import (  # noqa: E402
    REGISTRY,
    Database,
    _migrate,
    fresh_database,
    log,
    registry_env,
)
from bench.seed import (  # noqa: E402
    ENTRY_COLUMNS,
    NAME_KEY_COLUMNS,
    PRACTITIONER_COLUMNS,
    QUALIFICATION_COLUMNS,
    ROLE_COLUMNS,
    Batch,
    Ref,
    Reference,
    generate,
)
from bench.suite import Row, postgres_url, write  # noqa: E402
from registry.register.importer import COLUMNS  # noqa: E402

ROWS = 100_000
QUICK_ROWS = 20
ROUNDS = 3
BARE_BATCH = 1_000  # entries per transaction in the bare insert
TARGET_RATIO = 0.3
TARGET_MB = 200.0
FIRST_SERIAL = 100_001  # the number sequence's first value: imported numbers as they come
CLEARED_PRACTITIONER = ("phone", "address", "postcode", "employer")  # the CSV has no such columns


@dataclass
class Timings:
    engine: str
    rows: int
    imported: list[float] = field(default_factory=list)  # seconds per round
    bare: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # the 1-minute load average after each way

    @property
    def import_rate(self) -> float:
        return self.rows / statistics.median(self.imported)

    @property
    def bare_rate(self) -> float:
        return self.rows / statistics.median(self.bare)


# --- the rows -----------------------------------------------------------------------------------


def load_reference(database: Database) -> Reference:
    """The reference data as the migrations left it (the ids the bare insert writes)."""
    queries = {
        table: f"SELECT id, code, name FROM {table} ORDER BY sort_order"
        for table in ("register_role", "register_region", "register_qualification_type")
    }
    if database.engine == "sqlite":
        db = sqlite3.connect(database.sqlite_path)
        try:
            loaded = {
                t: [Ref(*row) for row in db.execute(q).fetchall()] for t, q in queries.items()
            }
        finally:
            db.close()
    else:

        async def fetch() -> dict[str, list[Ref]]:
            import asyncpg

            connection = await asyncpg.connect(database.url)
            try:
                return {
                    t: [Ref(r["id"], r["code"], r["name"]) for r in await connection.fetch(q)]
                    for t, q in queries.items()
                }
            finally:
                await connection.close()

        loaded = asyncio.run(fetch())
    roles = loaded["register_role"]
    return Reference(
        roles={r.code: r for r in roles},
        regions=loaded["register_region"],
        qualifications={q.code: q for q in loaded["register_qualification_type"]},
        role_order={r.code: order for order, r in enumerate(roles)},
    )


def batches(count: int, reference: Reference, *, for_sqlite: bool) -> Iterator[Batch]:
    """The benchmark's rows, as the import would leave them (no phone, address, institution)."""
    cleared = [PRACTITIONER_COLUMNS.index(name) for name in CLEARED_PRACTITIONER]
    institution = QUALIFICATION_COLUMNS.index("institution")
    born = PRACTITIONER_COLUMNS.index("date_of_birth")
    given = PRACTITIONER_COLUMNS.index("given_names")
    family = PRACTITIONER_COLUMNS.index("family_name")
    people: set[tuple[str, str, date]] = set()
    since = ENTRY_COLUMNS.index("registered_since")
    awarded = QUALIFICATION_COLUMNS.index("awarded_on")
    for batch in generate(
        count,
        reference,
        first_serial=FIRST_SERIAL,
        first_practitioner_id=1,
        first_entry_id=1,
        first_role_id=1,
        first_qualification_id=1,
        first_name_key_id=1,
        for_sqlite=for_sqlite,
        batch_size=BARE_BATCH,
    ):
        # The seeder draws birth dates without regard to the other dates; the import's rules
        # (a qualification on or after the 16th birthday) want a person old enough.
        earliest = {row[0]: _date(row[since]) for row in batch.entries}
        for row in batch.qualifications:
            earliest[row[1]] = min(earliest[row[1]], _date(row[awarded]))
        born_by = {row[1]: _years_before(earliest[row[0]], 22) for row in batch.entries}
        practitioners = []
        for row in batch.practitioners:
            day = min(_date(row[born]), born_by[row[0]])
            # Two rows with the same names and birth date are one person twice, which the import
            # refuses: a day earlier makes them two people.
            while (key := (row[given].casefold(), row[family].casefold(), day)) in people:
                day -= timedelta(days=1)
            people.add(key)
            practitioners.append(
                tuple(
                    "" if n in cleared else _as(row, day) if n == born else v
                    for n, v in enumerate(row)
                )
            )
        batch.practitioners = practitioners
        batch.qualifications = [
            tuple("" if n == institution else v for n, v in enumerate(row))
            for row in batch.qualifications
        ]
        yield batch


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years, day=28 if day.month == 2 else day.day)


def _as(row: tuple[Any, ...], day: date) -> Any:
    """``day`` as the batch holds dates: text for SQLite, dates for asyncpg."""
    return (
        day.isoformat()
        if isinstance(row[PRACTITIONER_COLUMNS.index("date_of_birth")], str)
        else day
    )


def write_csv(path: Path, count: int, reference: Reference) -> None:
    """The same rows as a file for ``registry import-register`` (its columns, its order)."""
    role_codes = {r.id: r.code for r in reference.roles.values()}
    region_codes = {r.id: r.code for r in reference.regions}
    qualification_codes = {q.id: q.code for q in reference.qualifications.values()}
    practitioner = {name: n for n, name in enumerate(PRACTITIONER_COLUMNS)}
    entry = {name: n for n, name in enumerate(ENTRY_COLUMNS)}
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for batch in batches(count, reference, for_sqlite=False):
            people = {row[0]: row for row in batch.practitioners}
            roles: dict[int, list[str]] = {}
            for _, entry_id, role_id in batch.roles:
                roles.setdefault(entry_id, []).append(role_codes[role_id])
            qualifications = {row[1]: row for row in batch.qualifications}
            for row in batch.entries:
                person = people[row[entry["practitioner"]]]
                held = qualifications.get(row[entry["id"]])
                values = {
                    "registration_number": row[entry["registration_number"]],
                    "given_names": person[practitioner["given_names"]],
                    "family_name": person[practitioner["family_name"]],
                    "date_of_birth": _iso(person[practitioner["date_of_birth"]]),
                    "email": person[practitioner["email"]],
                    "region": region_codes[row[entry["region"]]],
                    "roles": ";".join(roles[row[entry["id"]]]),
                    "registered_since": _iso(row[entry["registered_since"]]),
                    "registered_until": _iso(row[entry["registered_until"]]),
                    "status": row[entry["state"]],
                    "qualification": qualification_codes[held[2]] if held else "",
                    "qualification_awarded_on": _iso(held[3]) if held else "",
                }
                writer.writerow([values[column] for column in COLUMNS])


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


# --- the two ways in ----------------------------------------------------------------------------


def run_import(database: Database, workdir: Path, csv_path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``registry import-register csv_path``, a process of its own."""
    env = registry_env(database, workdir, "http://127.0.0.1:8000")
    log_path = workdir / f"import-{database.engine}.log"
    with log_path.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(REGISTRY), "import-register", str(csv_path)],
            env=env,
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"registry import-register exited {process.returncode}:\n{tail}")
    return elapsed, usage.ru_maxrss / 1024  # kilobytes on Linux


def _sql(table: str, columns: Sequence[str], engine: str) -> str:
    marks = ", ".join("?" if engine == "sqlite" else f"${n}" for n in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


TABLES = (
    ("register_practitioner", PRACTITIONER_COLUMNS, "practitioners"),
    ("register_entry", ENTRY_COLUMNS, "entries"),
    ("register_entry_role", ROLE_COLUMNS, "roles"),
    ("register_entry_qualification", QUALIFICATION_COLUMNS, "qualifications"),
    ("register_name_key", NAME_KEY_COLUMNS, "name_keys"),
)


def bare_insert(database: Database, count: int, reference: Reference) -> float:
    """Seconds to insert the rows with plain batched INSERTs (rows built beforehand)."""
    from registry.db import SQLITE_PRAGMAS

    rows = list(batches(count, reference, for_sqlite=database.engine == "sqlite"))
    statements = [(_sql(t, c, database.engine), name) for t, c, name in TABLES]
    if database.engine == "sqlite":
        db = sqlite3.connect(database.sqlite_path, isolation_level=None)
        try:
            for pragma in SQLITE_PRAGMAS:
                db.execute(pragma)
            started = time.perf_counter()
            for batch in rows:
                db.execute("BEGIN IMMEDIATE")
                for sql, name in statements:
                    db.executemany(sql, getattr(batch, name))
                db.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            db.close()

    async def insert() -> float:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            started = time.perf_counter()
            for batch in rows:
                async with connection.transaction():
                    for sql, name in statements:
                        if records := getattr(batch, name):
                            await connection.executemany(sql, records)
            return time.perf_counter() - started
        finally:
            await connection.close()

    return asyncio.run(insert())


def entries_in(database: Database) -> int:
    if database.engine == "sqlite":
        db = sqlite3.connect(database.sqlite_path)
        try:
            return int(db.execute("SELECT COUNT(*) FROM register_entry").fetchone()[0])
        finally:
            db.close()

    async def count() -> int:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            return int(await connection.fetchval("SELECT COUNT(*) FROM register_entry"))
        finally:
            await connection.close()

    return asyncio.run(count())


@contextlib.contextmanager
def migrated(engine: str, label: str, workdir: Path) -> Iterator[Database]:
    database = fresh_database(engine, label, workdir, postgres_url())
    try:
        asyncio.run(_migrate(database.url, workdir))
        yield database
    finally:
        database.cleanup()


def run(engine: str, rows: int, rounds: int, workdir: Path) -> Timings:
    timings = Timings(engine, rows)
    csv_path = workdir / f"register-{rows}.csv"
    for number in range(rounds):
        order = ("import", "bare") if number % 2 == 0 else ("bare", "import")
        for way in order:
            with migrated(engine, f"import{number}{way}", workdir) as database:
                reference = load_reference(database)
                if way == "import":
                    if not csv_path.exists():
                        write_csv(csv_path, rows, reference)
                    seconds, rss = run_import(database, workdir, csv_path)
                    timings.imported.append(seconds)
                    timings.rss_mb.append(rss)
                else:
                    timings.bare.append(bare_insert(database, rows, reference))
                timings.load.append(os.getloadavg()[0])
                found = entries_in(database)
                if found != rows:
                    raise RuntimeError(f"{way} left {found:,} entries, not {rows:,}")
        log(
            f"{engine} import round {number + 1}/{rounds}: "
            f"import {rows / timings.imported[-1]:,.0f} rows/s ({timings.rss_mb[-1]:.0f} MB), "
            f"bare {rows / timings.bare[-1]:,.0f} rows/s"
        )
    return timings


# --- the suite's rows ---------------------------------------------------------------------------


def rows_of(timings: Timings, *, quick: bool) -> list[Row]:
    what6 = f"register import of {timings.rows:,} rows"
    what7 = f"peak RSS of registry import-register on {timings.rows:,} rows"
    measure6 = "rows/s of `registry import-register` ÷ bare batched INSERTs, same tables"
    if quick:
        return [
            Row("P6", what6, measure6, float("nan"), f"≥ {TARGET_RATIO:g}", None, QUICK),
            Row("P7", what7, "ru_maxrss of the process", float("nan"), "≤ 200 MB", None, QUICK),
        ]
    ratio = timings.import_rate / timings.bare_rate
    rss = max(timings.rss_mb)
    return [
        Row(
            "P6",
            what6,
            measure6,
            ratio,
            f"≥ {TARGET_RATIO:g}",
            ratio >= TARGET_RATIO,
            f"{timings.import_rate:,.0f} ÷ {timings.bare_rate:,.0f} rows/s, medians of "
            f"{len(timings.imported)} rounds (import "
            + ", ".join(f"{s:.1f}" for s in timings.imported)
            + " s; bare "
            + ", ".join(f"{s:.1f}" for s in timings.bare)
            + " s; load average "
            + ", ".join(f"{load:.1f}" for load in timings.load)
            + f" on {os.cpu_count()} cores)",
        ),
        Row(
            "P7",
            what7,
            "ru_maxrss of the process",
            rss,
            f"≤ {TARGET_MB:g} MB",
            rss <= TARGET_MB,
            "MB, the highest of " + ", ".join(f"{mb:.0f}" for mb in timings.rss_mb),
        ),
    ]


NOTES = {
    "P6": "The import now creates each batch of 500 rows with `service.create_entries`: a "
    "statement per table per batch (multi-row `INSERT … VALUES` sent to the driver on the "
    "transaction's connection, `registry.core.bulk`), the public documents built in Python, the "
    "numbers taken from the sequence once per batch, the audit chain appended once per batch "
    "(`audit.record_many`: one lock, one read of the last hash), and the change subscribers told "
    "once per batch (`hooks.entries_changed`, a domain's `batch_change_subscribers`): the "
    "certificates domain signs the batch's certificates and stores them, their history rows and "
    "audit entries a statement each, with the status-list slots allocated once; the employers' "
    "watchers are looked up with one query. Signing takes JCS from `json.dumps` for plain JSON "
    "(checked against rfc8785 by hypothesis; some fifty times faster) and copies nothing. "
    "Where the time goes now (cProfile, 5,000 rows, SQLite, load average 9 on 2 cores): about "
    "half waits on SQLite's thread for the inserts, into twice the tables the bare insert fills "
    "(history, audit, certificates), a third is the certificates' subscriber (signing about 5 of "
    "its 14 s under the profiler), and each row's checks are run twice (once in the checking "
    "pass, again as it is applied, since no row is held in between). Not tried: COPY or unnest "
    "arrays on PostgreSQL. Measured on 2026-11-28 with the machine loaded by other sessions "
    "(load average 9 to 28 on 2 cores), the SQLite and PostgreSQL runs at the same time; "
    "PostgreSQL's with 20,000 rows, as 100,000 would not have finished in the time there was "
    "(before, on SQLite: 0.03 of a bare insert).",
    "P7": "No row is held: the file is read twice, row by row (checked, then applied), and the "
    "checking pass keeps only each number and person seen with its line (a person as one bytes "
    "object), so that a later repeat is named; one batch of 500 rows is in memory while it is "
    "applied. The process starts at about 110 MB with the service's modules imported (before: "
    "251 MB on 100,000 rows).",
}
QUICK = "quick run: not timed"
_done: dict[tuple[str, bool], list[Row]] = {}


def measure(engine: str, *, quick: bool) -> list[Row]:
    """P6 and P7 (import) for ``engine``, from one set of rounds however often it is asked."""
    if (engine, quick) not in _done:
        with tempfile.TemporaryDirectory(prefix="bench-import-") as workdir:
            timings = run(
                engine, QUICK_ROWS if quick else ROWS, 1 if quick else ROUNDS, Path(workdir)
            )
        _done[engine, quick] = rows_of(timings, quick=quick)
    return _done[engine, quick]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--write", action="store_true", help="put the rows in the suite's table (bench/suite.py)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as workdir:
        timings = run(args.engine, args.rows, args.rounds, Path(workdir))
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    rows = [replace(r, engine=args.engine, measured=today) for r in rows_of(timings, quick=False)]
    for row in rows:
        print(f"{row.id} {row.figure:.2f} {row.target} {row.passed} {row.detail}")
    print(f"children's peak RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} kB")
    if args.write:
        write(rows, " ".join(["bench/import_bench.py", *(sys.argv[1:] if argv is None else argv)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
