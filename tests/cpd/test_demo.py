"""The demo CPD records: the demo practitioner's log shows a met year and one under way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.progress import Progress

from registry.accounts.roles import Role
from registry.core import clock
from registry.cpd import progress
from registry.cpd.demo import seed_demo_cpd
from registry.cpd.tables import Activity
from registry.demo import DemoSummary
from registry.register import demo
from tests.accounts.helpers import make_user
from tests.cpd.helpers import CALENDAR

TODAY = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


async def test_the_demo_log_is_seeded_once_with_a_year_met(engine: Any) -> None:
    priya = await make_user(Role.practitioner, demo.DEMO_PRACTITIONER_EMAIL)
    summary = DemoSummary()
    with clock.frozen_at(TODAY):
        await demo.seed_register(summary, Progress(disable=True), 40)
        await seed_demo_cpd(summary, Progress(disable=True))
        logged = summary.counts["CPD activities"]
        assert logged == await Activity.count()
        assert logged > 10
        years = await progress.progress(priya.id, CALENDAR)
        assert years[0].activities == 4
        assert not years[0].met
        assert years[1].met
        again = DemoSummary()
        await seed_demo_cpd(again, Progress(disable=True))
    assert again.counts["CPD activities"] == logged
    assert await Activity.count() == logged
