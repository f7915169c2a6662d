"""The demo's cases: one at every stage, a suspended entry, one with conditions and one with a
warning, each with its published decision; run again, it adds nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.progress import Progress

from registry.accounts import users
from registry.accounts.demo import DEMO_PEOPLE
from registry.accounts.roles import Role
from registry.conduct import publication
from registry.conduct.demo import seed_demo_conduct
from registry.conduct.tables import Case, Stage
from registry.demo import DemoSummary
from registry.register.tables import RegisterEntry, RegisterStatus
from tests.register.helpers import put_on_register


async def test_the_demo_shows_every_stage_and_orders_on_the_public_register(engine: Any) -> None:
    for role, email, name in DEMO_PEOPLE:
        if role in (Role.caseworker, Role.case_examiner, Role.adjudicator):
            await users.create_user(email, name, [role])
    for n in range(len(Stage) + 3):
        await put_on_register("Demo", f"Person{chr(65 + n)}")
    summary = DemoSummary()
    with Progress(disable=True) as progress:
        await seed_demo_conduct(summary, progress)
        stages = Counter(row["stage"] for row in await Case.select(Case.stage))
        assert set(stages) == {stage.value for stage in Stage}
        statuses = Counter(
            row["status"] for row in await RegisterEntry.select(RegisterEntry.status)
        )
        assert statuses[RegisterStatus.suspended.value] == 1
        # conditions: the demo entry with conditions, and cases at decided, in force, review
        assert statuses[RegisterStatus.registered_with_conditions.value] == 4
        published = {
            decision.sanction.kind.value
            for row in await RegisterEntry.select(RegisterEntry.registration_number)
            for decision in (await publication.decisions(row["registration_number"]))[1]
        }
        assert published == {"suspension", "conditions", "warning"}
        hearings = await publication.hearings()
        assert len(hearings) == 1
        made = await Case.count()
        await seed_demo_conduct(summary, progress)
        assert await Case.count() == made
        assert summary.counts["fitness to practise cases"] == made
