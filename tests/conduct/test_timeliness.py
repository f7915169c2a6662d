"""Timeliness figures, live: weeks from receipt to each decision per quarter (median and 90th
percentile), and the open caseload by age band, as JSON and CSV."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from registry.accounts import users
from registry.accounts.roles import Role
from registry.conduct import timeliness, workflow
from registry.conduct.tables import Stage
from registry.conduct.workflow import Move, MoveIn
from tests.accounts.helpers import sign_in
from tests.conduct.helpers import case_at, days, new_case, people


def test_percentiles_are_nearest_rank() -> None:
    assert timeliness.percentile([1, 2, 3, 4], 0.5) == 2
    assert timeliness.percentile([5], 0.9) == 5
    assert timeliness.percentile(list(range(1, 11)), 0.9) == 9


async def test_weeks_to_each_decision_per_quarter_and_the_open_caseload(
    client: httpx.AsyncClient, engine: Any, advance: Callable[[timedelta], None]
) -> None:
    who = await people()
    triaged = await case_at(Stage.triage, who)
    advance(days(14))  # two weeks after receipt: closed at triage
    case = await workflow.get_case(triaged)
    await workflow.perform(
        triaged,
        Move.close_no_further_action,
        by=who.caseworker,
        version=case.version,
        data=MoveIn(reason="Nothing in it"),
    )
    await new_case(who)  # opened two weeks after the first, still open
    advance(days(30 * 7))  # thirty weeks later
    figures = await timeliness.figures()
    by_measure = {(f.quarter, f.measure): f for f in figures.quarters}
    triage = by_measure[("2027-Q1", "triage")]
    assert (triage.cases, triage.median_weeks, triage.p90_weeks) == (1, 2.0, 2.0)
    assert by_measure[("2027-Q1", "final")].median_weeks == 2.0
    assert [(band.label, band.open_cases) for band in figures.caseload] == [
        ("0 to 26 weeks", 0),
        ("26 to 52 weeks", 1),
        ("52 to 104 weeks", 0),
        ("Over 104 weeks", 0),
    ]
    staff = await sign_in(await users.create_user("t@example.org", "T", [Role.caseworker]))
    answer = await client.get("/api/v1/conduct/timeliness", headers=staff.bearer())
    assert answer.status_code == 200
    assert answer.json()["caseload"][1]["open_cases"] == 1
    csv = await client.get("/api/v1/conduct/timeliness/csv", headers=staff.bearer())
    assert csv.headers["content-type"].startswith("text/csv")
    assert "2027-Q1,triage,1,2.0,2.0" in csv.text
