"""``python -m bench --quick`` keeps every measurement module working, and the suite's table
lands in its own section of RESULTS.md and its own block of the README, leaving the rest alone.

Not timed tests: ``--quick`` runs each module's whole path on tiny data and times nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from dataclasses import asdict
from pathlib import Path

import pytest

from bench import suite
from bench.results_file import write_section
from bench.suite import Row

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ["sqlite"] + (["postgres"] if os.environ.get("REGISTRY_TEST_POSTGRES_URL") else [])


@pytest.mark.parametrize("engine", ENGINES)
def test_quick_run_goes_through_every_module_and_writes_nothing(engine: str) -> None:
    written = {path: path.stat().st_mtime_ns for path in (suite.RESULTS, suite.README)}
    command = [sys.executable, "-m", "bench", "--quick", "--engine", engine]
    if engine == "postgres":
        command += ["--postgres-url", os.environ["REGISTRY_TEST_POSTGRES_URL"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = done.stdout.splitlines()
    for module in suite.MODULES:
        for row_id in module.ids:
            if engine != "postgres" and row_id in module.postgres_only:
                continue
            engine_shown = engine if module.per_engine else "any"
            assert any(
                line.split()[:2] == [row_id, engine_shown] and "not timed" in line for line in table
            ), (row_id, done.stdout)
    assert {path: path.stat().st_mtime_ns for path in written} == written


def _row(row_id: str, engine: str, figure: float, measured: str, source: str = "m") -> Row:
    return Row(row_id, "w", "m", figure, "≥ 0.3", figure >= 0.3, "d", engine, measured, source)


def test_a_later_run_replaces_only_its_own_rows(tmp_path: Path) -> None:
    store = tmp_path / "suite.json"
    store.write_text("[]")
    first = suite.merged(
        [_row("P6", "sqlite", 0.1, "2026-11-01"), _row("P4", "any", 1.0, "x")], store
    )
    store.write_text(json.dumps([asdict(row) for row in first]))
    later = suite.merged([_row("P6", "sqlite", 0.5, "2026-11-02")], store)
    assert [(r.id, r.engine, r.figure) for r in later] == [
        ("P4", "any", 1.0),
        ("P6", "sqlite", 0.5),
    ]


def test_one_row_measured_by_two_modules_keeps_both(tmp_path: Path) -> None:
    """P7 is a worker's memory under load (bench.throughput) and the import's (bench.import_bench):
    a run of one must not drop the other's figure."""
    store = tmp_path / "suite.json"
    worker = _row("P7", "sqlite", 120.0, "2026-11-01", "bench.throughput")
    store.write_text(json.dumps([asdict(worker)]))
    later = suite.merged([_row("P7", "sqlite", 150.0, "2026-11-02", "bench.import_bench")], store)
    assert sorted((r.source, r.figure) for r in later) == [
        ("bench.import_bench", 150.0),
        ("bench.throughput", 120.0),
    ]
    again = suite.merged([_row("P7", "sqlite", 110.0, "2026-11-03", "bench.throughput")], store)
    assert [(r.source, r.figure) for r in again] == [("bench.throughput", 110.0)]


def test_the_notes_keep_each_modules_note_for_a_shared_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, notes in {
        "bench_load": {"P1": "lookup", "P7": "a worker"},
        "bench_import": {"P7": "the import"},
    }.items():
        module = types.ModuleType(name)
        module.NOTES = notes  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(
        suite,
        "MODULES",
        (suite.Module("bench_load", ("P1", "P7")), suite.Module("bench_import", ("P7",))),
    )
    assert suite.notes() == [
        "- **P1.** lookup",
        "- **P7 (bench_import).** the import",
        "- **P7 (bench_load).** a worker",
    ]


def test_the_suite_writes_its_own_section_and_block(tmp_path: Path) -> None:
    rows = [_row("P6", "sqlite", 0.5, "2026-11-27"), _row("P10", "postgres", 0.1, "2026-11-27")]
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n<!-- other: start -->\nkept\n<!-- other: end -->\n")
    write_section(suite.results_section(rows, "python -m bench"), results, suite.START, suite.END)
    write_section(suite.results_section(rows[:1], "again"), results, suite.START, suite.END)
    text = results.read_text()
    assert "kept" in text
    assert text.count(suite.START) == 1
    assert "`again`" in text
    assert "P10" not in text
    readme = tmp_path / "README.md"
    readme.write_text(
        f"## Performance\n\n{suite.README_START}\nold\n{suite.README_END}\n\n## Next\n"
    )
    assert suite.write_readme(suite.readme_block(rows), readme)
    text = readme.read_text()
    assert "old" not in text
    assert "| P6 | w | m | sqlite | 0.50 | ≥ 0.3 | **pass** |" in text
    assert "| P10 | w | m | postgres | 0.10 | ≥ 0.3 | **FAIL** |" in text
    assert text.index("P6") < text.index("P10") < text.index("## Next")
