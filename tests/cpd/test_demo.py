"""The demo CPD records: the demo practitioner's log shows a met year and one under way."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from rich.progress import Progress

from registry.accounts.roles import Role
from registry.core import clock
from registry.cpd import progress, sampling
from registry.cpd.demo import seed_demo_cpd
from registry.cpd.tables import Activity, AuditCase
from registry.demo import DemoSummary
from registry.register import demo
from registry.register.tables import Renewal
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


async def test_the_demo_draws_last_years_audit_sample_with_profiles_to_assess(engine: Any) -> None:
    priya = await make_user(Role.practitioner, demo.DEMO_PRACTITIONER_EMAIL)
    with clock.frozen_at(TODAY):
        await demo.seed_register(DemoSummary(), Progress(disable=True), 300)
        await seed_demo_cpd(DemoSummary(), Progress(disable=True))
        sample = await sampling.get_sample(2025)
        assert sample is not None
        assert sample.seed == "demo"
        # Those who renewed for 2025 and had been on the register two years by its deadline.
        renewed = {row["entry"] for row in await Renewal.select(Renewal.entry)}
        assert set(sample.eligible) <= renewed
        assert sample.eligible == await sampling.eligible_entries(2025, CALENDAR)
        assert len(sample.chosen) == math.ceil(len(sample.eligible) * 0.025) > 0
        states = [row["state"] for row in await AuditCase.select(AuditCase.state)]
        assert sorted(states) == sorted(
            ["submitted"] * 2 + ["awaiting_profile"] * (len(sample.chosen) - 2)
        )
        # Priya renewed for 2025, so that year's CPD is declared: changes need a reason.
        years = await progress.progress(priya.id, CALENDAR)
        assert years[1].registration_year == 2025
        assert years[1].declared
