"""Every year of a record at once (the dashboard, the API) is the same as each year asked alone,
across a pack change, an exemption spanning two years and years with nothing logged, and costs
the same few queries however many activities and years there are."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from registry.accounts.roles import Role
from registry.core import clock
from registry.cpd import activities, exemptions, packs, progress
from registry.cpd.schemas import ExemptionIn, RulePackIn
from tests.accounts.helpers import user_signed_in_as
from tests.cpd.helpers import CALENDAR, log, practitioner_with_record

LATER = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def _facts(year: progress.YearProgress) -> tuple[Any, ...]:
    return (
        year.registration_year,
        year.starts_on,
        year.ends_on,
        year.pack.id,
        year.activities,
        year.logged_quarters,
        year.declared,
        year.current,
        year.exempt_days,
        [(rule.rule, rule.figure, rule.target) for rule in year.rules],
    )


async def test_every_year_at_once_is_each_year_alone(engine: Any) -> None:
    person = await practitioner_with_record()
    registrar = await user_signed_in_as(Role.registrar, "reg@example.org")
    capped = RulePackIn.model_validate(
        {
            "name": "Reading capped",
            "effective_from": date(2027, 3, 16),
            "min_total_hours": "35",
            "min_participatory_hours": "10",
            "min_reflective_accounts": 2,
            "min_peer_reflections": 1,
            "min_practice_areas": 3,
            "capped_type": "reading_research",
            "cap_hours": "5",
        }
    )
    new_pack = await packs.create_pack(capped, by_user_id=None)
    asked = await exemptions.request(
        person.account.id,
        ExemptionIn.model_validate(
            {"kind": "parental_leave", "starts_on": date(2025, 10, 1), "ends_on": date(2026, 2, 1)}
        ),
    )
    await exemptions.decide(asked.id, grant=True, reason="", by_user_id=registrar.account.id)
    for day, hours, kind, area in (
        (date(2021, 6, 1), "3", "formal_course", "ethics"),
        (date(2025, 11, 30), "2", "reading_research", "victims"),  # the last day of 2025's year
        (date(2025, 12, 1), "1.5", "reading_research", "victims"),  # the first of 2026's
        (date(2027, 1, 10), "4", "reading_research", "risk_assessment"),
    ):
        await log(
            person, done_on=day, hours=Decimal(hours), activity_type=kind, practice_areas=[area]
        )
    with clock.frozen_at(LATER):  # after the new pack: reading over 5 hours counts 5
        for number in range(3):
            await log(
                person,
                title=f"Reading {number}",
                done_on=date(2027, 5, 1 + number),
                hours=Decimal(3),
                activity_type="reading_research",
                practice_areas=["desistance", "ethics"],
                what_happened="A",
                what_learned="B",
                practice_changed="C",
            )
        every = await progress.progress(person.account.id, CALENDAR)
        owner = await activities.owner_of(person.account.id)
        alone = [
            await progress.year_progress(owner, year.registration_year, CALENDAR) for year in every
        ]
    assert [_facts(year) for year in every] == [_facts(year) for year in alone]
    assert [year.registration_year for year in every][:3] == [2027, 2026, 2025]
    this_year = every[0]
    assert this_year.pack.id == new_pack.id
    # 4 h under the old pack, 9 h of reading under the new one capped at 5: 9 hours count.
    assert (this_year.logged_quarters, this_year.rules[0].figure) == (52, Decimal(9))
    assert (every[1].exempt_days, every[2].exempt_days) == (63, 61)
    assert (every[1].activities, every[2].activities) == (1, 1)
    assert every[-1].registration_year == 2020
