"""The demo organisation watches one entry of each status and the demo practitioner's, so a
newcomer signed in as the demo employer sees a watchlist; run again, it adds nothing."""

from __future__ import annotations

from typing import Any

from rich.progress import Progress

from registry.accounts import users
from registry.accounts.roles import Role
from registry.demo import DemoSummary
from registry.employers.demo import DEMO_EMPLOYER_EMAIL, seed_demo_employers
from registry.employers.tables import Watch
from registry.register.demo import DEMO_PRACTITIONER_EMAIL
from registry.register.tables import RegisterEntry, RegisterStatus
from tests.register.helpers import put_on_register


async def test_the_demo_organisation_watches_an_entry_of_each_status(engine: Any) -> None:
    await users.create_user(DEMO_EMPLOYER_EMAIL, "Evan Employer", [Role.employer])
    first = await put_on_register("Ann", "Able")
    await put_on_register("Ben", "Able")  # a second registered entry: not watched
    lapsed = await put_on_register("Cat", "Able")
    await RegisterEntry.update({RegisterEntry.status: RegisterStatus.lapsed.value}).where(
        RegisterEntry.id == lapsed.id
    )
    # a later registered entry, watched as the demo practitioner's (the helper's email is theirs)
    priya = await put_on_register("Priya", "Practitioner")
    assert DEMO_PRACTITIONER_EMAIL == "priya.practitioner@example.org"
    summary = DemoSummary()
    with Progress(disable=True) as progress:
        await seed_demo_employers(summary, progress)
        watched = {row["registration_number"] for row in await Watch.select()}
        assert watched == {
            first.registration_number,
            lapsed.registration_number,
            priya.registration_number,
        }
        await seed_demo_employers(summary, progress)
    assert await Watch.count() == 3
