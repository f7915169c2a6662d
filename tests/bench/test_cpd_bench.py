"""bench/cpd_bench.py: what it writes into RESULTS.md, how a suite calls it, and the API write
path it drove (the answer to logging an activity is built from what was written, not read back,
so it must be exactly what reading it back gives).

Not timed: the quick mode serves the application and runs wrk (tens of seconds on a shared
machine), too slow for the test suite; these check its parts instead.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import httpx

from registry.core import clock
from tests.cpd.helpers import practitioner_with_record

ACTIVITIES = "/api/v1/me/cpd/activities"
# Imported by name: mypy checks registry/ and tests/, not the benchmark scripts it would follow.
cpd_bench: Any = importlib.import_module("bench.cpd_bench")


def _run(endpoint: str, rps: float) -> Any:
    return cpd_bench.WrkRun(endpoint, 6.0, rps, 1.0, 2.0, 0, 1.0, 0.1, 2.0)


def _result(write: float, large: float, concern: float = 400.0) -> Any:
    rates = {
        "bare": 5000.0,
        "write": write,
        "concern": concern,
        "progress small": 300.0,
        "progress large": large,
        "dashboard small": 200.0,
        "dashboard large": 50.0,
    }
    runs = [_run(endpoint, rate) for endpoint, rate in rates.items()]
    return cpd_bench.EngineResult("sqlite", {"small": [1.0], "large": [1.5]}, runs, 42)


META: dict[str, Any] = {
    "started": "2026-11-27 22:00",
    "elapsed": "1 minute",
    "command": "bench/cpd_bench.py",
    "cpus": "2",
    "cpu": "test",
    "python": "3.11",
    "machine busy": "50%",
    "load average": "1 1 1",
    "notes": ["A note."],
}


def test_quick_mode_is_small_and_leaves_results_alone() -> None:
    args = cpd_bench.parse_args(["--quick"])
    assert (args.rounds, args.large, args.small) == (1, 50, 10)
    assert cpd_bench.parse_args([]).large == 1000


def test_the_section_says_pass_or_fail_against_each_target(tmp_path: Path) -> None:
    args = cpd_bench.parse_args([])
    passing = cpd_bench.section([_result(write=600.0, large=150.0)], META, args)
    assert passing.startswith(cpd_bench.START)
    assert passing.rstrip().endswith(cpd_bench.END)
    assert "| sqlite | 2.00 (300 ÷ 150 req/s) **pass** |" in passing
    assert "0.120 (600 ÷ 5,000 req/s) **pass** |" in passing
    assert "| 0.120 (0.20 ÷ 1.67 ms of server CPU a request) |" in passing
    assert "| 0.080 (400 ÷ 5,000 req/s) **fail** |" in passing  # raising a concern
    failing = cpd_bench.section([_result(write=100.0, large=60.0, concern=550.0)], META, args)
    assert "5.00 (300 ÷ 60 req/s) **fail**" in failing
    assert "0.020 (100 ÷ 5,000 req/s) **fail**" in failing
    assert "| 0.110 (550 ÷ 5,000 req/s) **pass** |" in failing
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\nOther sections stay.\n")
    cpd_bench.write_section(passing, results, cpd_bench.START, cpd_bench.END)
    cpd_bench.write_section(failing, results, cpd_bench.START, cpd_bench.END)
    text = results.read_text()
    assert text.count(cpd_bench.START) == 1
    assert "Other sections stay." in text
    assert "**fail**" in text
    assert "0.120" not in text


async def test_logging_an_activity_answers_what_reading_it_back_gives(
    client: httpx.AsyncClient,
) -> None:
    person = await practitioner_with_record("bench@example.org")
    body = {
        "title": "  Desistance reading  ",
        "done_on": clock.now().date().isoformat(),
        "hours": "1.75",
        "activity_type": "reading_research",
        "participatory": True,
        # listed out of their sort order, and one twice: the answer lists them as a read does
        "practice_areas": ["ethics", "risk_assessment", "ethics"],
        "standards": ["written_profile", "continuous_record"],
        "what_happened": "Read it.",
        "what_learned": "Much.",
        "practice_changed": "Some.",
        "peer_reflection": True,
        "peer_role": "Senior probation officer",
    }
    made = await client.post(ACTIVITIES, json=body, headers=person.bearer())
    assert made.status_code == 201, made.text
    read = await client.get(f"{ACTIVITIES}/{made.json()['id']}", headers=person.bearer())
    assert made.json() == read.json()
    assert made.json()["practice_areas"] == ["risk_assessment", "ethics"]
