"""Issue 17's benchmark suite: every measurement module in turn, one table, pass or fail.

A measurement module is any module in :data:`MODULES` with a function

    def measure(engine: str, *, quick: bool) -> list[Row]: ...

(and optionally ``NOTES``, a dict of row id to a paragraph saying where the time goes, printed
under the table) that builds its own data, takes its figures within one run (every ratio
against its own reference, measured in the same run) and returns one :class:`Row` per target.
``engine`` is ``"sqlite"`` or ``"postgres"`` (``"any"`` for a module whose figures do not depend
on the database); with ``quick`` it runs its whole path on tiny data and times nothing (figure
NaN, ``passed`` None), so CI keeps it working.

The suite prints one table, and (unless ``--quick``) merges the rows into ``bench/suite.json``
(each row replaced by the same id and engine from a later run, so ``--only P6`` keeps the other
rows) and writes that table into its own section of ``bench/RESULTS.md`` and its own block of the
README's "Performance" section; other sections are left alone.

Usage::

    .venv/bin/python -m bench                              # every module, both engines
    .venv/bin/python -m bench --engine sqlite --only P4,P6
    .venv/bin/python -m bench --quick --engine sqlite      # seconds; nothing timed or written
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol, cast

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
STORE = ROOT / "bench" / "suite.json"
README = ROOT / "README.md"
START = "<!-- bench/suite.py: start -->"
END = "<!-- bench/suite.py: end -->"
README_START = "<!-- bench suite:start -->"
README_END = "<!-- bench suite:end -->"
QUICK = "quick run: not timed"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Row:
    """One target's figure from one run: ``passed`` is None when nothing was timed."""

    id: str  # the row: "P6"
    what: str
    measure: str
    figure: float
    target: str  # as the issue says it: "≥ 0.3", "≤ 200 MB"
    passed: bool | None
    detail: str
    engine: str = ""  # filled in by the suite
    measured: str = ""  # the run's date, filled in by the suite
    # The module that measured it, filled in by the suite: one issue row may be measured by two
    # modules (P7: a worker under the P1 load, and the import), each kept as its own row.
    source: str = ""


class Measure(Protocol):
    def __call__(self, engine: str, *, quick: bool) -> list[Row]: ...


class Module(NamedTuple):
    path: str  # importable module with a ``measure`` function
    ids: tuple[str, ...]  # the rows it returns, for --only
    per_engine: bool = True  # False: run once, as engine "any"
    postgres_only: tuple[str, ...] = ()  # rows the issue asks of PostgreSQL alone


# Every measurement, in the order the suite runs them. Each new module goes here, once.
MODULES: tuple[Module, ...] = (
    Module("bench.throughput", ("P1", "P1b", "P2b", "P7", "P9"), postgres_only=("P9",)),
    Module("bench.register_bench", ("P2",)),
    Module("bench.bulk_check", ("P3",)),
    Module("bench.certificate_pdf", ("P4",), per_engine=False),
    Module("bench.cpd_bench", ("P5", "P8", "P8b")),
    Module("bench.import_bench", ("P6", "P7")),
)


def postgres_url() -> str:
    """The server (and a database on it) where modules create their own databases."""
    return os.environ.get("REGISTRY_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- running ------------------------------------------------------------------------------------


def selected(only: set[str]) -> list[Module]:
    return [m for m in MODULES if not only or only & set(m.ids)]


def run(engines: Sequence[str], *, quick: bool, only: set[str]) -> tuple[list[Row], list[str]]:
    """Every selected module on every engine: the rows, and what failed (with its traceback)."""
    rows: list[Row] = []
    failures: list[str] = []
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    for module in selected(only):
        for engine in engines if module.per_engine else ["any"]:
            log(f"{module.path} on {engine}{' (quick)' if quick else ''}")
            started = time.perf_counter()
            try:
                measure = cast(Measure, importlib.import_module(module.path).measure)
                found = measure(engine, quick=quick)
            except Exception:
                failures.append(f"{module.path} on {engine}:\n{traceback.format_exc()}")
                log(f"{module.path} on {engine} FAILED")
                continue
            log(f"{module.path} on {engine}: {time.perf_counter() - started:.0f} s")
            rows += [
                replace(row, engine=engine, measured=today, source=module.path)
                for row in found
                if not only or row.id in only
            ]
    return rows, failures


# --- the table ----------------------------------------------------------------------------------


def figure(row: Row) -> str:
    if math.isnan(row.figure):
        return "—"
    return f"{row.figure:,.0f}" if abs(row.figure) >= 100 else f"{row.figure:.2f}"


def result(row: Row) -> str:
    return {None: "not timed", True: "**pass**", False: "**FAIL**"}[row.passed]


def order(row: Row) -> tuple[int, str, str, str]:
    digits = "".join(ch for ch in row.id if ch.isdigit())
    return (int(digits or 0), row.id, row.engine, row.source)


def table(rows: Sequence[Row], *, detail: bool) -> list[str]:
    head = "| # | what | measure | engine | figure | target | result |"
    lines = [head + (" detail |" if detail else ""), "|---" * (8 if detail else 7) + "|"]
    for row in sorted(rows, key=order):
        cells = [row.id, row.what, row.measure, row.engine, figure(row), row.target, result(row)]
        if detail:
            cells.append(f"{row.detail} ({row.measured})" if row.measured else row.detail)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def plain(rows: Sequence[Row]) -> str:
    """The table for a terminal."""
    cells = [["#", "engine", "figure", "target", "result", "what"]] + [
        [r.id, r.engine, figure(r), r.target, result(r).strip("*"), r.what]
        for r in sorted(rows, key=order)
    ]
    widths = [max(len(line[n]) for line in cells) for n in range(len(cells[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in cells
    )


# --- writing ------------------------------------------------------------------------------------


def merged(rows: Sequence[Row], path: Path = STORE) -> list[Row]:
    """The rows of earlier runs, each replaced by this run's row of the same id, engine and
    module."""
    earlier = [Row(**item) for item in json.loads(path.read_text())] if path.exists() else []
    fresh = {(row.id, row.engine, row.source) for row in rows}
    kept = [row for row in earlier if (row.id, row.engine, row.source) not in fresh]
    return sorted([*kept, *rows], key=order)


def notes() -> list[str]:
    """Each module's ``NOTES`` (row id to a paragraph: where the time goes), as list items; a
    row measured by two modules (P7) has a note from each, named by its module."""
    found: list[tuple[str, str, str]] = []
    for module in MODULES:
        given = getattr(importlib.import_module(module.path), "NOTES", {})
        found += [(row_id, module.path, text) for row_id, text in given.items()]
    modules = Counter(row_id for row_id, _, _ in found)
    return [
        f"- **{row_id}{f' ({path})' if modules[row_id] > 1 else ''}.** {text}"
        for row_id, path, text in sorted(found)
    ]


def machine_line() -> str:
    from bench.register_bench import loadavg, machine

    found = machine()
    return (
        f"{found['cpus (nproc)']} CPUs ({found['cpu']}), {found['memory']}; load average "
        f"{loadavg()} when last written (a shared machine: ratios, not absolute rates, compare)"
    )


def results_section(rows: Sequence[Row], command: str, extra: Sequence[str] = ()) -> str:
    return (
        "\n".join(
            [
                START,
                "## The suite (issue 17)",
                "",
                "Written by bench/suite.py into this section only, last by "
                f"`{command}`. Each row comes from the run on the date beside it; every ratio is "
                "taken within that one run against a reference measured in the same run. A row a "
                "later run did not measure is kept as it was.",
                "",
                f"Machine: {machine_line()}.",
                "",
                *table(rows, detail=True),
                *(["", "Notes:", "", *extra] if extra else []),
                END,
            ]
        )
        + "\n"
    )


def readme_block(rows: Sequence[Row]) -> str:
    dates = sorted({row.measured for row in rows if row.measured})
    when = dates[-1] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "never"
    return "\n".join(
        [
            README_START,
            f"`make bench` (runs of {when}; details and notes in `bench/RESULTS.md`):",
            "",
            *table(rows, detail=False),
            README_END,
        ]
    )


def write_readme(block: str, path: Path = README) -> bool:
    """Put ``block`` between the README's markers; False if the README has none."""
    text = path.read_text()  # read right before writing: others edit the README too
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + block + tail)
    return True


def write(rows: Sequence[Row], command: str) -> None:
    from bench.results_file import write_section

    everything = merged(rows)
    STORE.write_text(json.dumps([asdict(row) for row in everything], indent=1) + "\n")
    write_section(results_section(everything, command, notes()), RESULTS, START, END)
    if not write_readme(readme_block(everything)):
        log(f"README.md has no {README_START} block: not updated")


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--quick", action="store_true", help="tiny data, nothing timed, nothing written"
    )
    parser.add_argument("--only", default="", help="rows to run, like P1,P6 (default: all)")
    parser.add_argument(
        "--postgres-url",
        default=postgres_url(),
        help="a PostgreSQL server where the modules create (and drop) their own databases",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, *, echo: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    os.environ["REGISTRY_BENCH_POSTGRES_URL"] = args.postgres_url
    only = {item.strip() for item in args.only.split(",") if item.strip()}
    known = {row_id for module in MODULES for row_id in module.ids}
    if only - known:
        echo(f"no module measures {', '.join(sorted(only - known))}; known: {sorted(known)}")
        return 2
    if shutil.which("wrk") is None:
        log("wrk is not installed: the throughput rows need it (Debian: apt-get install wrk)")
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    rows, failures = run(engines, quick=args.quick, only=only)
    echo(plain(rows))
    for failure in failures:
        echo(f"\nFAILED: {failure}")
    if not args.quick and rows:
        command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
        write(rows, command)
        log(f"wrote {RESULTS.relative_to(ROOT)} and README.md")
    return 1 if failures else 0
