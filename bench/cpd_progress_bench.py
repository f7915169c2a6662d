"""How the cost of CPD progress grows with a practitioner's log (issue 14's first target).

Makes a fresh database (SQLite in a temporary folder, or the empty PostgreSQL database named by
``--postgres-url``), puts two practitioners on the register, logs 10 activities for one and
1,000 for the other through the service's own rules, then times a year's progress for each,
alternately, in one process: the service call, and ``GET /api/v1/me/cpd/progress?year=`` with
the practitioner's token through the whole application (in process, no network; its request
log goes to standard error). It prints the medians and their ratios (target: at most 3).

    .venv/bin/python bench/cpd_progress_bench.py                 # SQLite
    .venv/bin/python bench/cpd_progress_bench.py --postgres-url postgresql://…/empty_db

Progress is one aggregate query per year, so the 1,000-activity figure should stay close to
the 10-activity one. On a shared machine the medians move run to run; the ratio, taken within
one run, is the figure to read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-secret-key-that-is-long-enough-to-use"
ROUNDS = 200


async def _practitioner(given: str, count: int, today: date) -> tuple[Any, str]:
    from registry.accounts import tokens, users
    from registry.accounts.roles import Role
    from registry.cpd import activities
    from registry.cpd.activities import Owner
    from registry.cpd.schemas import ActivityIn
    from registry.register import service
    from registry.register.renewals import RenewalCalendar

    account = await users.create_user(
        f"{given.lower()}@bench.example", f"{given} Bench", [Role.practitioner], None
    )
    _, token = await tokens.issue_api_token(account.id, "bench")
    entry = await service.create_entry(
        service.EntryIn(
            person=service.PersonIn(given, "Bench", date(1980, 1, 1)),
            role_codes=("probation_officer",),
            region_code="london",
            registered_since=date(2015, 1, 1),
            registered_until=date(today.year + 1, 11, 30),
            account_id=account.id,
        ),
        reason="Benchmark",
    )
    owner = Owner(0, entry.practitioner_id, entry.id, date(2015, 1, 1))
    calendar = RenewalCalendar()
    first, _ = activities.year_bounds(activities.registration_year(today, calendar), calendar)
    areas = ["risk_assessment", "ethics", "victims", "desistance"]
    for number in range(count):
        data = ActivityIn.model_validate(
            {
                "title": f"Activity {number}",
                "done_on": first + timedelta(days=number % max(1, (today - first).days + 1)),
                "hours": Decimal(number % 8 + 1) / 4,
                "activity_type": "reading_research" if number % 3 else "formal_course",
                "participatory": number % 2 == 0,
                "practice_areas": [areas[number % 4]],
                "what_happened": "A" if number % 5 == 0 else "",
                "what_learned": "B",
                "practice_changed": "C",
            }
        )
        await activities.record_for(owner, data, calendar)
    return owner, token


async def run(url: str, data_dir: Path) -> dict[str, float]:
    import httpx

    from registry.app import create_app
    from registry.config import Settings
    from registry.core import clock
    from registry.cpd import activities, progress
    from registry.db import bind_engine, create_engine, migrate
    from registry.register.renewals import RenewalCalendar

    settings = Settings(database_url=url, data_dir=data_dir, secret_key=SECRET, environment="test")
    engine = create_engine(settings)
    await engine.start()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates every step
            await migrate(engine)
        bind_engine(engine)
        today = clock.now().date()
        small, small_token = await _practitioner("Ten", 10, today)
        large, large_token = await _practitioner("Thousand", 1000, today)
        calendar = RenewalCalendar()
        year = activities.registration_year(today, calendar)
        timings: dict[str, list[float]] = {"10": [], "1000": [], "api 10": [], "api 1000": []}
        for _ in range(ROUNDS):
            for label, owner in (("10", small), ("1000", large)):
                started = time.perf_counter()
                await progress.year_progress(owner, year, calendar, declared=set())
                timings[label].append(time.perf_counter() - started)
        app = create_app(settings)
        bind_engine(engine)  # the application's own engine is never started here
        transport = httpx.ASGITransport(app=cast(Any, app))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for _ in range(ROUNDS):
                for label, token in (("api 10", small_token), ("api 1000", large_token)):
                    started = time.perf_counter()
                    answer = await client.get(
                        "/api/v1/me/cpd/progress",
                        params={"year": year},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    timings[label].append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text
    finally:
        await engine.stop()
    return {label: statistics.median(values) * 1000 for label, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        medians = asyncio.run(run(url, Path(folder)))
    engine = "postgres" if args.postgres_url else "sqlite"
    for what, small, large in (("service", "10", "1000"), ("API", "api 10", "api 1000")):
        print(
            f"{engine} {what}: progress with 10 activities {medians[small]:.2f} ms, with 1,000"
            f" {medians[large]:.2f} ms (medians of {ROUNDS});"
            f" ratio {medians[large] / medians[small]:.2f} (target at most 3)"
        )


if __name__ == "__main__":
    main()
