"""The demo register: believable practitioners in every region and role, seeded once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from rich.progress import Progress

from registry.accounts.roles import Role
from registry.core import clock
from registry.demo import DemoSummary
from registry.domains import DOMAINS
from registry.register import demo, service
from registry.register.schemas import PublicEntry
from registry.register.tables import RegisterEntry
from tests.accounts.helpers import make_user

COUNT = 200
TODAY = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)  # inside the renewal window


async def _public_entries() -> list[PublicEntry]:
    rows = await RegisterEntry.select(RegisterEntry.public_document)
    return [PublicEntry.model_validate_json(row["public_document"]) for row in rows]


async def test_the_demo_register_covers_every_region_and_role_and_is_seeded_once(
    engine: Any,
) -> None:
    priya = await make_user(Role.practitioner, demo.DEMO_PRACTITIONER_EMAIL)
    summary = DemoSummary()
    progress = Progress(disable=True)
    with clock.frozen_at(TODAY):
        added = await demo.seed_register(summary, progress, COUNT)
    assert added == COUNT
    assert summary.counts["register entries"] == COUNT
    assert progress.tasks[0].completed == COUNT

    entries = await _public_entries()
    reference = await service.reference_data()
    assert {e.region.code for e in entries} == set(reference.regions)
    assert {role.code for e in entries for role in e.roles} == set(reference.roles)
    statuses = Counter(e.status.value for e in entries)
    assert statuses["registered"] > COUNT * 0.8
    assert statuses["lapsed"] + statuses["removed"] + statuses["voluntarily_removed"] > 0
    registered = [e for e in entries if e.status.value == "registered"]
    next_deadline = sum(e.registered_until == date(2026, 11, 30) for e in registered)
    assert next_deadline > len(registered) / 2  # most have still to renew
    assert all(e.registered_until <= date(2027, 11, 30) for e in entries)
    assert all(e.registered_since <= TODAY.date() for e in entries)
    assert sum(bool(e.qualifications) for e in entries) > COUNT / 2

    linked = await RegisterEntry.select(RegisterEntry.id).where(
        RegisterEntry.practitioner.account == priya.id
    )
    assert len(linked) == 1
    mine = await service.get_entry(linked[0]["id"])
    assert mine.public.name == priya.display_name

    again = DemoSummary()
    assert await demo.seed_register(again, Progress(disable=True), COUNT) == 0
    assert again.counts["register entries"] == COUNT
    assert await RegisterEntry.count() == COUNT


async def test_the_same_people_every_time(engine: Any) -> None:
    reference = await service.reference_data()
    first = demo.demo_entries(50, TODAY.date(), reference)
    assert first == demo.demo_entries(50, TODAY.date(), reference)
    assert len({(e.person.given_names, e.person.family_name) for e in first}) > 45


def test_the_register_seeder_runs_after_the_accounts_one() -> None:
    names = [domain.name for domain in DOMAINS if domain.demo_seeders]
    assert names.index("register") > names.index("accounts")
